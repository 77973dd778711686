"""The static stage: the tree-sitter rules on every prepared file (forked for a large
change) and ruff's findings, as findings built one way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from reviewbot.anchoring import anchor_identity
from reviewbot.chunking import hunk_spans
from reviewbot.config import Config
from reviewbot.context.extract import Definition, SourceFile
from reviewbot.deadline import NO_DEADLINE, Deadline, past_deadline
from reviewbot.diff.model import FileStatus
from reviewbot.findings import Finding, Side, fingerprint
from reviewbot.forking import ForkMap, can_fork, usable_cpus
from reviewbot.prepare import PreparedFile
from reviewbot.static import analyze, preload, touches
from reviewbot.static.base import StaticHit
from reviewbot.static.ruff_rules import expand_disabled
from reviewbot.static.ruff_run import RuffOutcome, to_hits


@dataclass(frozen=True, slots=True)
class FileChecks:
    """What the static stage learns about one file."""

    findings: list[Finding]
    definitions: dict[tuple[int, int], tuple[Definition, ...]]
    """The enclosing definitions of each hunk's span: a process that did not parse the
    file builds its chunk items from these instead of parsing it again."""
    stopped: bool = False
    """Not checked: the review's time budget was spent before this file's turn."""


_FORK_MIN_BYTES = 512 * 1024
"""Below this much analysable source a review runs its static checks in one process: a
fork and the pickled results would cost more than the second core gives back."""

StaticJob = ForkMap[PreparedFile, FileChecks]


def static_job(
    files: Sequence[PreparedFile],
    config: Config,
    deadline: Deadline = NO_DEADLINE,
    *,
    definitions: bool = True,
) -> StaticJob:
    """The static checks of ``files`` as a :class:`ForkMap`: for a large change, forked
    children (``config.jobs``; 0 = one per usable CPU) and the parent take the files in
    batches; the parent builds each of its files' chunk items as it goes. ``definitions``:
    also record the enclosing definitions of each hunk (the chunk items' context; not
    needed when no model is asked)."""
    disabled = expand_disabled(frozenset(config.disabled_rules))
    weights = [
        float(len(pf.source.data)) if pf.source is not None and pf.source.language else 0.0
        for pf in files
    ]
    workers = config.jobs or usable_cpus()
    if sum(weights) < _FORK_MIN_BYTES or not can_fork():
        workers = 1
    if workers > 1:  # imported once, before the fork, not in the parent and each child
        preload(
            {pf.source.language for pf in files if pf.source is not None and pf.source.language}
        )
    return ForkMap(
        partial(_file_static, disabled=disabled, deadline_at=deadline.at, definitions=definitions),
        files,
        weights,
        workers=workers,
    )


def _added_lines(pf: PreparedFile) -> frozenset[int]:
    return frozenset(
        ln.new_lineno for h in pf.diff.hunks for ln in h.added() if ln.new_lineno is not None
    )


def _static_finding(pf: PreparedFile, source: SourceFile, hit: StaticHit) -> Finding:
    code, occurrence = anchor_identity(source, pf.diff, hit.line, hit.end_line, Side.RIGHT)
    return Finding(
        path=pf.diff.path,
        line=hit.line,
        end_line=hit.end_line,
        side=Side.RIGHT,
        category=hit.category,
        severity=hit.severity,
        title=hit.title,
        message=hit.message,
        source=hit.rule_id,
        fingerprint=fingerprint(pf.diff.path, code, hit.category, hit.rule_id, occurrence),
        confidence=hit.confidence,
        suggestion=hit.suggestion,
        rule_id=hit.rule_id,
        cwe=hit.cwe,
    )


def _file_static(
    pf: PreparedFile,
    disabled: frozenset[str],
    deadline_at: float | None = None,
    definitions: bool = True,
) -> FileChecks:
    if past_deadline(deadline_at):  # monotonic: the same clock in a forked child
        return FileChecks([], {}, stopped=True)
    if pf.source is None:
        return FileChecks([], {})
    src = pf.source
    out = [_static_finding(pf, src, hit) for hit in analyze(src, _added_lines(pf), disabled)]
    known: dict[tuple[int, int], tuple[Definition, ...]] = {}
    if definitions and src.tree is not None:
        for span in hunk_spans([h.lines for h in pf.diff.hunks]):
            known[span] = tuple(src.definitions_at(*span))
    # The chunk items need only these definitions: the tree can go (bounded memory).
    src.remember_definitions(known)
    src.release_tree()
    return FileChecks(out, known)


def ruff_inputs(files: Sequence[PreparedFile]) -> list[tuple[str, bytes, bool]]:
    """(path, head bytes, whole file?) of the changed Python files for ruff. A modified
    file rebuilt from the diff is not whole: it has blank lines where the real code is,
    so ruff skips the checks that would find undefined names in it."""
    return [
        (pf.diff.path, pf.source.data, not pf.synthesized or pf.diff.status is FileStatus.ADDED)
        for pf in files
        if pf.source is not None
        and pf.source.language == "python"
        and any(True for h in pf.diff.hunks for _ in h.added())
    ]


def ruff_findings(
    files: Sequence[PreparedFile], outcome: RuffOutcome, disabled: frozenset[str]
) -> list[Finding]:
    """ruff's hits on added lines, as findings built like every other static finding."""
    out: list[Finding] = []
    for pf in files:
        found = outcome.hits.get(pf.diff.path)
        if not found or pf.source is None:
            continue
        added = _added_lines(pf)
        out += [
            _static_finding(pf, pf.source, hit)
            for hit in to_hits(found, pf.source.lines)
            if hit.rule_id not in disabled and touches(hit, added)
        ]
    return out
