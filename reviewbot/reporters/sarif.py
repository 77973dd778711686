"""SARIF 2.1.0 output (validated in tests against the official OASIS schema)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from reviewbot import __version__
from reviewbot.findings import Finding, Severity, Side
from reviewbot.result import ReviewResult

SRCROOT = "%SRCROOT%"
"""Paths are relative to the repository root, the base GitHub code scanning resolves."""
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule_id(f: Finding) -> str:
    return f.rule_id or f"model/{f.category.value}"


def _uri(path: str) -> str:
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _artifact(path: str) -> dict[str, Any]:
    return {"uri": _uri(path), "uriBaseId": SRCROOT}


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(f.path)}
    if f.side is Side.RIGHT:
        physical["region"] = {"startLine": f.line, "endLine": f.end_line}
    # A LEFT finding is on a removed line, which the head revision does not have: it is
    # reported on the file, with the old line numbers kept in its properties.
    location = {"physicalLocation": physical}
    res: dict[str, Any] = {
        "ruleId": _rule_id(f),
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": f"{f.title}: {f.message}"},
        "locations": [location],
        "partialFingerprints": {"reviewbotFingerprint/v1": f.fingerprint},
        "properties": {
            "category": f.category.value,
            "source": f.source,
            "confidence": f.confidence,
            "side": f.side.value,
            "line": f.line,
            "endLine": f.end_line,
        },
    }
    if f.suggestion is not None and f.side is Side.RIGHT:
        res["fixes"] = [
            {
                "description": {"text": "suggested replacement"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(f.path),
                        "replacements": [
                            {
                                "deletedRegion": {"startLine": f.line, "endLine": f.end_line},
                                "insertedContent": {"text": f.suggestion.rstrip("\n") + "\n"},
                            }
                        ],
                    }
                ],
            }
        ]
    return res


def result_to_sarif(result: ReviewResult) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    for f in result.findings:
        rid = _rule_id(f)
        if rid not in rules:
            rule: dict[str, Any] = {
                "id": rid,
                "shortDescription": {
                    "text": f.title if f.rule_id else f"model {f.category.value} finding"
                },
                "defaultConfiguration": {"level": _LEVEL[f.severity]},
                "properties": {"tags": [f.category.value] + ([f.cwe] if f.cwe else [])},
            }
            rules[rid] = rule
    index = {rid: i for i, rid in enumerate(rules)}
    props: dict[str, Any] = {"coverage": result.coverage.to_json(), "label": result.label}
    if result.head_sha:
        props["headSha"] = result.head_sha  # (versionControlProvenance needs the repo URI)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "reviewbot",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": list(rules.values()),
            }
        },
        "results": [_result(f, index[_rule_id(f)]) for f in result.findings],
        "columnKind": "unicodeCodePoints",
        "properties": props,
    }
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }


def render_sarif(result: ReviewResult) -> str:
    from reviewbot.reporters.json_report import dump_json

    return dump_json(result_to_sarif(result))
