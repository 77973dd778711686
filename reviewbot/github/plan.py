"""Deciding what to post, before any write: a pure function of findings, diff and PR state.

* every finding is checked against the PR's diff (:meth:`FileDiff.accepts_range`): a range
  within one hunk becomes a multi-line comment, a range GitHub would refuse falls back to its
  last line when that line is in the diff (without the suggestion, which would replace the
  wrong lines), and otherwise the finding goes into the summary;
* a finding whose fingerprint already has a reviewbot comment on the PR is not posted again;
* at most ``cap`` inline comments for the reported findings on the PR at once, counting
  those already there (a re-run does not add another ``cap``), most severe first; the rest
  go into the summary;
* earlier reviewbot comments whose finding is no longer reported, in files this run
  reviewed, and that nobody replied to, are stale: the publisher deletes them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from reviewbot.diff.model import Diff
from reviewbot.findings import Finding, Severity, Side
from reviewbot.github.identity import body_digest
from reviewbot.github.markers import PREFIX, fp_marker
from reviewbot.reporters.markdown import escape_md, fence
from reviewbot.safe_publish import cut, safe_block, safe_code

_ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟠", Severity.INFO: "🔵"}
MAX_BODY = 60_000
"""GitHub refuses comment bodies over 65,536 characters."""


@dataclass(frozen=True, slots=True)
class ExistingComment:
    """A reviewbot inline comment already on the PR."""

    id: int
    path: str
    fingerprint: str
    severity: str | None
    category: str | None
    has_replies: bool
    outdated: bool
    """GitHub no longer shows it on the current diff (``line`` is null)."""
    trusted: bool = True
    """Proven reviewbot's (:mod:`reviewbot.github.identity`). An unverified one is never
    deleted and stands for a finding only when its body is exactly that finding's comment."""
    body_sha: str = ""


@dataclass(frozen=True, slots=True)
class InlineComment:
    finding: Finding
    path: str
    line: int
    side: Side
    start_line: int | None
    body: str

    def payload(self) -> dict[str, object]:
        """The entry of a create-review request's ``comments`` array."""
        out: dict[str, object] = {
            "path": self.path,
            "line": self.line,
            "side": self.side.value,
            "body": self.body,
        }
        if self.start_line is not None:
            out["start_line"] = self.start_line
            out["start_side"] = self.side.value
        return out


@dataclass(frozen=True, slots=True)
class Plan:
    inline: tuple[InlineComment, ...]
    existing: tuple[Finding, ...]
    """Reported again and already on the PR: not reposted."""
    to_summary: tuple[tuple[Finding, str], ...]
    """(finding, reason) listed in the summary instead of inline."""
    stale: tuple[ExistingComment, ...]
    kept_earlier: tuple[ExistingComment, ...]
    """Earlier comments in files this run did not review (incremental runs): left alone."""


MAX_SUGGESTION_LINES = 100
MAX_SUGGESTION_CHARS = 10_000


def suggestion_block(f: Finding) -> str | None:
    """The ```suggestion block for ``f``, or None when it must not be offered: too long
    (never cut: "Commit suggestion" would write the cut), or holding text that redaction or
    control removal would change (the committed code would differ from what was shown)."""
    code = f.suggestion.rstrip("\n") if f.suggestion is not None else None
    if (
        code is None
        or len(code) > MAX_SUGGESTION_CHARS
        or (code.count("\n") >= MAX_SUGGESTION_LINES)
        or PREFIX in code
    ):
        return None
    if safe_code(code) != code:
        return None
    return fence(code, "suggestion")


def comment_body(f: Finding, with_suggestion: bool) -> str:
    head = (
        f"{_ICON[f.severity]} **{escape_md(f.title)}** "
        f"<sub>{f.severity.value} · {f.category.value}</sub>"
    )
    extra = f" · {escape_md(f.cwe, 100)}" if f.cwe else ""
    foot = f"<sub>reviewbot · {escape_md(f.source, 200)}{extra}</sub>"
    message = safe_block(f.message)
    block = suggestion_block(f) if with_suggestion and f.side is Side.RIGHT else None
    parts = [head, "", message] + (["", block] if block else []) + ["", foot]
    text = "\n".join(parts)
    if len(text) > MAX_BODY:  # drop the suggestion whole, then shorten the message
        room = MAX_BODY - len(head) - len(foot) - 4
        text = "\n".join([head, "", cut(message, room), "", foot])
    # the marker is outside any fence: the message has none (safe_block escapes them), the
    # suggestion's is closed, and cut() closes what it shortens
    return text + "\n\n" + fp_marker(f.fingerprint, f.severity.value, f.category.value)


def anchor(f: Finding, diff: Diff) -> tuple[int, int | None, bool] | None:
    """(line, start_line, exact) GitHub accepts for ``f``, or None when nothing fits."""
    fd = diff.by_path().get(f.path)
    if fd is None:
        return None
    if fd.accepts_range(f.line, f.end_line, f.side):
        return f.end_line, (f.line if f.end_line > f.line else None), True
    if fd.accepts_range(f.end_line, f.end_line, f.side):
        return f.end_line, None, False
    if fd.accepts_range(f.line, f.line, f.side):
        return f.line, None, False
    return None


def _order(f: Finding) -> tuple[int, str, int]:
    return (-f.severity.rank, f.path, f.line)


def make_plan(
    findings: Sequence[Finding],
    diff: Diff,
    existing: Iterable[ExistingComment],
    *,
    cap: int,
    reviewed_paths: Collection[str],
) -> Plan:
    existing = list(existing)
    on_pr = {c.fingerprint for c in existing if c.trusted and not c.outdated}
    shown = {(c.path, c.body_sha) for c in existing if not c.trusted and not c.outdated}
    inline: list[InlineComment] = []
    to_summary: list[tuple[Finding, str]] = []
    ordered = sorted(findings, key=_order)
    placed: list[tuple[Finding, tuple[int, int | None, bool] | None, str]] = []
    already: list[Finding] = []
    for f in ordered:
        place = anchor(f, diff)
        body = comment_body(f, place[2]) if place is not None else ""
        if f.fingerprint in on_pr or (place is not None and (f.path, body_digest(body)) in shown):
            already.append(f)
        else:
            placed.append((f, place, body))
    budget = cap - len(already)
    for f, place, body in placed:
        if place is None:
            to_summary.append((f, "no line of the diff to attach it to"))
            continue
        if len(inline) >= budget:
            to_summary.append((f, f"over the limit of {cap} inline comments"))
            continue
        line, start, _exact = place
        inline.append(InlineComment(f, f.path, line, f.side, start, body))
    reported = {f.fingerprint for f in findings}
    stale: list[ExistingComment] = []
    kept: list[ExistingComment] = []
    seen: set[str] = set()
    for c in existing:
        if not c.trusted:
            continue
        if c.path not in reviewed_paths:
            kept.append(c)
            continue
        duplicate = not c.outdated and c.fingerprint in seen
        if not c.outdated:
            seen.add(c.fingerprint)
        if (c.fingerprint not in reported or c.outdated or duplicate) and not c.has_replies:
            stale.append(c)
    return Plan(tuple(inline), tuple(already), tuple(to_summary), tuple(stale), tuple(kept))
