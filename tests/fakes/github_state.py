"""State of the fake GitHub: repositories, pull requests, comments, reviews, check runs.

Response objects are built from GitHub's own example bodies in the OpenAPI description
(with ids, URLs and fields replaced), so they have every field real responses have.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.github_openapi import Spec

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def sha_of(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()


@dataclass(frozen=True)
class PatchLines:
    """Which lines of a file's patch GitHub accepts comments on, and in which hunk."""

    right: dict[int, int]
    left: dict[int, int]

    @classmethod
    def parse(cls, patch: str | None) -> PatchLines:
        right: dict[int, int] = {}
        left: dict[int, int] = {}
        hunk = -1
        old = new = 0
        for line in (patch or "").split("\n"):
            m = _HUNK.match(line)
            if m:
                hunk += 1
                old, new = int(m.group(1)), int(m.group(3))
                continue
            if hunk < 0 or line.startswith("\\"):
                continue
            tag = line[:1]
            if tag == "+":
                right[new] = hunk
                new += 1
            elif tag == "-":
                left[old] = hunk
                old += 1
            elif tag == " ":
                right[new] = hunk
                left[old] = hunk
                old += 1
                new += 1
        return cls(right, left)

    def hunk(self, line: int, side: str) -> int | None:
        return (self.right if side == "RIGHT" else self.left).get(line)


@dataclass
class FakeFile:
    path: str
    status: str = "modified"
    patch: str | None = None
    previous_filename: str | None = None
    content: bytes | None = None
    """Head content (served by the contents API at the head SHA)."""

    def counts(self) -> tuple[int, int]:
        lines = (self.patch or "").split("\n")
        adds = sum(1 for ln in lines if ln.startswith("+"))
        dels = sum(1 for ln in lines if ln.startswith("-"))
        return adds, dels


@dataclass
class Version:
    sha: str
    files: list[FakeFile]


@dataclass
class FakePR:
    number: int
    title: str
    base_sha: str
    base_ref: str
    head_ref: str
    head_repo: str | None
    author: str
    versions: list[Version] = field(default_factory=list)
    draft: bool = False
    state: str = "open"
    force_pushed: bool = False
    reported_changed_files: int | None = None
    """Overrides ``changed_files`` (to simulate a PR larger than the files list)."""

    @property
    def head(self) -> Version:
        return self.versions[-1]

    def version(self, sha: str) -> Version | None:
        return next((v for v in self.versions if v.sha == sha), None)


@dataclass
class Token:
    login: str
    kind: str
    """user | installation | actions."""
    write: bool = True

    @property
    def user_type(self) -> str:
        return "User" if self.kind == "user" else "Bot"


@dataclass
class FakeRepo:
    full_name: str
    id: int
    contents: dict[tuple[str, str], bytes] = field(default_factory=dict)
    """(commit sha, path) -> bytes."""
    pulls: dict[int, FakePR] = field(default_factory=dict)
    installation_id: int = 1001


class Builders:
    """JSON bodies shaped like GitHub's, from the description's example bodies."""

    def __init__(self, spec: Spec, base: str) -> None:
        self.spec = spec
        self.base = base
        self.ids = itertools.count(5001)

    def _fill(self, name: str, full_name: str) -> Any:
        return _rewrite(self.spec.example(name), self.base, full_name)

    def user(self, login: str, type_: str) -> dict[str, Any]:
        u = self._fill("pull-request-review", "o/r")["user"]
        uid = int(hashlib.sha1(login.encode()).hexdigest()[:6], 16)
        u.update(
            login=login,
            id=uid,
            type=type_,
            node_id=f"U_{uid}",
            url=f"{self.base}/users/{login}",
            html_url=f"https://github.test/{login}",
        )
        return dict(u)

    def repo(self, r: FakeRepo) -> dict[str, Any]:
        d = self._fill("full-repository-default-response", r.full_name)
        owner, name = r.full_name.split("/")
        d.pop("source", None)
        d.pop("parent", None)
        d.update(
            id=r.id,
            name=name,
            full_name=r.full_name,
            language="Python",
            url=f"{self.base}/repos/{r.full_name}",
            private=False,
        )
        d["owner"].update(login=owner, url=f"{self.base}/users/{owner}")
        return dict(d)

    def pull(self, r: FakeRepo, pr: FakePR, head_repo: FakeRepo | None) -> dict[str, Any]:
        d = _renumber(self._fill("pull-request", r.full_name), pr.number)
        url = f"{self.base}/repos/{r.full_name}/pulls/{pr.number}"
        files = pr.head.files
        d.update(
            number=pr.number,
            id=900000 + pr.number,
            title=pr.title,
            state=pr.state,
            draft=pr.draft,
            url=url,
            html_url=f"https://github.test/{r.full_name}/pull/{pr.number}",
            requested_teams=[],
            merged=False,
            mergeable=True,
            changed_files=pr.reported_changed_files or len(files),
            additions=sum(f.counts()[0] for f in files),
            deletions=sum(f.counts()[1] for f in files),
            body=None,
            user=self.user(pr.author, "User"),
        )
        d["head"].update(
            sha=pr.head.sha,
            ref=pr.head_ref,
            label=f"x:{pr.head_ref}",
            repo=self.repo(head_repo) if head_repo else None,
        )
        d["base"].update(
            sha=pr.base_sha, ref=pr.base_ref, label=f"x:{pr.base_ref}", repo=self.repo(r)
        )
        return dict(d)

    def diff_entry(self, r: FakeRepo, sha: str, f: FakeFile) -> dict[str, Any]:
        d = self._fill("diff-entry-items", r.full_name)[0]
        adds, dels = f.counts()
        d.update(
            filename=f.path,
            status=f.status,
            additions=adds,
            deletions=dels,
            changes=adds + dels,
            sha=sha_of(sha, f.path),
            blob_url=f"https://github.test/{r.full_name}/blob/{sha}/{f.path}",
            raw_url=f"https://github.test/{r.full_name}/raw/{sha}/{f.path}",
            contents_url=f"{self.base}/repos/{r.full_name}/contents/{f.path}?ref={sha}",
        )
        d.pop("patch", None)
        d.pop("previous_filename", None)
        if f.patch is not None:
            d["patch"] = f.patch
        if f.previous_filename:
            d["previous_filename"] = f.previous_filename
        return dict(d)

    def content(self, r: FakeRepo, sha: str, path: str, data: bytes) -> dict[str, Any]:
        import base64

        d = self._fill("content-file-response-if-content-is-a-file", r.full_name)
        enc = base64.encodebytes(data).decode("ascii")
        d.update(
            type="file",
            encoding="base64",
            size=len(data),
            name=path.rsplit("/", 1)[-1],
            path=path,
            content=enc,
            sha=sha_of(sha, path, data),
            url=f"{self.base}/repos/{r.full_name}/contents/{path}?ref={sha}",
        )
        return dict(d)

    def review(self, r: FakeRepo, pr: FakePR, rv: dict[str, Any]) -> dict[str, Any]:
        d = self._fill("pull-request-review", r.full_name)
        purl = f"{self.base}/repos/{r.full_name}/pulls/{pr.number}"
        d.update(
            id=rv["id"],
            node_id=f"PRR_{rv['id']}",
            user=rv["user"],
            body=rv["body"],
            state=rv["state"],
            commit_id=rv["commit_id"],
            pull_request_url=purl,
            html_url=f"https://github.test/{r.full_name}/pull/{pr.number}#review-{rv['id']}",
        )
        if rv["state"] == "PENDING":
            d.pop("submitted_at", None)
        return dict(d)

    def review_comment(self, r: FakeRepo, pr: FakePR, c: dict[str, Any]) -> dict[str, Any]:
        d = self._fill("pull-request-review-comment-items", r.full_name)[0]
        purl = f"{self.base}/repos/{r.full_name}/pulls/{pr.number}"
        for k in (
            "in_reply_to_id",
            "start_line",
            "original_start_line",
            "start_side",
            "line",
            "position",
        ):
            d.pop(k, None)
        d.update({k: v for k, v in c.items() if k not in ("review_state",)})
        d.update(
            url=f"{self.base}/repos/{r.full_name}/pulls/comments/{c['id']}",
            node_id=f"PRRC_{c['id']}",
            pull_request_url=purl,
            html_url=f"https://github.test/{r.full_name}/pull/{pr.number}#discussion_r{c['id']}",
        )
        return dict(d)

    def issue_comment(self, r: FakeRepo, pr: FakePR, c: dict[str, Any]) -> dict[str, Any]:
        d = self._fill("issue-comment", r.full_name)
        d.update(
            id=c["id"],
            node_id=f"IC_{c['id']}",
            body=c["body"],
            user=c["user"],
            url=f"{self.base}/repos/{r.full_name}/issues/comments/{c['id']}",
            issue_url=f"{self.base}/repos/{r.full_name}/issues/{pr.number}",
            html_url=f"https://github.test/{r.full_name}/pull/{pr.number}#issuecomment-{c['id']}",
        )
        return dict(d)

    def check_run(self, r: FakeRepo, c: dict[str, Any]) -> dict[str, Any]:
        d = self._fill("check-run", r.full_name)
        out = c.get("output") or {}
        d.update(
            id=c["id"],
            node_id=f"CR_{c['id']}",
            head_sha=c["head_sha"],
            name=c["name"],
            status=c.get("status", "queued"),
            conclusion=c.get("conclusion"),
            external_id=c.get("external_id", ""),
            started_at=c.get("started_at"),
            completed_at=c.get("completed_at"),
            pull_requests=[],
            url=f"{self.base}/repos/{r.full_name}/check-runs/{c['id']}",
        )
        d["output"] = {
            "title": out.get("title"),
            "summary": out.get("summary"),
            "text": out.get("text"),
            "annotations_count": len(c["annotations"]),
            "annotations_url": f"{self.base}/repos/{r.full_name}/check-runs/{c['id']}/annotations",
        }
        return dict(d)


def _renumber(data: Any, number: int) -> Any:
    """The example PR is #1347: point its URLs at ``number``."""
    if isinstance(data, dict):
        return {k: _renumber(v, number) for k, v in data.items()}
    if isinstance(data, list):
        return [_renumber(v, number) for v in data]
    if isinstance(data, str):
        return re.sub(r"/(pulls?|issues)/1347\b", rf"/\g<1>/{number}", data)
    return data


def _rewrite(data: Any, base: str, full_name: str) -> Any:
    if isinstance(data, dict):
        return {k: _rewrite(v, base, full_name) for k, v in data.items()}
    if isinstance(data, list):
        return [_rewrite(v, base, full_name) for v in data]
    if isinstance(data, str):
        return data.replace("https://api.github.com", base).replace(
            "octocat/Hello-World", full_name
        )
    return data
