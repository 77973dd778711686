"""JSON output, schema version 1 (documented in README "JSON output").

{"version": 1, "tool": {...}, "label": str, "backend": str, "model": str|null,
 "model_error": str|null, "findings": [Finding...], "tests": [TestSuggestion...],
 "test_isolation": str|null (the weakest sandbox isolation a suggested test ran under),
 "coverage": {...}, "dropped": {reason: count}, "timings": {stage: seconds}}
"""

from __future__ import annotations

import json
from typing import Any

from reviewbot import __version__
from reviewbot.findings import Finding
from reviewbot.result import ReviewResult, TestSuggestion

JSON_VERSION = 1


def finding_to_json(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": f.path,
        "line": f.line,
        "end_line": f.end_line,
        "side": f.side.value,
        "category": f.category.value,
        "severity": f.severity.value,
        "title": f.title,
        "message": f.message,
        "source": f.source,
        "fingerprint": f.fingerprint,
        "confidence": f.confidence,
    }
    if f.suggestion is not None:
        out["suggestion"] = f.suggestion
    if f.rule_id:
        out["rule_id"] = f.rule_id
    if f.cwe:
        out["cwe"] = f.cwe
    return out


def test_to_json(t: TestSuggestion) -> dict[str, Any]:
    return {
        "path": t.path,
        "target": t.target,
        "code": t.code,
        "level": int(t.level),
        "level_name": t.level.name.lower(),
        "outcome": t.outcome,
        "source": t.source,
        "reason": t.reason,
        "source_path": t.source_path,
        "line": t.line,
        "executed": not t.static_only,
        "shown": t.shown,
        "isolation": t.isolation,
    }


def result_to_json(result: ReviewResult) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "tool": {"name": "reviewbot", "version": __version__},
        "label": result.label,
        "head_sha": result.head_sha,
        "backend": result.backend,
        "model": result.model,
        "model_error": result.model_error,
        "findings": [finding_to_json(f) for f in result.findings],
        "tests": [test_to_json(t) for t in result.tests],
        "test_isolation": result.test_isolation,
        "coverage": result.coverage.to_json(),
        "dropped": dict(sorted(result.dropped.items())),
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
    }


def render_json(result: ReviewResult) -> str:
    return dump_json(result_to_json(result))


def dump_json(data: object) -> str:
    """Indented JSON text, UTF-8 where it can be; ``\\u`` escapes when a value (a path
    that is not UTF-8) cannot be encoded, so the output stays valid."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, indent=2, ensure_ascii=True)
    return text + "\n"
