"""Writing to the pull request: the review, the summary comment, stale-comment cleanup.

Separate from reading (:mod:`reviewbot.github.reader`, :mod:`reviewbot.github.state`).
Every write is idempotent (:func:`reviewbot.github.retry.write_once` plus hidden markers):

* one review per run, event ``COMMENT`` only (never APPROVE or REQUEST_CHANGES);
* if GitHub still refuses the review with 422 although every anchor was checked against the
  diff, the comments are tried in halves as *pending* reviews (which are deleted again) to
  find the refused ones; the accepted ones are posted in one review and the refused ones
  are listed in the summary. Nothing is lost;
* stale comments (an earlier run's finding no longer reported, nobody replied) are
  **deleted**, not minimized: resolving or minimizing needs the GraphQL API and leaves noise
  in the conversation, and a comment without replies carries no discussion worth keeping;
* a write refused with 401/403/404 (not a rate limit) raises :class:`ReadOnly`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import github
from github.PullRequest import PullRequest
from github.Repository import Repository

from reviewbot.github.identity import Identity
from reviewbot.github.markers import parse_run, run_marker
from reviewbot.github.plan import InlineComment
from reviewbot.github.reader import list_raw
from reviewbot.github.retry import is_forbidden, write_once
from reviewbot.github.state import PRState, read_summaries


class ReadOnly(Exception):
    """The token cannot write to this pull request (e.g. a fork PR's GITHUB_TOKEN)."""


def _forbidden_to_readonly(exc: github.GithubException) -> Exception:
    return ReadOnly(f"HTTP {exc.status}") if is_forbidden(exc) else exc


@dataclass(slots=True)
class PullRequestPublisher:
    gh: github.Github
    repo: Repository
    pr: PullRequest
    head_sha: str
    identity: Identity
    run_id: str

    # -- the review ---------------------------------------------------------------------

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        _, data = self.gh.requester.requestJsonAndCheck(
            "POST", f"{self.pr.url}/reviews", input=payload
        )
        return dict(data)

    def _find_review(self, marker_run: str, state: str | None = None) -> dict[str, Any] | None:
        for r in list_raw(self.gh, f"{self.pr.url}/reviews"):
            if parse_run(str(r.get("body") or "")) == marker_run and (
                state is None or r.get("state") == state
            ):
                return dict(r)
        return None

    def post_review(
        self,
        comments: Sequence[InlineComment],
        body: str,
    ) -> tuple[int | None, list[InlineComment], list[InlineComment]]:
        """Post one COMMENT review; returns (review id, posted, refused by GitHub)."""
        if not comments:
            return None, [], []
        try:
            review = self._create(list(comments), body)
            return int(review["id"]), list(comments), []
        except github.GithubException as exc:
            if exc.status != 422:
                raise _forbidden_to_readonly(exc) from None
        good, bad = self._split(list(comments))
        if not good:
            return None, [], bad
        try:
            review = self._create(good, body)
        except github.GithubException as exc:
            if exc.status != 422:
                raise _forbidden_to_readonly(exc) from None
            return None, [], list(comments)
        return int(review["id"]), good, bad

    def _create(self, comments: list[InlineComment], body: str) -> dict[str, Any]:
        payload = {
            "commit_id": self.head_sha,
            "event": "COMMENT",
            "body": f"{body}\n\n{run_marker(self.run_id)}",
            "comments": [self._sealed(c) for c in comments],
        }
        return write_once(
            lambda: self._post(payload),
            what="post the review",
            landed=lambda: self._find_review(self.run_id),
        )

    def _sealed(self, c: InlineComment) -> dict[str, object]:
        return dict(c.payload(), body=self.identity.seal(c.body))

    def _accepted(self, group: list[InlineComment]) -> bool:
        """Does GitHub accept these comments? Tried as a pending review, deleted again."""
        probe = f"{self.run_id}.probe"
        payload = {
            "commit_id": self.head_sha,
            "body": run_marker(probe),
            "comments": [self._sealed(c) for c in group],
        }
        try:
            review = write_once(
                lambda: self._post(payload),
                what="check review comments",
                landed=lambda: self._find_review(probe, "PENDING"),
            )
        except github.GithubException as exc:
            if exc.status == 422:
                return False
            raise _forbidden_to_readonly(exc) from None
        self._delete(f"{self.pr.url}/reviews/{review['id']}")
        return True

    def _split(self, group: list[InlineComment]) -> tuple[list[InlineComment], list[InlineComment]]:
        if self._accepted(group):
            return group, []
        if len(group) == 1:
            return [], group
        mid = len(group) // 2
        good_a, bad_a = self._split(group[:mid])
        good_b, bad_b = self._split(group[mid:])
        return good_a + good_b, bad_a + bad_b

    # -- cleanup and summary ------------------------------------------------------------

    def _delete(self, url: str) -> bool:
        try:
            self.gh.requester.requestJsonAndCheck("DELETE", url)
        except github.GithubException as exc:
            if exc.status == 404:
                return False  # already gone
            raise _forbidden_to_readonly(exc) from None
        return True

    def delete_comments(self, ids: Sequence[int]) -> int:
        return sum(self._delete(f"{self.repo.url}/pulls/comments/{i}") for i in ids)

    def upsert_summary(self, body: str, state: PRState) -> int:
        """Edit the summary comment in place (create it the first time); remove duplicates.
        ``body`` is posted as given (sealed by the caller: :meth:`Identity.seal`)."""
        try:
            if state.summaries:
                first = state.summaries[0]
                write_once(
                    lambda: self.gh.requester.requestJsonAndCheck(
                        "PATCH", first.url, input={"body": body}
                    ),
                    what="update the summary comment",
                )
                for extra in state.summaries[1:]:
                    self._delete(extra.url)
                return first.id
            created = write_once(
                lambda: self._create_summary(body),
                what="post the summary comment",
                landed=self._find_summary,
            )
            return created
        except github.GithubException as exc:
            raise _forbidden_to_readonly(exc) from None

    def _create_summary(self, body: str) -> int:
        _, data = self.gh.requester.requestJsonAndCheck(
            "POST", self.pr.issue_url + "/comments", input={"body": body}
        )
        return int(data["id"])

    def _find_summary(self) -> int | None:
        found = read_summaries(self.gh, self.pr, self.identity)
        return found[0].id if found else None
