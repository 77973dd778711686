"""The import formats: SARIF 2.1.0, reviewdog's rdjson and rdjsonl, checkstyle XML, and
the native JSON of eslint (``-f json``), shellcheck (``-f json`` / ``json1``) and mypy
(``-O json``).

Each parser takes the decoded document and a :class:`~reviewbot.imports.model.Collector`
and raises :class:`ImportFormatError` (a plain message; the caller names the file) when the
document is not of its format. Unknown fields are ignored; missing optional ones are
tolerated; wrong types are errors.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from reviewbot.findings import Severity
from reviewbot.imports.model import Collector


class ImportFormatError(Exception):
    """The document does not have the shape its format requires."""


def _obj(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportFormatError(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportFormatError(f"{what} is not a list")
    return value


def _get(d: object, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


# --- SARIF 2.1.0 -------------------------------------------------------------------------

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+:")
_SARIF_LEVEL = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "note": Severity.INFO,
    "none": Severity.INFO,
}


def parse_sarif(doc: object, out: Collector) -> None:
    top = _obj(doc, "the SARIF log")
    version = top.get("version")
    if version is not None and version != "2.1.0":
        raise ImportFormatError(
            f"SARIF version {str(version)[:20]!r} is not supported (only 2.1.0)"
        )
    for i, run_raw in enumerate(_list(top.get("runs"), "runs")):
        run = _obj(run_raw, f"runs[{i}]")
        driver = _obj(_get(run, "tool", "driver") or {}, f"runs[{i}].tool.driver")
        tool = str(driver.get("name") or "sarif")
        rules = [r if isinstance(r, dict) else {} for r in _list(driver.get("rules"), "rules")]
        by_id = {str(r.get("id")): r for r in rules if r.get("id") is not None}
        bases = _uri_bases(run.get("originalUriBaseIds"))
        artifacts = _list(run.get("artifacts"), f"runs[{i}].artifacts")
        for j, res_raw in enumerate(_list(run.get("results"), f"runs[{i}].results")):
            res = _obj(res_raw, f"runs[{i}].results[{j}]")
            rule_index = res.get("ruleIndex", _get(res, "rule", "index"))
            rule: dict[str, Any] = {}
            if isinstance(rule_index, int) and 0 <= rule_index < len(rules):
                rule = rules[rule_index]
            rule_id = res.get("ruleId") or _get(res, "rule", "id") or rule.get("id") or ""
            rule = rule or by_id.get(str(rule_id), {})
            level = res.get("level") or _get(rule, "defaultConfiguration", "level") or "warning"
            message = _get(res, "message", "text") or _get(rule, "shortDescription", "text")
            tags = tuple(
                str(t)
                for t in (
                    _list(_get(rule, "properties", "tags"), "tags")
                    + _list(_get(res, "properties", "tags"), "tags")
                )
            )
            if _get(rule, "properties", "security-severity") is not None:
                tags += ("security",)
            locations = _list(res.get("locations"), "locations")
            phys = _get(locations[0], "physicalLocation") if locations else None
            if not isinstance(phys, dict):
                out.skip("no location")
                continue
            art = phys.get("artifactLocation")
            index = _get(art, "index")
            if not _get(art, "uri") and isinstance(index, int) and 0 <= index < len(artifacts):
                art = _get(artifacts[index], "location")
            uri = _sarif_path(_resolve(_get(art, "uri"), _get(art, "uriBaseId"), bases))
            region = phys.get("region")
            region = region if isinstance(region, dict) else {}
            out.add(
                uri,
                region.get("startLine"),
                region.get("endLine"),
                _SARIF_LEVEL.get(str(level), Severity.WARNING),
                tool,
                rule_id,
                message,
                tags=tags,
            )


def _sarif_path(uri: str | None) -> str | None:
    """A SARIF URI as a path: ``file:`` URIs kept for the collector, relative references
    percent-decoded, other schemes (``https:``) nothing in the repository (None)."""
    if uri is None or uri.startswith("file:"):
        return uri
    if _SCHEME.match(uri):
        return ""
    return unquote(uri)


def _uri_bases(raw: object) -> dict[str, tuple[str | None, str | None]]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): (_get(v, "uri"), _get(v, "uriBaseId")) for k, v in raw.items()}


def _resolve(
    uri: object, base_id: object, bases: Mapping[str, tuple[str | None, str | None]], depth: int = 0
) -> str | None:
    if not isinstance(uri, str) or not uri:
        return None
    if _SCHEME.match(uri) or not isinstance(base_id, str) or depth > 8:
        return uri
    base_uri, parent = bases.get(base_id, (None, None))
    if not isinstance(base_uri, str) or not base_uri:
        return uri  # %SRCROOT% and friends without a mapping: relative to the root
    joined = base_uri.rstrip("/") + "/" + uri.lstrip("/")
    return _resolve(joined, parent, bases, depth + 1)


# --- reviewdog rdjson / rdjsonl ----------------------------------------------------------

_RD_LEVEL = {
    "ERROR": Severity.ERROR,
    "WARNING": Severity.WARNING,
    "INFO": Severity.INFO,
    1: Severity.ERROR,
    2: Severity.WARNING,
    3: Severity.INFO,
}


def _rd_diagnostic(
    d_raw: object, out: Collector, default_tool: str, default_level: object, where: str
) -> None:
    d = _obj(d_raw, where)
    loc = _obj(d.get("location") or {}, f"{where}.location")
    rng = loc.get("range") if isinstance(loc.get("range"), dict) else {}
    tool = _get(d, "source", "name") or default_tool
    level = d.get("severity") or default_level
    code = _get(d, "code", "value")
    out.add(
        loc.get("path"),
        _get(rng, "start", "line"),
        _get(rng, "end", "line"),
        _RD_LEVEL.get(level, Severity.WARNING)
        if isinstance(level, str | int)
        else Severity.WARNING,
        str(tool),
        code,
        d.get("message"),
    )


def parse_rdjson(doc: object, out: Collector) -> None:
    top = _obj(doc, "the rdjson document")
    tool = str(_get(top, "source", "name") or "rdjson")
    for i, d in enumerate(_list(top.get("diagnostics"), "diagnostics")):
        _rd_diagnostic(d, out, tool, top.get("severity"), f"diagnostics[{i}]")


def parse_rdjsonl(lines: list[object], out: Collector) -> None:
    for i, d in enumerate(lines):
        _rd_diagnostic(d, out, "rdjsonl", None, f"line {i + 1}")


# --- checkstyle XML ----------------------------------------------------------------------

_CS_LEVEL = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "ignore": Severity.INFO,
}


def parse_checkstyle(root: ET.Element, out: Collector) -> None:
    if root.tag != "checkstyle":
        raise ImportFormatError(f"the root element is <{root.tag[:40]}>, not <checkstyle>")
    for file_el in root.iter("file"):
        name = file_el.get("name")
        for err in file_el.iter("error"):
            source = err.get("source") or ""
            parts = [p for p in source.split(".") if p]
            tool = parts[0] if len(parts) > 1 else "checkstyle"
            code = parts[-1] if parts else ""
            out.add(
                name,
                err.get("line"),
                err.get("line"),
                _CS_LEVEL.get((err.get("severity") or "").lower(), Severity.WARNING),
                tool,
                code,
                err.get("message"),
            )


# --- native JSON of a few linters --------------------------------------------------------


def parse_eslint(doc: object, out: Collector) -> None:
    for i, f_raw in enumerate(_list(doc, "the eslint report")):
        f = _obj(f_raw, f"[{i}]")
        for j, m_raw in enumerate(_list(f.get("messages"), f"[{i}].messages")):
            m = _obj(m_raw, f"[{i}].messages[{j}]")
            sev = Severity.ERROR if m.get("severity") == 2 else Severity.WARNING
            out.add(
                f.get("filePath"),
                m.get("line"),
                m.get("endLine"),
                sev,
                "eslint",
                m.get("ruleId") or ("parse-error" if m.get("fatal") else ""),
                m.get("message"),
            )


_SC_LEVEL = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "style": Severity.INFO,
}


def parse_shellcheck(doc: object, out: Collector) -> None:
    if isinstance(doc, dict):  # -f json1
        doc = doc.get("comments")
    for i, c_raw in enumerate(_list(doc, "the shellcheck report")):
        c = _obj(c_raw, f"[{i}]")
        code = c.get("code")
        out.add(
            c.get("file"),
            c.get("line"),
            c.get("endLine"),
            _SC_LEVEL.get(str(c.get("level")), Severity.WARNING),
            "shellcheck",
            f"SC{code}" if isinstance(code, int) else code,
            c.get("message"),
        )


_MYPY_LEVEL = {"error": Severity.ERROR, "note": Severity.INFO}


def parse_mypy(lines: list[object], out: Collector) -> None:
    for i, m_raw in enumerate(lines):
        m = _obj(m_raw, f"line {i + 1}")
        hint = m.get("hint")
        text = str(m.get("message") or "") + (
            f" ({hint})" if isinstance(hint, str) and hint else ""
        )
        out.add(
            m.get("file"),
            m.get("line"),
            m.get("end_line"),
            _MYPY_LEVEL.get(str(m.get("severity")), Severity.WARNING),
            "mypy",
            m.get("code"),
            text,
        )


JsonParser = Callable[[Any, Collector], None]
JSON_FORMATS: dict[str, JsonParser] = {
    "sarif": parse_sarif,
    "rdjson": parse_rdjson,
    "eslint": parse_eslint,
    "shellcheck": parse_shellcheck,
}
"""Formats whose file is one JSON document."""
JSONL_FORMATS: dict[str, JsonParser] = {"rdjsonl": parse_rdjsonl, "mypy": parse_mypy}
"""Formats whose file holds one JSON object per line."""


def detect_json(doc: object) -> str | None:
    """The format of a whole-file JSON document, from its shape; None when unknown."""
    if isinstance(doc, dict):
        if "runs" in doc and ("version" in doc or "$schema" in doc):
            return "sarif"
        if "diagnostics" in doc:
            return "rdjson"
        if "comments" in doc:
            return "shellcheck"
        if "location" in doc and "message" in doc:
            return "rdjsonl"  # a one-line rdjsonl file
        if "file" in doc and "severity" in doc and "message" in doc:
            return "mypy"
        return None
    if isinstance(doc, list):
        first = next((x for x in doc if isinstance(x, dict)), None)
        if first is None:
            return "eslint" if not doc else None
        if "filePath" in first and "messages" in first:
            return "eslint"
        if "file" in first and "code" in first and "level" in first:
            return "shellcheck"
    return None


def detect_jsonl(first: object) -> str | None:
    if isinstance(first, dict):
        if "location" in first and "message" in first:
            return "rdjsonl"
        if "file" in first and "severity" in first and "message" in first:
            return "mypy"
    return None


def loads(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constant)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
