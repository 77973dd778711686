"""Terminal output: findings grouped by file with the changed line shown, then coverage."""

from __future__ import annotations

from collections import defaultdict

from reviewbot.findings import Finding, Severity
from reviewbot.result import ReviewResult

_COLORS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _line_text(result: ReviewResult, f: Finding) -> str | None:
    for fd in result.diff.files:
        if fd.path != f.path:
            continue
        for h in fd.hunks:
            for ln in h.lines:
                n = ln.old_lineno if f.side.value == "LEFT" else ln.new_lineno
                if n == f.line and (ln.kind.value == "-") == (f.side.value == "LEFT"):
                    return ln.text
    return None


def summary_line(result: ReviewResult) -> str:
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    total = len(result.findings)
    if not total:
        head = "no findings"
    else:
        head = f"{total} finding{'s' if total != 1 else ''} (" + ", ".join(
            f"{counts[s]} {s.value}" for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
            if counts[s]) + ")"
    return f"reviewbot: {head}; {result.coverage.summary()}"


def render_text(result: ReviewResult, *, color: bool = False) -> str:
    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    out: list[str] = []
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        groups[f.path].append(f)
    for path, fs in groups.items():
        out.append(c(_BOLD, path))
        for f in fs:
            where = f"{f.line}" if f.line == f.end_line else f"{f.line}-{f.end_line}"
            sev = c(_COLORS[f.severity], f"{f.severity.value:<7}")
            out.append(f"  {where:>6}  {sev} {f.category.value}: {f.title}  {c(_DIM, '[' + f.source + ']')}")
            code = _line_text(result, f)
            if code is not None:
                out.append(f"          {c(_DIM, '| ' + code.strip()[:160])}")
            out.append(f"          {f.message}")
            if f.suggestion:
                for s in f.suggestion.splitlines()[:6]:
                    out.append(f"          {c(_DIM, '> ' + s)}")
        out.append("")
    shown = [t for t in result.tests if t.shown]
    if result.tests:
        out.append(c(_BOLD, f"Suggested tests: {len(shown)} checked of {len(result.tests)}"))
        for t in result.tests:
            out.append(f"  {t.target}: {t.outcome} (level {int(t.level)} {t.level.name.lower()})"
                       + (f" - {t.reason}" if t.reason else ""))
        out.append("")
    for s in result.coverage.skipped:
        out.append(c(_DIM, f"skipped {s.path}: {s.reason}" + (f" ({s.detail})" if s.detail else "")))
    for note in result.coverage.notes:
        out.append(f"note: {note}")
    if result.backend == "static" and not result.model_error:
        out.append(c(_DIM, "static checks only; to add an LLM review set REVIEWBOT_LLM_URL="
                           "http://HOST:8000/v1 (a vLLM server) and REVIEWBOT_MODEL"))
    out.append(summary_line(result))
    return "\n".join(out) + "\n"
