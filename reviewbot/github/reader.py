"""Reading a pull request from GitHub into a :class:`reviewbot.sources.ReviewSource`.

Reading only: nothing here writes to GitHub (see :mod:`reviewbot.github.publisher`).

* The diff is rebuilt from the ``patch`` of each entry of the PR's files list. GitHub lists
  at most 3000 files and omits ``patch`` for binary files and very large diffs: those files
  are recorded in the coverage as not reviewed, never silently dropped.
* Head file contents (for tree-sitter context) come from a local checkout when it has the
  head commit (inside an Action), else lazily from the contents API at the head SHA.
* The config is read from the **base** SHA, so a PR cannot change the bot's own settings.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import github
from github.PullRequest import PullRequest
from github.Repository import Repository

from reviewbot.coverage import Skipped
from reviewbot.errors import GitHubError, ReviewbotError
from reviewbot.gitio import Git
from reviewbot.sources import MAX_FILE_BYTES, FileReader, GitObjectReader

MAX_LISTED_FILES = 3000
"""GitHub's cap on the pull request files list."""


@dataclass(frozen=True, slots=True)
class PRFile:
    path: str
    old_path: str | None
    status: str
    """added | removed | modified | renamed | copied | changed | unchanged."""
    patch: str | None
    changes: int


@dataclass(frozen=True, slots=True)
class PullRequestData:
    repo_full_name: str
    number: int
    title: str
    html_url: str
    head_sha: str
    base_sha: str
    base_ref: str
    head_repo: str | None
    """Full name of the head repository (None when the fork was deleted)."""
    draft: bool
    state: str
    files: tuple[PRFile, ...]
    changed_files: int
    """What GitHub says the PR changes; more than ``len(files)`` when the list is truncated."""

    @property
    def truncated(self) -> bool:
        return self.changed_files > len(self.files)

    @property
    def is_fork(self) -> bool:
        return self.head_repo != self.repo_full_name


def read_pull_request(repo: Repository, number: int) -> tuple[PullRequest, PullRequestData]:
    try:
        pr = repo.get_pull(number)
        files = tuple(_pr_file(f) for f in _capped(pr.get_files(), MAX_LISTED_FILES))
    except github.GithubException as exc:
        raise _read_error(exc, f"pull request #{number} of {repo.full_name}") from None
    head_repo = pr.head.repo.full_name if pr.head.repo is not None else None
    data = PullRequestData(
        repo_full_name=repo.full_name,
        number=number,
        title=pr.title or "",
        html_url=pr.html_url or "",
        head_sha=pr.head.sha,
        base_sha=pr.base.sha,
        base_ref=pr.base.ref,
        head_repo=head_repo,
        draft=bool(pr.draft),
        state=pr.state,
        files=files,
        changed_files=max(int(pr.changed_files or 0), len(files)),
    )
    return pr, data


def _capped(items: Iterable[github.File.File], limit: int) -> Iterable[github.File.File]:
    for i, item in enumerate(items):
        if i >= limit:
            return
        yield item


def _pr_file(f: github.File.File) -> PRFile:
    old = f.previous_filename if f.status in ("renamed", "copied") else None
    return PRFile(f.filename, old, f.status, f.patch, int(f.changes or 0))


def _read_error(exc: github.GithubException, what: str) -> GitHubError:
    if exc.status == 404:
        return GitHubError(
            f"GitHub has no {what}, or the token cannot see it",
            hint="check the repository and number, and the token's access",
        )
    if exc.status in (401, 403):
        return GitHubError(
            f"GitHub refused to show {what} (HTTP {exc.status})",
            hint="the token needs contents: read and pull-requests: read",
        )
    return GitHubError(f"reading {what} failed (HTTP {exc.status})")


_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def list_raw(
    gh: github.Github,
    url: str,
    params: dict[str, object] | None = None,
) -> Iterator[dict[str, object]]:
    """Every item of a paginated list as plain JSON, following ``Link: rel="next"``.

    Used for comments: PyGithub objects fetch each comment again when an optional field
    (``in_reply_to_id``) is absent from the list response.
    """
    query: dict[str, object] | None = {"per_page": 100, **(params or {})}
    next_url: str | None = url
    while next_url:
        headers, data = gh.requester.requestJsonAndCheck("GET", next_url, parameters=query)
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict):
                yield item
        m = _NEXT.search(str(headers.get("link", "")))
        next_url = m.group(1) if m else None
        if next_url is not None and not _inside(gh.requester.base_url, next_url):
            raise GitHubError(
                "GitHub's next-page link points outside the API root",
                hint="check the API URL (REVIEWBOT_GITHUB_API_URL or "
                "GITHUB_API_URL); nothing is requested from that host",
            )
        query = None


def _inside(base: str, url: str) -> bool:
    """Is ``url`` under the API root ``base`` (same scheme, host, port and path prefix)?"""
    b, u = urlsplit(base), urlsplit(url)
    prefix = b.path.rstrip("/") + "/"
    return (u.scheme, u.hostname, u.port) == (b.scheme, b.hostname, b.port) and (
        u.path + "/"
    ).startswith(prefix)


def build_diff(files: Iterable[PRFile]) -> bytes:
    """A git-style unified diff from GitHub's per-file patches (files without a patch omitted)."""
    out: list[str] = []
    for f in files:
        if f.patch is None and f.status not in ("renamed", "copied"):
            continue
        old = f.old_path or f.path
        out.append(f"diff --git a/{old} b/{f.path}\n")
        if f.status == "added":
            out.append("new file mode 100644\n")
        elif f.status == "removed":
            out.append("deleted file mode 100644\n")
        elif f.status in ("renamed", "copied") and f.old_path:
            verb = "rename" if f.status == "renamed" else "copy"
            out.append(f"similarity index 90%\n{verb} from {old}\n{verb} to {f.path}\n")
        if not f.patch:
            continue
        out.append("--- /dev/null\n" if f.status == "added" else f"--- a/{old}\n")
        out.append("+++ /dev/null\n" if f.status == "removed" else f"+++ b/{f.path}\n")
        out.append(f.patch if f.patch.endswith("\n") else f.patch + "\n")
    return "".join(out).encode("utf-8", "surrogateescape")


def unreviewable(data: PullRequestData) -> tuple[list[Skipped], list[str]]:
    """Files GitHub gave no patch for, and a note when the files list was truncated."""
    skipped = [
        Skipped(f.path, "no patch from GitHub (binary or diff too large)", f.changes)
        for f in data.files
        if f.patch is None and f.changes > 0
    ]
    notes: list[str] = []
    if data.truncated:
        notes.append(
            f"GitHub listed {len(data.files)} of the {data.changed_files} changed files "
            f"(its limit is {MAX_LISTED_FILES}); the other "
            f"{data.changed_files - len(data.files)} files were not reviewed"
        )
    return skipped, notes


@dataclass(frozen=True, slots=True)
class ContentsReader:
    """Head files through the contents API at one commit (lazy: only files the engine asks for)."""

    repo: Repository
    ref: str

    def read(self, path: str) -> bytes | None:
        try:
            content = self.repo.get_contents(path, ref=self.ref)
        except github.GithubException:
            return None
        if isinstance(content, list) or content.type != "file":
            return None
        if (content.size or 0) > MAX_FILE_BYTES or content.encoding != "base64":
            return None  # > 1 MB: the contents API sends no content
        try:
            return base64.b64decode(content.content or "")
        except ValueError:
            return None


def head_reader(repo: Repository, head_sha: str, workspace: Path | None) -> FileReader:
    """A checkout's git objects when it has the head commit, else the contents API.

    An Actions checkout of a ``pull_request`` event is the *merge* commit, whose files differ
    from the head's; ``git cat-file`` at the head SHA reads the right version when the
    checkout fetched it (``fetch-depth: 0`` or ``ref: head.sha``).
    """
    if workspace is not None and (workspace / ".git").exists():
        git = Git(workspace)
        try:
            if git.rev_parse(head_sha) == head_sha:
                return GitObjectReader(git, head_sha)
        except ReviewbotError:
            pass
    return ContentsReader(repo, head_sha)


def read_config_text(repo: Repository, base_sha: str, path: str) -> str | None:
    """The config file's text at the base SHA, or None when it does not exist there."""
    try:
        content = repo.get_contents(path, ref=base_sha)
    except github.GithubException as exc:
        if exc.status == 404:
            return None
        raise _read_error(exc, f"{path} at the base commit") from None
    if isinstance(content, list):
        raise GitHubError(f"{path} in the base branch is a directory, not a config file")
    try:
        return base64.b64decode(content.content or "").decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise GitHubError(f"{path} in the base branch is not UTF-8 text") from None


def changed_since(repo: Repository, last_sha: str, head_sha: str) -> set[str] | None:
    """Paths changed from ``last_sha`` to ``head_sha``, or None when that is not a clean
    fast-forward (force-push, rebase) or GitHub cannot tell: then review the whole PR."""
    if last_sha == head_sha:
        return None
    try:
        cmp = repo.compare(last_sha, head_sha)
        if cmp.status != "ahead":
            return None
        files = list(cmp.files)
    except github.GithubException:
        return None
    if len(files) >= 300:  # the compare API lists at most 300 files
        return None
    paths: set[str] = set()
    for f in files:
        paths.add(f.filename)
        if f.previous_filename:
            paths.add(f.previous_filename)
    return paths
