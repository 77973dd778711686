"""Turning model answers into findings: schema-checked entries placed on the chunk's lines.

An answer that is not valid against ``findings.schema.json`` is a failed chunk (never "reviewed,
no findings"); invalid entries inside a valid answer are dropped one by one and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reviewbot.backends.base import LLMResult
from reviewbot.backends.schema_check import problem, shape_problem
from reviewbot.chunking import Chunk
from reviewbot.config import Config
from reviewbot.context.extract import SourceFile
from reviewbot.diff.model import FileDiff
from reviewbot.findings import Category, Finding, Severity, Side, fingerprint, normalise_code
from reviewbot.prompts_render import load_schema

if TYPE_CHECKING:
    from reviewbot.prepare import PreparedFile


def anchored_code(src: SourceFile | None, fd: FileDiff, line: int, end: int, side: Side) -> str:
    return anchor_identity(src, fd, line, end, side)[0]


def anchor_identity(src: SourceFile | None, fd: FileDiff, line: int, end: int,
                    side: Side) -> tuple[str, int]:
    """The code a finding is anchored to, and how many times the same code (whitespace
    aside) occurs above it in the file (the head file, or the diff's lines on the old side):
    what tells a finding on one of two identical lines from the other."""
    texts: Sequence[str]
    haystack: bytes | None = None
    if side is Side.RIGHT and src is not None and src.data != b"":
        texts, haystack = src.lines, src.data
        first, size = line - 1, max(0, min(end, len(texts)) - line + 1)
    else:
        pairs = sorted({(n, ln.text) for h in fd.hunks for ln in h.lines
                        if (n := ln.old_lineno if side is Side.LEFT else ln.new_lineno)
                        is not None})
        texts = [t for _, t in pairs]
        where = [i for i, (n, _) in enumerate(pairs) if line <= n <= end]
        first, size = (where[0], len(where)) if where else (0, 0)
    if size == 0:
        return "", 0
    code = "\n".join(texts[first : first + size])
    return code, _earlier_copies(texts, first, size, haystack)


def _earlier_copies(texts: Sequence[str], first: int, size: int, haystack: bytes | None) -> int:
    head = texts[first].strip()
    if not head:
        return 0
    if haystack is not None and haystack.count(head.encode("utf-8", "surrogateescape")) < 2:
        return 0  # the usual case, found in C: the line is unique
    want = normalise_code("\n".join(texts[first : first + size]))
    return sum(1 for i in range(first) if texts[i].strip() == head
               and normalise_code("\n".join(texts[i : i + size])) == want)




_ANSWER_SCHEMA = load_schema("findings.schema.json")
_FINDING_SCHEMA: dict[str, Any] = _ANSWER_SCHEMA["properties"]["findings"]["items"]
_MAX_FINDINGS: int = _ANSWER_SCHEMA["properties"]["findings"]["maxItems"]


def _count(dropped: dict[str, int], reason: str, n: int) -> None:
    if n > 0:
        dropped[reason] = dropped.get(reason, 0) + n


_CATEGORIES = {c.value: c for c in Category}
_SEVERITIES = {s.value: s for s in Severity}


def _model_finding(raw: object, chunk: Chunk, files: dict[str, PreparedFile],
                   model: str) -> Finding | str:
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
        path=path, line=line, end_line=end, side=Side.RIGHT, category=category,
        severity=severity, title=title or message[:80], message=message or title,
        source=f"model:{model}", fingerprint=fingerprint(path, code, category, title or message,
                                                           occurrence),
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
    chunks: Sequence[Chunk], results: Sequence[LLMResult], files: dict[str, PreparedFile],
    config: Config, model: str,
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
                out.append(fs[0] if len(samples) == 1 else replace(
                    fs[0], confidence=round(len(fs) / len(samples), 2)))
            else:
                dropped["no consensus"] = dropped.get("no consensus", 0) + 1
    return ModelFindings(out, failures, dropped)
