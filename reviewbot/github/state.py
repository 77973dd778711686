"""What earlier runs left on a pull request: reviewbot's own inline comments and summary.

Reading only, like :mod:`reviewbot.github.reader`: nothing here writes to GitHub (see
:mod:`reviewbot.github.publisher`). Which comments count as reviewbot's is decided by
:class:`reviewbot.github.identity.Identity`.
"""

from __future__ import annotations

from dataclasses import dataclass

import github
from github.PullRequest import PullRequest

from reviewbot.github.identity import Identity, body_digest
from reviewbot.github.markers import is_summary, parse_fp, parse_reviewed
from reviewbot.github.plan import ExistingComment
from reviewbot.github.reader import list_raw


@dataclass(frozen=True, slots=True)
class Summary:
    """A reviewbot summary comment (issue comment) on the pull request."""

    id: int
    url: str
    body: str


@dataclass(frozen=True, slots=True)
class PRState:
    """What earlier runs left: their inline comments and summary comments."""

    comments: tuple[ExistingComment, ...]
    summaries: tuple[Summary, ...]
    """reviewbot summary comments, oldest first (normally one)."""

    @property
    def last_reviewed(self) -> str | None:
        return parse_reviewed(self.summaries[0].body) if self.summaries else None


def read_state(gh: github.Github, pr: PullRequest, identity: Identity) -> PRState:
    """reviewbot's own comments on the PR (:mod:`reviewbot.github.identity`).

    Where authorship proves nothing (the shared ``github-actions[bot]`` without a marker
    key), comments by that login are kept as *unverified*: they are never edited, deleted
    or read for state, and count as "already on the PR" only for a finding whose rendered
    comment they match byte for byte (see :func:`reviewbot.github.plan.make_plan`)."""
    raw = list(list_raw(gh, f"{pr.url}/comments"))
    replied = {c.get("in_reply_to_id") for c in raw if c.get("in_reply_to_id")}
    comments: list[ExistingComment] = []
    for c in raw:
        body = str(c.get("body") or "")
        marker = parse_fp(body)
        if marker is None or c.get("in_reply_to_id"):
            continue
        user = c.get("user")
        trusted = identity.owns(user, body)
        if not trusted and not identity.same_login(user):
            continue
        cid = int(c["id"])  # type: ignore[call-overload]
        comments.append(
            ExistingComment(
                cid,
                str(c.get("path")),
                marker.fingerprint,
                marker.severity,
                marker.category,
                cid in replied,
                c.get("line") is None,
                trusted=trusted,
                body_sha=body_digest(body),
            )
        )
    return PRState(tuple(comments), tuple(read_summaries(gh, pr, identity)))


def read_summaries(gh: github.Github, pr: PullRequest, identity: Identity) -> list[Summary]:
    """reviewbot's summary comments on the PR, oldest first."""
    out: list[Summary] = []
    for c in list_raw(gh, pr.issue_url + "/comments"):
        body = str(c.get("body") or "")
        if is_summary(body) and identity.owns(c.get("user"), body):
            out.append(Summary(int(c["id"]), str(c["url"]), body))  # type: ignore[call-overload]
    return out
