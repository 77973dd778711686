"""What one review of a pull request did there: :class:`PublishOutcome`.

Its own module so that both the public entry point (:mod:`reviewbot.github.flow`) and the
steps behind it (:mod:`reviewbot.github.pipeline`) can name it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.backends.base import Backend
    from reviewbot.config import Config
    from reviewbot.findings import Finding
    from reviewbot.result import ReviewResult

BackendFactory = Callable[["Config"], "Backend"]


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """What one run of :func:`reviewbot.github.flow.review_pull_request` did on the pull
    request."""

    head_sha: str
    review_id: int | None
    """The COMMENT review posted this run (None when nothing new was posted inline)."""
    comments_posted: int
    comments_skipped_existing: int
    """Findings whose fingerprint already had a reviewbot comment on the PR."""
    comments_moved_to_summary: int
    """Findings listed in the summary instead: over the cap, no valid anchor, or 422."""
    comments_deleted_stale: int
    summary_comment_id: int | None
    check_run_id: int | None
    findings_total: int
    findings_by_severity: Mapping[str, int]
    findings_by_category: Mapping[str, int]
    failed: bool
    """A finding at or above ``fail_on`` remains (the check run's conclusion is failure)."""
    read_only: bool = False
    """The token could not write: nothing was posted; show ``summary_markdown`` instead."""
    dry_run: bool = False
    incremental_since: str | None = None
    """The last reviewed head SHA when only later changes were reviewed."""
    summary_markdown: str = ""
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    planned: tuple[str, ...] = field(default_factory=tuple)
    """Human-readable lines describing each write (what a dry run would have posted)."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    result: ReviewResult | None = None
    """The engine's full result (for SARIF or other reporters)."""

    def describe(self) -> str:
        """One line saying what the run did (``reviewbot pr`` and the Action print it)."""
        if self.dry_run:
            return f"dry run: {len(self.planned)} planned change(s), nothing written"
        if self.read_only:
            return "read-only token: nothing was posted"
        parts = [
            f"{self.findings_total} finding(s)",
            f"{self.comments_posted} comment(s) posted",
            f"{self.comments_skipped_existing} already on the PR",
            f"{self.comments_moved_to_summary} in the summary only",
        ]
        if self.comments_deleted_stale:
            parts.append(f"{self.comments_deleted_stale} stale removed")
        if self.incremental_since:
            parts.append(f"changes since {self.incremental_since[:12]}")
        return "; ".join(parts)
