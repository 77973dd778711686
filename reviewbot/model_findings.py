"""Turning model answers into findings: schema-checked entries placed on the chunk's lines.

An answer that is not valid against ``findings.schema.json`` is a failed chunk (never "reviewed,
no findings"); invalid entries inside a valid answer are dropped one by one and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reviewbot.anchoring import anchor_identity
from reviewbot.backends.base import LLMResult
from reviewbot.backends.schema_check import problem, shape_problem
from reviewbot.chunking import Chunk
from reviewbot.config import Config
from reviewbot.findings import Category, Finding, Severity, Side, fingerprint
from reviewbot.prompts_render import load_schema

if TYPE_CHECKING:
    from reviewbot.prepare import PreparedFile


_ANSWER_SCHEMA = load_schema("findings.schema.json")
_FINDING_SCHEMA: dict[str, Any] = _ANSWER_SCHEMA["properties"]["findings"]["items"]
_MAX_FINDINGS: int = _ANSWER_SCHEMA["properties"]["findings"]["maxItems"]


def _count(dropped: dict[str, int], reason: str, n: int) -> None:
    if n > 0:
        dropped[reason] = dropped.get(reason, 0) + n


_CATEGORIES = {c.value: c for c in Category}
_SEVERITIES = {s.value: s for s in Severity}


def _model_finding(
    raw: object, chunk: Chunk, files: dict[str, PreparedFile], model: str
) -> Finding | str:
    """A Finding from one raw answer entry, or the reason it is dropped."""
    if not isinstance(raw, dict) or problem(raw, _FINDING_SCHEMA, "finding") is not None:
        return "malformed"
    path = raw.get("path")
    line = raw.get("line")
    end = raw.get("end_line", line)
    if not isinstance(line, int) or isinstance(line, bool):
        return "malformed"
    if not isinstance(end, int) or isinstance(end, bool) or end < line:
        end = line
    allowed = chunk.anchorable()
    if not isinstance(path, str) or path not in allowed:
        only = next(iter(allowed)) if len(allowed) == 1 else None
        # "a/shop/orders.py", "./shop/orders.py": the chunk's file under a prefix, on a "/"
        # boundary ("xshop/orders.py" is another file)
        if only is not None and isinstance(path, str) and path.endswith("/" + only):
            path = next(iter(allowed))
        else:
            return "outside chunk"
    lines = allowed[path]
    item_ranges = [r for item in chunk.items if item.path == path for r in item.hunk_line_sets()]
    if line not in lines or not any(line in r and end in r for r in item_ranges):
        return "outside chunk"
    category = _CATEGORIES.get(str(raw.get("category", "")).lower())
    severity = _SEVERITIES.get(str(raw.get("severity", "")).lower())
    title = str(raw.get("title") or "").strip()[:200]
    message = str(raw.get("message") or "").strip()[:2000]
    if category is None or severity is None or not (title or message):
        return "malformed"
    suggestion = raw.get("suggestion")
    pf = files[path]
    code, occurrence = anchor_identity(pf.source, pf.diff, line, end, Side.RIGHT)
    return Finding(
        path=path,
        line=line,
        end_line=end,
        side=Side.RIGHT,
        category=category,
        severity=severity,
        title=title or message[:80],
        message=message or title,
        source=f"model:{model}",
        fingerprint=fingerprint(path, code, category, title or message, occurrence),
        confidence=0.6,
        suggestion=suggestion if isinstance(suggestion, str) and suggestion.strip() else None,
    )


@dataclass(frozen=True, slots=True)
class ModelFindings:
    """What the answers became: findings, chunks without a usable answer, entries dropped."""

    found: list[Finding]
    failures: list[tuple[int, str]]
    """(chunk index, why) for chunks the model did not review."""
    dropped: dict[str, int]
    """Answer entries dropped, by reason."""


def model_findings(
    chunks: Sequence[Chunk],
    results: Sequence[LLMResult],
    files: dict[str, PreparedFile],
    config: Config,
    model: str,
) -> ModelFindings:
    dropped: dict[str, int] = {}
    by_key = {r.key: r for r in results}
    out: list[Finding] = []
    failures: list[tuple[int, str]] = []
    for chunk in chunks:
        res = by_key.get(f"chunk-{chunk.index}")
        if res is None or not res.samples:
            failures.append((chunk.index, (res.error if res else None) or "no answer"))
            continue
        problems = [shape_problem(s, _ANSWER_SCHEMA) for s in res.samples]
        samples = [s for s, p in zip(res.samples, problems, strict=True) if p is None]
        if not samples:  # prose, {"event": "APPROVE"}, no findings list: failed, not clean
            failures.append((chunk.index, f"malformed answer: {problems[0]}"))
            continue
        _count(dropped, "malformed answer", len(res.samples) - len(samples))
        votes: dict[str, list[Finding]] = {}
        for sample in samples:
            raws: list[Any] = sample["findings"]
            _count(dropped, "over the answer's limit", len(raws) - _MAX_FINDINGS)
            seen: set[str] = set()
            for raw in raws[:_MAX_FINDINGS]:
                f = _model_finding(raw, chunk, files, model)
                if isinstance(f, str):
                    dropped[f] = dropped.get(f, 0) + 1
                    continue
                if f.fingerprint in seen:
                    _count(dropped, "repeated in one answer", 1)
                    continue
                seen.add(f.fingerprint)
                votes.setdefault(f.fingerprint, []).append(f)
        need = config.llm.consensus if len(samples) > 1 else 1
        for fs in votes.values():
            if len(fs) >= need:
                out.append(
                    fs[0]
                    if len(samples) == 1
                    else replace(fs[0], confidence=round(len(fs) / len(samples), 2))
                )
            else:
                dropped["no consensus"] = dropped.get("no consensus", 0) + 1
    return ModelFindings(out, failures, dropped)
