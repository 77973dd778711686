"""What the pre-commit / pre-push hook reviews: a :class:`~reviewbot.sources.ReviewSource`
chosen from git's and pre-commit's state, and the line that says which.

In this order (:func:`plan_review`):

1. ``PRE_COMMIT_FROM_REF`` / ``PRE_COMMIT_TO_REF`` set (pre-push, or ``pre-commit run
   --from-ref A --to-ref B``): the commits ``FROM..TO``, diffed from their merge base
   (``git diff FROM...TO``, the same file list pre-commit computes), so a rewritten remote
   branch does not show up as reverted lines. No merge base: ``git diff FROM TO``.
2. pre-push of a branch whose history the remote has none of (pre-commit then passes every
   file and no refs): the whole branch, from the empty tree to the pushed ref.
3. Otherwise the staged diff (``git diff --cached``), restricted to the filenames
   pre-commit passes. The index read is the one git hands the hook in ``GIT_INDEX_FILE``:
   ``git commit -a`` and ``git commit PATH`` build the commit in a temporary index, and
   ``.git/index`` does not hold those changes yet. Every other ``GIT_*`` variable is
   scrubbed (``reviewbot.gitio.scrubbed_env``).
4. Nothing staged for those files (``pre-commit run --all-files`` or ``--files``, where
   pre-commit stashes nothing): their uncommitted changes, working tree vs ``HEAD``.
5. Still nothing: no source, and a description saying so.

git is only read (diff, cat-file, rev-parse, merge-base, ls-files, with
GIT_OPTIONAL_LOCKS=0): the index and the working tree are never written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reviewbot.errors import GitError, ReviewbotError
from reviewbot.gitio import Git
from reviewbot.sources import EMPTY_TREE, GitObjectReader, ReviewSource, git_source


@dataclass(frozen=True, slots=True)
class Plan:
    """What the hook decided to review: a source and the line that says so (None: nothing)."""

    source: ReviewSource | None
    description: str


def hook_refs(
    from_flag: str | None, to_flag: str | None, env: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """FROM/TO from the flags, else from pre-commit's variables (new names, then legacy)."""
    from_ref = from_flag or env.get("PRE_COMMIT_FROM_REF") or env.get("PRE_COMMIT_ORIGIN")
    to_ref = to_flag or env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_SOURCE")
    if bool(from_ref) != bool(to_ref):
        raise ReviewbotError(
            "--from-ref and --to-ref go together",
            hint="pass both (or neither, to review the staged changes)",
        )
    return from_ref or None, to_ref or None


def to_pathspecs(filenames: Sequence[str], cwd: Path, root: Path) -> tuple[str, ...]:
    """Literal git pathspecs, relative to the repository root, for filenames relative to cwd.

    ``:(literal)`` keeps names such as ``pages/[id].tsx`` from being read as globs. The
    filename itself is not resolved (a symlink is reviewed as the link git tracks).
    """
    base = cwd.resolve()
    top = root.resolve()
    out: list[str] = []
    for name in filenames:
        full = os.path.normpath(base / name)
        rel = os.path.relpath(full, top)
        if rel == os.curdir:
            return ()  # the whole repository
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            raise ReviewbotError(
                f"{name} is outside the repository {root}",
                hint="pass files inside the repository being committed",
            )
        out.append(":(literal)" + Path(rel).as_posix())
    return tuple(out)


def index_file(env: Mapping[str, str], cwd: Path) -> str | None:
    """The index git gave the hook, as an absolute path (git may pass `.git/index`)."""
    value = env.get("GIT_INDEX_FILE")
    if not value:
        return None
    return os.path.normpath(cwd / value)


def plan_review(
    root: Path,
    env: Mapping[str, str],
    cwd: Path,
    pathspecs: tuple[str, ...],
    from_ref: str | None,
    to_ref: str | None,
) -> Plan:
    if from_ref and to_ref:
        return _range_plan(root, env, pathspecs, from_ref, to_ref)
    local_branch = env.get("PRE_COMMIT_LOCAL_BRANCH")
    if local_branch and env.get("PRE_COMMIT_REMOTE_NAME"):
        return _new_history_plan(root, env, pathspecs, local_branch)
    index = index_file(env, cwd)
    staged = git_source(root, staged=True, paths=pathspecs, env=env, index_file=index)
    if staged.diff.strip():
        return Plan(staged, f"staged changes: {_count_files(staged.diff)}{_of_given(pathspecs)}")
    work = git_source(root, paths=pathspecs, env=env, index_file=index)
    if work.diff.strip():
        return Plan(
            work,
            "uncommitted changes (nothing is staged), working tree vs HEAD: "
            f"{_count_files(work.diff)}{_of_given(pathspecs)}",
        )
    if pathspecs:
        n = len(pathspecs)
        untracked = _untracked(root, env, pathspecs)
        note = (
            f"; untracked, so not reviewed (`git add` them first): {', '.join(untracked)}"
            if untracked
            else ""
        )
        return Plan(
            None,
            f"nothing is staged, and the {_plural(n, 'file')} given "
            f"{'has' if n == 1 else 'have'} no changes against HEAD{note}",
        )
    return Plan(None, "nothing is staged, and the working tree has no changes against HEAD")


def _untracked(root: Path, env: Mapping[str, str], pathspecs: tuple[str, ...]) -> list[str]:
    out = Git(root, env).run(["ls-files", "-z", "--others", "--exclude-standard", "--", *pathspecs])
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def _range_plan(
    root: Path, env: Mapping[str, str], pathspecs: tuple[str, ...], from_ref: str, to_ref: str
) -> Plan:
    try:
        source = git_source(root, rev=f"{from_ref}...{to_ref}", paths=pathspecs, env=env)
        how = "diffed from their merge base"
    except GitError:  # no common history: compare the two commits directly
        source = git_source(root, rev=f"{from_ref}..{to_ref}", paths=pathspecs, env=env)
        how = "no merge base, diffed directly"
    label = f"{_short(from_ref)}..{_short(to_ref)}"
    remote = env.get("PRE_COMMIT_REMOTE_BRANCH")
    target = f" (push to {env.get('PRE_COMMIT_REMOTE_NAME', 'remote')} {remote})" if remote else ""
    files = f"{_count_files(source.diff)}{_of_given(pathspecs)}"
    return Plan(replace(source, label=label), f"commits {label}{target}, {how}: {files}")


def _new_history_plan(
    root: Path, env: Mapping[str, str], pathspecs: tuple[str, ...], local_branch: str
) -> Plan:
    git = Git(root, env)
    try:
        head = git.rev_parse(local_branch)
    except GitError:
        raise ReviewbotError(
            f"cannot resolve the pushed ref {local_branch!r}",
            hint="push an existing branch or commit",
        ) from None
    tail = ["--", *pathspecs] if pathspecs else []
    diff = git.diff([EMPTY_TREE, head, *tail])
    remote = env.get("PRE_COMMIT_REMOTE_NAME", "the remote")
    return Plan(
        ReviewSource(
            diff, GitObjectReader(git, head), f"{local_branch} (whole history)", head, None
        ),
        f"all of {local_branch} ({remote} has none of its history): "
        f"{_count_files(diff)}{_of_given(pathspecs)}",
    )


def _count_files(diff: bytes) -> str:
    return _plural(sum(1 for line in diff.splitlines() if line.startswith(b"diff --git ")), "file")


def _of_given(pathspecs: tuple[str, ...]) -> str:
    return f" (of {_plural(len(pathspecs), 'file')} given)" if pathspecs else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _short(rev: str) -> str:
    is_sha = len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)
    return rev[:10] if is_sha else rev
