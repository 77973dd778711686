"""Markdown output: the body of the PR summary comment and of `--format markdown`."""

from __future__ import annotations

import re

from reviewbot.findings import Category, Finding, Severity
from reviewbot.result import ReviewResult, TestSuggestion
from reviewbot.safe_publish import code_span as _code_span
from reviewbot.safe_publish import code_text, safe_code, safe_line

_BACKTICKS = re.compile(r"`+")
TITLE_CHARS = 300
"""Untrusted one-line fields are shortened to this (before escaping)."""
MESSAGE_CHARS = 2_000
"""A finding's message in a summary list item."""
_ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟠", Severity.INFO: "🔵"}


def escape_md(text: str, limit: int | None = TITLE_CHARS) -> str:
    """Untrusted text (model output, file paths) as one safe line of markdown of at most
    ``limit`` characters of ``text``: secrets redacted, controls removed, no HTML, links,
    images, mentions, issue references or block markup (see :mod:`reviewbot.safe_publish`)."""
    return safe_line(text, limit)


def code_span(text: str) -> str:
    """``text`` as an inline code span (GitHub links nothing inside code), with secrets
    redacted and controls removed."""
    return _code_span(code_text(text))


def one_line(text: str) -> str:
    """Collapse whitespace (newlines would break a list item or start a heading)."""
    return " ".join(text.split())


def fence(code: str, lang: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run in ``code`` (so no line
    of it can close the fence). Only trailing newlines are dropped: a suggestion's last line
    keeps its exact bytes."""
    longest = max((len(m) for m in _BACKTICKS.findall(code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{code.rstrip(chr(10))}\n{ticks}"


def counts_table(findings: tuple[Finding, ...] | list[Finding]) -> str:
    rows = ["| category | error | warning | info |", "|---|---|---|---|"]
    for cat in Category:
        cells = [
            str(sum(1 for f in findings if f.category is cat and f.severity is s))
            for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        ]
        rows.append(f"| {cat.value} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def finding_line(f: Finding) -> str:
    where = f"{f.line}" if f.line == f.end_line else f"{f.line}-{f.end_line}"
    side = " (removed line)" if f.side.value == "LEFT" else ""
    return (
        f"- {_ICON[f.severity]} **{escape_md(one_line(f.title))}** "
        f"{code_span(f'{f.path}:{where}')}{side} ({f.category.value}, {f.severity.value}, "
        f"{escape_md(f.source)}): {escape_md(f.message, MESSAGE_CHARS)}"
    )


def tests_section(tests: tuple[TestSuggestion, ...]) -> str:
    if not tests:
        return ""
    shown = [t for t in tests if t.shown]
    out = [
        f"<details><summary>Suggested tests ({len(shown)} checked of {len(tests)})</summary>",
        "",
    ]
    for t in tests:
        status = f"{t.outcome}, check level {int(t.level)} ({t.level.name.lower()})"
        out.append(
            f"**{code_span(t.target)}** → {code_span(t.path)}: {escape_md(status)}"
            + (f" — {escape_md(t.reason, MESSAGE_CHARS)}" if t.reason else "")
        )
        if t.shown:
            out.append("")
            out.append(fence(safe_code(t.code), "python"))
        out.append("")
    out.append("</details>")
    return "\n".join(out)


def coverage_section(result: ReviewResult) -> str:
    cov = result.coverage
    out = [f"**Coverage:** {escape_md(cov.summary(), None)}"]
    if cov.skipped:
        out.append("")
        out.append("<details><summary>Skipped files</summary>")
        out.append("")
        for s in cov.skipped:
            detail = f" ({escape_md(s.detail)})" if s.detail else ""
            out.append(f"- {code_span(s.path)}: {escape_md(s.reason)}{detail}")
        out.append("")
        out.append("</details>")
    for note in cov.notes:
        out.append(f"\n> {escape_md(note, MESSAGE_CHARS)}")
    if result.dropped:
        out.append(f"\n{escape_md(result.dropped_summary(), MESSAGE_CHARS)}")
    return "\n".join(out)


def render_markdown(result: ReviewResult, extra_findings: list[Finding] | None = None) -> str:
    out = ["## reviewbot review", ""]
    model = result.model or "static checks only"
    out.append(
        f"Reviewed {escape_md(result.label or 'change')}"
        + (f" at `{result.head_sha[:12]}`" if result.head_sha else "")
        + f" with {escape_md(model)}."
    )
    out.append("")
    out.append(counts_table(result.findings))
    out.append("")
    if result.findings:
        out.append("### Findings")
        out.extend(finding_line(f) for f in result.findings)
        out.append("")
    out.append(coverage_section(result))
    ts = tests_section(result.tests)
    if ts:
        out.append("")
        out.append(ts)
    return "\n".join(out) + "\n"
