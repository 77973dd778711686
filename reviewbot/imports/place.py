"""Imported diagnostics as findings, and the cross-tool dedupe of the filter stage.

A diagnostic becomes a :class:`~reviewbot.findings.Finding` fingerprinted like a built-in
static finding (the code it is anchored to, not its line number), tagged ``imported``; the
engine's filter then places it against the diff like every other finding.

Two tools reporting one issue on one place are one finding: findings on the same path and
side whose line ranges overlap and that share an *issue key* (a CWE id, a tool and rule
code such as ``ruff.S608`` however each tool spells it, or the rule code alone:
``js.eqeqeq`` and ``eslint.eqeqeq``) are duplicates; a built-in finding
is kept over an imported one, else the first (the more severe after sorting).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from reviewbot.anchoring import anchor_identity
from reviewbot.context.extract import SourceFile
from reviewbot.diff.model import FileDiff
from reviewbot.findings import Finding, Side, fingerprint
from reviewbot.imports.model import Diagnostic, ImportBatch

IMPORTED_TAG = "imported"
TITLE_CHARS = 160

_SPLIT = re.compile(r"[./:]")


def imported_findings(
    batches: Sequence[ImportBatch], files: Mapping[str, tuple[SourceFile | None, FileDiff]]
) -> list[Finding]:
    """Every diagnostic of ``batches`` as a finding (``files``: the diff's files by path, with
    their head source where it was read)."""
    out: list[Finding] = []
    for batch in batches:
        for d in batch.diagnostics:
            out.append(_finding(d, files.get(d.path)))
    return out


def _finding(d: Diagnostic, file: tuple[SourceFile | None, FileDiff] | None) -> Finding:
    code, occurrence = ("", 0)
    if file is not None:
        code, occurrence = anchor_identity(file[0], file[1], d.line, d.end_line, Side.RIGHT)
    first = d.message.splitlines()[0] if d.message else d.rule_id
    title = first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"
    return Finding(
        path=d.path,
        line=d.line,
        end_line=d.end_line,
        side=Side.RIGHT,
        category=d.category,
        severity=d.severity,
        title=title,
        message=f"{d.message} ({d.tool} {d.code})".strip() if d.code else d.message,
        source=d.rule_id,
        fingerprint=fingerprint(d.path, code, d.category, d.rule_id, occurrence),
        rule_id=d.rule_id,
        cwe=d.cwe,
        tags=(IMPORTED_TAG,),
    )


def is_imported(f: Finding) -> bool:
    return IMPORTED_TAG in f.tags


def issue_keys(f: Finding) -> frozenset[str]:
    """What names the issue across tools: the CWE and the normalised ``tool.code``."""
    keys: set[str] = set()
    if f.cwe:
        keys.add(f.cwe.upper())
    if f.rule_id:
        parts = [p for p in _SPLIT.split(f.rule_id.lower()) if p]
        if len(parts) >= 2:
            keys.add(f"{parts[0]}.{parts[-1]}")
            keys.add(f"code:{parts[-1]}")  # js.eqeqeq and eslint.eqeqeq, E501 of two tools
    return frozenset(keys)


def drop_cross_tool(findings: Sequence[Finding], drop: Callable[[Finding], None]) -> list[Finding]:
    """``findings`` without the imported ones another finding already reports (module doc)."""
    kept: list[Finding] = []
    by_path: dict[tuple[str, Side], list[tuple[Finding, frozenset[str]]]] = {}
    ordered = sorted(findings, key=lambda f: (is_imported(f), -f.severity.rank))
    for f in ordered:
        keys = issue_keys(f)
        same = by_path.setdefault((f.path, f.side), [])
        if (
            is_imported(f)
            and keys
            and any(
                keys & other_keys and f.line <= other.end_line and other.line <= f.end_line
                for other, other_keys in same
            )
        ):
            drop(f)
            continue
        same.append((f, keys))
        kept.append(f)
    return kept
