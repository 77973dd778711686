"""Which changed files are reviewed, and the reason when one is not."""

from __future__ import annotations

import fnmatch
import re

from reviewbot.diff.model import FileDiff, FileStatus

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "Cargo.lock",
        "go.sum",
        "composer.lock",
        "Gemfile.lock",
        "mix.lock",
        "pubspec.lock",
        "packages.lock.json",
        "flake.lock",
    }
)
VENDOR_DIRS = frozenset(
    {
        "vendor",
        "node_modules",
        "third_party",
        "third-party",
        "external",
        "site-packages",
        ".venv",
        "bower_components",
    }
)
GENERATED_GLOBS = (
    "*.min.js",
    "*.min.css",
    "*_pb2.py",
    "*_pb2_grpc.py",
    "*.pb.go",
    "*.pb.cc",
    "*.pb.h",
    "*.generated.*",
    "*.g.dart",
    "*.designer.cs",
    "*.map",
)
SUBMODULE_MODE = "160000"
"""A gitlink: the "file" is another repository's commit id."""
SYMLINK_MODE = "120000"
"""A symbolic link: the "content" is the target path."""
_GENERATED_MARK = re.compile(
    rb"@generated|DO NOT EDIT|Code generated .* DO NOT EDIT|auto-?generated", re.IGNORECASE
)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + "(?:/.*)?")


def _parts(path: str) -> list[str]:
    """``PurePosixPath(path).parts`` without building the path (a diff path is relative:
    no root part)."""
    return [p for p in path.split("/") if p and p != "."]


def match_glob(path: str, pattern: str) -> bool:
    """gitignore-like: a pattern without '/' matches a name at any depth; '**' spans dirs;
    a pattern naming a directory matches everything below it."""
    pattern = pattern.strip()
    if not pattern:
        return False
    if "/" not in pattern.rstrip("/"):
        name = pattern.rstrip("/")
        return any(fnmatch.fnmatchcase(part, name) for part in _parts(path))
    return _glob_regex(pattern.lstrip("/").rstrip("/")).fullmatch(path) is not None


def skip_reason(
    fd: FileDiff,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    head: bytes | None = None,
) -> str | None:
    """Why ``fd`` is not reviewed, or None when it is."""
    path = fd.path
    by_config = path_skip_reason(path, include, exclude)
    if by_config is not None:
        return by_config
    if SUBMODULE_MODE in (fd.old_mode, fd.new_mode):
        return "submodule"
    if fd.new_mode == SYMLINK_MODE or (fd.new_path is None and fd.old_mode == SYMLINK_MODE):
        return "symlink"
    if fd.is_binary:
        return "binary"
    if fd.status is FileStatus.DELETED:
        return "deleted file"
    by_name = name_skip_reason(path)
    if by_name is not None:
        return by_name
    if head is not None and _GENERATED_MARK.search(head[:1024]):
        return "generated"
    if fd.invalid_utf8:
        return "not UTF-8"
    if not fd.hunks:
        return "no content change"
    return None


def path_skip_reason(path: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> str | None:
    """Why the config's ``include`` / ``exclude`` globs leave ``path`` out, or None."""
    if include and not any(match_glob(path, g) for g in include):
        return "not included"
    if any(match_glob(path, g) for g in exclude):
        return "excluded"
    return None


def name_skip_reason(path: str) -> str | None:
    """The reasons :func:`skip_reason` finds in a path's names alone: a lock file, a
    vendored directory, a generated file's name."""
    *dirs, name = _parts(path) or [""]
    if name in LOCK_FILES:
        return "lock file"
    if any(part in VENDOR_DIRS for part in dirs):
        return "vendored"
    if any(fnmatch.fnmatchcase(name, g) for g in GENERATED_GLOBS):
        return "generated"
    return None


def head_skip_reason(head: bytes) -> str | None:
    """Why a file :func:`skip_reason` let through is not reviewed after all, from its head
    content: a generated-code marker, or a NUL byte (binary) near the start."""
    if _GENERATED_MARK.search(head[:1024]):
        return "generated"
    if b"\x00" in head[:8000]:
        return "binary"
    return None
