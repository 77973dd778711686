"""The persistent summary comment (and the job summary when the token is read-only).

Built from :mod:`reviewbot.reporters.markdown` pieces: counts by category and severity, what
went inline, the findings listed here instead (over the cap, no valid anchor, refused by
GitHub), the coverage record, the suggested tests, the model and the commit reviewed. It
ends with the hidden markers that find it again and record the reviewed head SHA.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from reviewbot.findings import Finding
from reviewbot.github.markers import SUMMARY_MARKER, reviewed_marker
from reviewbot.reporters.markdown import (
    counts_table,
    coverage_section,
    escape_md,
    finding_line,
    tests_section,
)
from reviewbot.result import ReviewResult
from reviewbot.safe_publish import code_text, cut

MAX_LISTED = 150
MAX_CHARS = 60_000
MAX_COVERAGE_CHARS = 20_000
MAX_NOTE_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class SummaryFacts:
    head_sha: str
    posted: int = 0
    already: int = 0
    deleted: int = 0
    kept_earlier: int = 0
    incremental_since: str | None = None
    reviewed_files: int | None = None
    read_only: bool = False
    notes: tuple[str, ...] = ()
    carried: tuple[str, ...] = ()
    """Lines of the previous summary's "Not posted inline" list for files this (incremental)
    run did not review: they still hold."""


_LOCATION = re.compile(r"`([^`]+):\d+(?:-\d+)?`")
_NOT_INLINE_HEADINGS = ("### Not posted inline", "### Not posted inline, from earlier reviews")


def carried_lines(previous: str, reviewed: Collection[str]) -> tuple[str, ...]:
    """The previous summary's not-inline finding lines for files not reviewed this time."""
    shown = {code_text(p) for p in reviewed}  # as finding_line's code span shows the path
    out: list[str] = []
    inside = False
    for line in previous.splitlines():
        if line.startswith("### "):
            inside = line.startswith(_NOT_INLINE_HEADINGS)
            continue
        if inside and line.startswith("- "):
            m = _LOCATION.search(line)
            if m and m.group(1) not in shown:
                out.append(line)
        elif inside and not line.strip():
            inside = False
    return tuple(out)


def _coverage(result: ReviewResult) -> str:
    text = coverage_section(result)
    if len(text) <= MAX_COVERAGE_CHARS:
        return text
    cov = result.coverage
    out = [
        f"**Coverage:** {escape_md(cov.summary(), None)}",
        "",
        f"({len(cov.skipped)} skipped files: too many to list here; see the check run or "
        "`reviewbot pr --dry-run`)",
    ]
    out += [f"\n> {escape_md(note, MAX_NOTE_CHARS)}" for note in cov.notes]
    return "\n".join(out)


def render_summary(
    result: ReviewResult, facts: SummaryFacts, not_inline: Sequence[tuple[Finding, str]]
) -> str:
    model = result.model or "static checks only"
    out = ["## reviewbot review", ""]
    scope = "the whole pull request"
    if facts.incremental_since:
        scope = f"the changes since `{facts.incremental_since[:12]}` ({facts.reviewed_files} files)"
    out.append(f"Reviewed {scope} at commit `{facts.head_sha[:12]}` with {escape_md(model)}.")
    if result.model_error:
        out.append(f"\n> The model was not used: {escape_md(result.model_error, MAX_NOTE_CHARS)}")
    out += ["", counts_table(result.findings), ""]
    if facts.read_only:
        out.append(
            "> This run could not write to the pull request (a read-only token, as for "
            "pull requests from forks): findings are shown as workflow annotations."
        )
    else:
        line = (
            f"**Inline:** {facts.posted} new comment(s), {facts.already} already on the "
            f"pull request"
        )
        if facts.deleted:
            line += f", {facts.deleted} earlier comment(s) removed (no longer reported)"
        if facts.kept_earlier:
            line += (
                f"; {facts.kept_earlier} earlier comment(s) on files unchanged since the "
                "last review kept"
            )
        out.append(line + ".")
    out.append("")
    listed = list(not_inline) if not facts.read_only else [(f, "") for f in result.findings]
    if listed:
        title = "Findings" if facts.read_only else "Not posted inline"
        out.append(f"### {title}")
        for f, reason in listed[:MAX_LISTED]:
            out.append(finding_line(f) + (f" — *{escape_md(reason)}*" if reason else ""))
        if len(listed) > MAX_LISTED:
            out.append(f"- … and {len(listed) - MAX_LISTED} more (see the check run)")
        out.append("")
    if facts.carried:
        out.append("### Not posted inline, from earlier reviews (files unchanged since)")
        out.extend(facts.carried[:MAX_LISTED])
        out.append("")
    out.append(_coverage(result))
    for note in facts.notes:
        out.append(f"\n> {escape_md(note, MAX_NOTE_CHARS)}")
    tests = tests_section(result.tests)
    if tests:
        out += ["", tests]
    text = cut("\n".join(out), MAX_CHARS, "… (summary truncated; see the check run)")
    return f"{text}\n\n{SUMMARY_MARKER}\n{reviewed_marker(facts.head_sha)}\n"
