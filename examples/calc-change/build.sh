#!/bin/sh
# Build a git repository in $1: before/ committed, after/ in the working tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:?usage: build.sh DIR}
mkdir -p "$dest"
cp -R "$here/before/." "$dest/"
cd "$dest"
git init -q -b main
git add -A
git -c user.name=example -c user.email=example@example.com commit -q -m "calc: add and subtract"
cp -R "$here/after/." "$dest/"
echo "built $dest: 'reviewbot diff' there reviews the change"
