"""Which webhook deliveries become review jobs.

- ``pull_request`` opened / synchronize / reopened / ready_for_review -> a review of the PR;
  drafts are skipped unless ``review_drafts`` is set in the server config.
- ``issue_comment`` created on an open pull request whose first line is ``/review``,
  ``/review full`` or ``/tests`` -> a job of that mode. Write access is checked in two steps:
  here, cheaply, the comment's ``author_association`` must be OWNER, MEMBER or COLLABORATOR (a
  user with write access always has one of these, so everyone else is turned away without a
  queued job); then the worker asks GitHub's collaborator-permission API, at job time with the
  installation token, and runs the command only for ``admin``/``maintain``/``write``
  (an association alone is not enough: a read-only collaborator is a COLLABORATOR too).
- ``installation`` and ``installation_repositories`` are logged; ``ping`` is answered.
- Anything sent by a bot (``sender.type == "Bot"`` or a ``[bot]`` login, reviewbot's own
  App included) is ignored, so the bot never reacts to its own comments.

Payload text (titles, comment bodies) is data: only the exact command words are matched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class JobMode(StrEnum):
    """What a job reviews."""

    REVIEW = "review"  # the PR's new commits (a push, ``/review``)
    FULL = "full"  # the whole PR (``/review full``)
    TESTS = "tests"  # the whole PR plus test suggestions (``/tests``)


class DecisionOutcome(StrEnum):
    """What :func:`route` decided for a delivery."""

    JOB = "job"
    PING = "ping"
    IGNORED = "ignored"
    LOGGED = "logged"


PR_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
COMMANDS: dict[tuple[str, ...], JobMode] = {
    ("/review",): JobMode.REVIEW,
    ("/review", "full"): JobMode.FULL,
    ("/tests",): JobMode.TESTS,
}
COMMAND_TEXT = {mode: " ".join(words) for words, mode in COMMANDS.items()}
MODE_RANK = {JobMode.REVIEW: 0, JobMode.FULL: 1, JobMode.TESTS: 2}
"""What a mode covers: ``full`` is a review of the whole PR, ``tests`` a full review plus
test suggestions. A newer job supersedes queued jobs of its PR whose mode it covers."""
TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
LOGGED_EVENTS = frozenset({"installation", "installation_repositories"})


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One review to run: what the worker needs, nothing from the payload beyond that."""

    repo: str
    """owner/name."""
    number: int
    installation_id: int | None
    mode: JobMode
    trigger: str
    """e.g. ``pull_request.synchronize`` or ``issue_comment./review full``."""
    head_sha: str | None = None
    requested_by: str | None = None
    """Login whose write access the worker must confirm (comment commands only)."""

    @property
    def pr_key(self) -> str:
        return f"{self.repo.lower()}#{self.number}"

    @property
    def latest_key(self) -> str:
        """Coalescing key: a queued job runs only while it is the newest under this key."""
        return f"{self.pr_key}|{self.mode}"

    @property
    def needs_permission(self) -> bool:
        """A comment command: it may supersede queued jobs only once its author's write
        access is confirmed (when it ran), never at accept time."""
        return self.requested_by is not None

    def supersedes(self) -> list[str]:
        """The coalescing keys this job takes over: its own mode's and every mode it
        covers, so a push never cancels a queued ``/review full``, but a ``/review full``
        replaces a queued push review."""
        rank = MODE_RANK.get(self.mode, 0)
        return [f"{self.pr_key}|{m}" for m, r in MODE_RANK.items() if r <= rank] or [
            self.latest_key
        ]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        data = json.loads(text)
        fields = {k: data.get(k) for k in cls.__dataclass_fields__}
        return cls(**{**fields, "mode": JobMode(fields["mode"])})


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a delivery: ``job`` set -> enqueue; else ``outcome`` says why not."""

    outcome: DecisionOutcome
    reason: str = ""
    job: JobSpec | None = None


def _ignored(reason: str) -> Decision:
    return Decision(DecisionOutcome.IGNORED, reason)


def _is_bot(user: Any) -> bool:
    if not isinstance(user, Mapping):
        return False
    login = str(user.get("login") or "")
    return user.get("type") == "Bot" or login.endswith("[bot]")


def parse_command(body: Any) -> JobMode | None:
    """The job mode named by the comment's first non-empty line, or None."""
    if not isinstance(body, str):
        return None
    for line in body.splitlines():
        words = tuple(line.strip().lower().split())
        if words:
            return COMMANDS.get(words)
    return None


def _repo(payload: Mapping[str, Any]) -> str | None:
    repo = payload.get("repository")
    name = repo.get("full_name") if isinstance(repo, Mapping) else None
    return name if isinstance(name, str) and "/" in name else None


def _installation(payload: Mapping[str, Any]) -> int | None:
    inst = payload.get("installation")
    value = inst.get("id") if isinstance(inst, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pull_request(payload: Mapping[str, Any], *, review_drafts: bool) -> Decision:
    action = payload.get("action")
    if action not in PR_ACTIONS:
        return _ignored(f"pull_request action {action!r} is not reviewed")
    pr = payload.get("pull_request")
    repo = _repo(payload)
    if not isinstance(pr, Mapping) or repo is None or not isinstance(pr.get("number"), int):
        return _ignored("payload has no pull_request number or repository")
    if pr.get("state") == "closed":
        return _ignored("pull request is closed")
    if pr.get("draft") and not review_drafts:
        return _ignored("draft pull request (set review_drafts: true to review drafts)")
    head = pr.get("head")
    sha = head.get("sha") if isinstance(head, Mapping) else None
    return Decision(
        DecisionOutcome.JOB,
        job=JobSpec(
            repo=repo,
            number=int(pr["number"]),
            installation_id=_installation(payload),
            mode=JobMode.REVIEW,
            trigger=f"pull_request.{action}",
            head_sha=sha if isinstance(sha, str) else None,
        ),
    )


def _issue_comment(payload: Mapping[str, Any]) -> Decision:
    if payload.get("action") != "created":
        action = payload.get("action")
        return _ignored(f"issue_comment action {action!r} is not a command")
    issue, comment = payload.get("issue"), payload.get("comment")
    if not isinstance(issue, Mapping) or not isinstance(comment, Mapping):
        return _ignored("payload has no issue or comment")
    if not issue.get("pull_request"):
        return _ignored("comment is on an issue, not a pull request")
    mode = parse_command(comment.get("body"))
    if mode is None:
        return _ignored("comment is not a reviewbot command")
    if _is_bot(comment.get("user")):
        return _ignored("comment written by a bot")
    repo = _repo(payload)
    if repo is None or not isinstance(issue.get("number"), int):
        return _ignored("payload has no issue number or repository")
    if issue.get("state") == "closed":
        return _ignored("pull request is closed")
    if comment.get("author_association") not in TRUSTED_ASSOCIATIONS:
        return _ignored("commenter has no write access (author_association)")
    user = comment.get("user")
    login = user.get("login") if isinstance(user, Mapping) else None
    if not isinstance(login, str) or not login:
        return _ignored("comment has no author login")
    return Decision(
        DecisionOutcome.JOB,
        job=JobSpec(
            repo=repo,
            number=int(issue["number"]),
            installation_id=_installation(payload),
            mode=mode,
            trigger=f"issue_comment.{COMMAND_TEXT[mode]}",
            requested_by=login,
        ),
    )


def route(event: str, payload: Mapping[str, Any], *, review_drafts: bool = False) -> Decision:
    """Decide what a verified delivery of ``event`` asks for."""
    if event == "ping":
        return Decision(DecisionOutcome.PING, "pong")
    if _is_bot(payload.get("sender")):
        return _ignored("sent by a bot")
    if event == "pull_request":
        return _pull_request(payload, review_drafts=review_drafts)
    if event == "issue_comment":
        return _issue_comment(payload)
    if event in LOGGED_EVENTS:
        return Decision(DecisionOutcome.LOGGED, f"{event}.{payload.get('action')}")
    return _ignored(f"event {event!r} is not handled")
