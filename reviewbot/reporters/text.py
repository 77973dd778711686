"""Terminal output: findings grouped by file with the changed line shown, then coverage.

Everything printed from the review (paths, code, model titles and messages) is untrusted:
control characters are shown escaped so a change cannot drive the terminal (ANSI escape
sequences, carriage returns that hide text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reviewbot.findings import Finding, Severity, Side
from reviewbot.result import ReviewResult, TestSuggestion

_COLORS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)) if c != 0x09}
_INDENT = " " * 10


def safe(text: str) -> str:
    """``text`` with control characters (ESC, CR, newline, ...) shown as ``\\xNN``."""
    return text.translate(_CONTROL)


def _line_index(result: ReviewResult) -> dict[tuple[str, Side, int], str]:
    """(path, side, line) -> the diff line's text, built once per report."""
    index: dict[tuple[str, Side, int], str] = {}
    for fd in result.diff.files:
        for h in fd.hunks:
            for ln in h.lines:
                index[(fd.path, ln.side, ln.anchor_line)] = ln.text
    return index


def summary_line(result: ReviewResult) -> str:
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    total = len(result.findings)
    if not total:
        head = "no findings"
    else:
        head = (
            f"{total} finding{'s' if total != 1 else ''} ("
            + ", ".join(
                f"{counts[s]} {s.value}"
                for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
                if counts[s]
            )
            + ")"
        )
    return f"reviewbot: {head}; {safe(result.coverage.summary())}"


def render_text(result: ReviewResult, *, color: bool = False) -> str:
    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    out: list[str] = []
    groups: dict[str, list[Finding]] = {}
    for f in result.findings:
        groups.setdefault(f.path, []).append(f)
    index = _line_index(result) if groups else {}
    for path, fs in groups.items():
        out.append(c(_BOLD, safe(path)))
        for f in fs:
            where = f"{f.line}" if f.line == f.end_line else f"{f.line}-{f.end_line}"
            if f.side is Side.LEFT:
                where += " (removed)"
            sev = c(_COLORS[f.severity], f"{f.severity.value:<7}")
            out.append(
                f"  {where:>6}  {sev} {f.category.value}: {safe(f.title)}  "
                f"{c(_DIM, '[' + safe(f.source) + ']')}"
            )
            code = index.get((f.path, f.side, f.line))
            if code is not None:
                out.append(f"{_INDENT}{c(_DIM, '| ' + safe(code.strip()[:160]))}")
            for line in f.message.splitlines() or [""]:
                out.append(f"{_INDENT}{safe(line)}")
            if f.suggestion:
                for row in f.suggestion.splitlines()[:6]:
                    out.append(f"{_INDENT}{c(_DIM, '> ' + safe(row))}")
        out.append("")
    shown = [t for t in result.tests if t.shown]
    if result.tests:
        out.append(c(_BOLD, f"Suggested tests: {len(shown)} checked of {len(result.tests)}"))
        if result.test_isolation is not None:
            out.append(f"  sandbox: {safe(result.test_isolation)}")
        out.extend(_test_lines(result.tests, safe))
        out.append("")
    for s in result.coverage.skipped:
        out.append(
            c(
                _DIM,
                f"skipped {safe(s.path)}: {s.reason}"
                + (f" ({safe(s.detail)})" if s.detail else ""),
            )
        )
    for note in result.coverage.notes:
        out.append(f"note: {safe(note)}")
    if result.dropped:
        out.append(c(_DIM, safe(result.dropped_summary())))
    if result.backend == "static" and not result.model_error:
        out.append(
            c(
                _DIM,
                "static checks only; to add an LLM review set REVIEWBOT_LLM_URL="
                "http://HOST:8000/v1 (a vLLM server) and REVIEWBOT_MODEL",
            )
        )
    out.append(summary_line(result))
    return "\n".join(out) + "\n"


def _test_lines(tests: Sequence[TestSuggestion], safe: Callable[[str], str]) -> list[str]:
    """One line per suggestion; when several stopped at the same level for the same reason
    (a bare patch: no head files to check them against), one line names them all."""
    if len(tests) > 1 and len({(t.outcome, t.level, t.reason) for t in tests}) == 1:
        t = tests[0]
        names = ", ".join(safe(x.target) for x in tests)
        return [
            f"  {len(tests)} {safe(t.outcome)} at level {int(t.level)} "
            f"{t.level.name.lower()} ({names})" + (f": {safe(t.reason)}" if t.reason else "")
        ]
    return [
        f"  {safe(t.target)}: {safe(t.outcome)} (level {int(t.level)} "
        f"{t.level.name.lower()})" + (f" - {safe(t.reason)}" if t.reason else "")
        for t in tests
    ]
