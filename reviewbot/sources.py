"""Where a review's diff and file contents come from.

A :class:`ReviewSource` is what an entry point hands the engine: the diff text, a reader for
the new ("head") version of files, and a label saying what was reviewed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, TextIO

from reviewbot.errors import GitError, ReviewbotError
from reviewbot.gitio import Git

MAX_FILE_BYTES = 2_000_000
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
"""git's empty tree: the base to diff against when there is no commit to start from."""


class FileReader(Protocol):
    """Reads the head version of a file; None when it is unavailable."""

    def read(self, path: str) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class WorkingTreeReader:
    root: Path

    def read(self, path: str) -> bytes | None:
        p = (self.root / path).resolve()
        try:
            p.relative_to(self.root.resolve())
        except ValueError:
            return None  # never read outside the repository
        try:
            if not p.is_file() or p.stat().st_size > MAX_FILE_BYTES:
                return None
            return p.read_bytes()
        except OSError:
            return None


@dataclass(frozen=True, slots=True)
class GitObjectReader:
    git: Git
    rev: str
    """A commit, or ":" + "" for the index (``git show :path``)."""
    trusted_ids: bool = False
    """The diff reviewed with this reader was made by this repository's git, from
    :attr:`rev`: the blob ids in its ``index`` lines name the head files."""
    early: Mapping[str, bytes] = field(default_factory=dict)
    """``rev:path`` of files already read (see :func:`read_heads`)."""

    def read(self, path: str) -> bytes | None:
        if path in self.early:
            return self.early[path]
        data = self.git.show(self.rev, path)
        return data if data is None or len(data) <= MAX_FILE_BYTES else None

    def read_many(
        self, paths: Sequence[str], blobs: Mapping[str, str] | None = None
    ) -> dict[str, bytes | None]:
        """Many files at once (two git processes instead of one per file). ``blobs``: the
        blob ids the diff of :attr:`rev` gave, used only when :attr:`trusted_ids` says that
        diff came from this repository's git."""
        have: dict[str, bytes | None] = {p: self.early[p] for p in paths if p in self.early}
        todo = [p for p in paths if p not in have]
        if not todo:
            return have
        known = blobs if self.trusted_ids else None
        found = self.git.read_blobs(self.rev, todo, MAX_FILE_BYTES, known)
        rest = [p for p in todo if p not in found]  # names git's batch input cannot hold
        return {**have, **found, **{p: self.read(p) for p in rest}}


EARLY_BYTES = 64 * 1024 * 1024
"""At most this much of the head files is read while git looks for renames."""
_REGULAR = frozenset({"100644", "100755"})


def read_heads(git: Git, base: str, head: str, tail: Sequence[str]) -> dict[str, bytes]:
    """The head files of the regular files ``base..head`` adds, modifies or retypes (as
    ``git diff --no-renames`` lists them: a renamed file is added at its new path), read by
    blob id, up to :data:`EARLY_BYTES` in all. Run while ``git diff -M`` looks for renames,
    which takes seconds on one core for a change of thousands of files, this puts the
    other core to work on what the review reads next. Files the review then skips cost a
    read, never a result: each answer is ``head:path``, whatever the diff says."""
    listed = git.run(
        ["diff", "--raw", "-z", "--no-renames", "--no-abbrev", base, head, *tail], check=False
    )
    fields = listed.decode("utf-8", "surrogateescape").split("\0")
    blobs: dict[str, str] = {}
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.split(" ")
        if len(parts) == 5 and parts[4][:1] in "AMT" and parts[1] in _REGULAR:
            blobs[path] = parts[3]
    if not blobs:
        return {}
    found = git.read_blobs(head, list(blobs), MAX_FILE_BYTES, blobs, max_total=EARLY_BYTES)
    return {p: data for p, data in found.items() if data is not None}


@dataclass(frozen=True, slots=True)
class MappingReader:
    files: Mapping[str, bytes]

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)


@dataclass(frozen=True, slots=True)
class NullReader:
    def read(self, path: str) -> bytes | None:
        return None


@dataclass(slots=True)
class CachingReader:
    """Memoises another reader (a file is read once for context, checks and tests)."""

    inner: FileReader
    _cache: dict[str, bytes | None] = field(default_factory=dict)

    def read(self, path: str) -> bytes | None:
        if path not in self._cache:
            self._cache[path] = self.inner.read(path)
        return self._cache[path]

    def prefetch(self, paths: Sequence[str], blobs: Mapping[str, str] | None = None) -> None:
        """Read ``paths`` in one batch when the inner reader can (git objects); ``blobs``:
        their blob ids, as the diff gives them."""
        read_many = getattr(self.inner, "read_many", None)
        todo = [p for p in paths if p not in self._cache]
        if read_many is not None and len(todo) > 1:
            self._cache.update(read_many(todo, blobs))


@dataclass(frozen=True, slots=True)
class ReviewSource:
    diff: bytes
    reader: FileReader
    label: str
    head_sha: str | None = None
    base_sha: str | None = None


def git_source(
    root: Path,
    *,
    rev: str | None = None,
    staged: bool = False,
    paths: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    index_file: str | None = None,
    untracked: bool = False,
) -> ReviewSource:
    """Working tree vs HEAD (default), the index (``staged``), or ``A..B`` / ``A...B`` / REV.

    ``index_file``: an absolute index path to read instead of ``.git/index`` (hooks).
    ``untracked``: working-tree reviews include files git does not track yet (not ignored)
    as new files, as ``git add -N`` would show them; the real index is never written."""
    git = Git(root, env, index_file)
    tail = ["--", *paths] if paths else []
    if untracked and not staged and (not rev or ".." not in rev):
        with _with_untracked(git, tail) as (work_git, count):
            source = git_source(root, rev=rev, paths=paths, env=env, index_file=work_git.index_file)
        if count:
            source = replace(
                source, label=f"{source.label} (+{count} untracked file{'s' if count != 1 else ''})"
            )
        return source
    if staged:
        base = ["--cached"] if git.has_head() else ["--cached", EMPTY_TREE]
        return ReviewSource(git.diff([*base, *tail]), GitObjectReader(git, ""), "staged changes")
    if rev:
        return _revision_source(git, root, rev, tail)
    if not git.has_head():
        return ReviewSource(
            git.diff([EMPTY_TREE, *tail]), WorkingTreeReader(root), "working tree (no commits yet)"
        )
    return ReviewSource(
        git.diff(["HEAD", *tail]),
        WorkingTreeReader(root),
        "working tree vs HEAD",
        None,
        _resolve(git, "HEAD"),
    )


def _revision_source(git: Git, root: Path, rev: str, tail: list[str]) -> ReviewSource:
    """``A...B`` (from the merge base), ``A..B`` (tree to tree) or REV (vs the working
    tree)."""
    if "..." in rev:
        a, b = rev.split("...", 1)
        b = b or "HEAD"
        head = _resolve(git, b)
        merge_base = git.run(["merge-base", _resolve(git, a or "HEAD"), head], check=False)
        base_sha = merge_base.decode().strip()
        if not base_sha:  # a GitError: callers (the pre-push hook) fall back to A..B
            raise GitError(
                f"{a or 'HEAD'} and {b} have no common ancestor, so {rev} is empty",
                hint=f"compare the two trees directly: reviewbot diff {a or 'HEAD'}..{b}",
            )
        return _tree_source(git, base_sha, head, tail, f"{a}...{b}")
    if ".." in rev:
        a, b = rev.split("..", 1)
        b = b or "HEAD"
        head = _resolve(git, b)
        base_sha = _resolve(git, a or "HEAD")
        return _tree_source(git, base_sha, head, tail, f"{a}..{b}")
    base_sha = _resolve(git, rev)
    return ReviewSource(
        git.diff([base_sha, *tail]),
        WorkingTreeReader(root),
        f"working tree vs {rev}",
        None,
        base_sha,
    )


def _tree_source(git: Git, base: str, head: str, tail: list[str], label: str) -> ReviewSource:
    """Commit against commit: the diff, and the head files read meanwhile."""
    with git.diff_started([base, head, *tail]) as pending:
        early = read_heads(git, base, head, tail)
        diff = pending.result()
    return ReviewSource(
        diff, GitObjectReader(git, head, trusted_ids=True, early=early), label, head, base
    )


MAX_UNTRACKED = 2000
"""More untracked files than this are a build tree or a missing .gitignore: not reviewed."""


@contextlib.contextmanager
def _with_untracked(git: Git, tail: list[str]) -> Iterator[tuple[Git, int]]:
    """A copy of the index with the untracked files added as intent-to-add entries."""
    listed = git.run(["ls-files", "--others", "--exclude-standard", "-z", *tail])
    files = [p for p in listed.decode("utf-8", "surrogateescape").split("\0") if p]
    if not files or len(files) > MAX_UNTRACKED:
        yield git, 0
        return
    index = (
        git.index_file
        or git.run(["rev-parse", "--path-format=absolute", "--git-path", "index"]).decode().strip()
    )
    with tempfile.TemporaryDirectory(prefix="reviewbot-index-") as tmp:
        copy = os.path.join(tmp, "index")
        if os.path.exists(index):
            shutil.copyfile(index, copy)
        temp = Git(git.root, git.env, copy)
        data = "".join(f + "\0" for f in files).encode("utf-8", "surrogateescape")
        temp.run(
            ["add", "--intent-to-add", "--pathspec-from-file=-", "--pathspec-file-nul"], input=data
        )
        yield temp, len(files)


def _resolve(git: Git, rev: str) -> str:
    try:
        return git.rev_parse(rev)
    except GitError:
        raise ReviewbotError(
            f"unknown revision {rev!r}", hint="use a branch, tag or commit that exists here"
        ) from None


def patch_source(data: bytes, label: str, reader: FileReader | None = None) -> ReviewSource:
    return ReviewSource(data, reader or NullReader(), label)


def read_patch(name: str, stdin: TextIO) -> tuple[bytes, str]:
    """A patch file's bytes and its label; ``-`` reads standard input (not a terminal)."""
    if name != "-":
        try:
            return Path(name).read_bytes(), f"patch {name}"
        except OSError as exc:
            raise ReviewbotError(f"cannot read patch file {name}: {exc.strerror}") from exc
    if getattr(stdin, "isatty", lambda: False)():
        raise ReviewbotError(
            "--patch - reads a diff from standard input, which is a terminal here",
            hint="pipe a diff in: git diff | reviewbot diff --patch -",
        )
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return buffer.read(), "patch from stdin"
    return stdin.read().encode("utf-8", "surrogateescape"), "patch from stdin"


ReaderFactory = Callable[[str], FileReader]
