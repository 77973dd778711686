"""Reading an import file: size cap, format detection, XML refused with a DOCTYPE."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewbot.errors import ConfigError
from reviewbot.imports.formats import (
    JSON_FORMATS,
    JSONL_FORMATS,
    ImportFormatError,
    detect_json,
    detect_jsonl,
    loads,
    parse_checkstyle,
)
from reviewbot.imports.model import FORMAT_NAMES, Collector, ImportBatch

MAX_IMPORT_BYTES = 50 * 1024 * 1024
"""An import file larger than this is refused."""
_HINT = (
    "pass a SARIF 2.1.0, rdjson, rdjsonl or checkstyle file, or name the format with "
    "--import-format (" + ", ".join(FORMAT_NAMES) + ")"
)


def read_import(
    path: Path, root: Path | None, fmt: str | None = None, label: str | None = None
) -> ImportBatch:
    """Read and parse the import file ``path`` (see the module docstring)."""
    label = label or str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read import file {label}: {exc.strerror or exc}") from None
    return parse_import(data, label, root, fmt)


def parse_import(data: bytes, label: str, root: Path | None, fmt: str | None = None) -> ImportBatch:
    if len(data) > MAX_IMPORT_BYTES:
        raise ConfigError(f"import file {label} is larger than {MAX_IMPORT_BYTES >> 20} MB")
    if fmt is not None and fmt not in FORMAT_NAMES:
        raise ConfigError(f"unknown import format {fmt[:40]!r}", hint=_HINT)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"import file {label} is not UTF-8 text", hint=_HINT) from None
    out = Collector(root)
    fmt = _parse(text, fmt, out, label)
    return ImportBatch(label, fmt, tuple(out.diagnostics), dict(out.skipped))


def _apply(
    parser: Callable[[Any, Collector], None], doc: object, out: Collector, fmt: str, label: str
) -> str:
    try:
        parser(doc, out)
    except ImportFormatError as exc:
        raise ConfigError(f"import file {label} ({fmt}): {exc}", hint=_HINT) from None
    return fmt


def _parse(text: str, fmt: str | None, out: Collector, label: str) -> str:
    stripped = text.lstrip()
    if fmt == "checkstyle" or (fmt is None and stripped.startswith("<")):
        return _apply(parse_checkstyle, _xml(stripped, label), out, "checkstyle", label)
    if not stripped:
        raise ConfigError(f"import file {label} is empty", hint=_HINT)
    if fmt in JSONL_FORMATS:
        return _apply(JSONL_FORMATS[fmt], _jsonl(text, label), out, fmt, label)
    whole: object = None
    try:
        whole = loads(text)
        is_whole = True
    except (ValueError, RecursionError):
        is_whole = False
    if fmt is None:
        if is_whole:
            fmt = detect_json(whole)
            if fmt in JSONL_FORMATS:
                whole = [whole]
        else:
            lines = _jsonl(text, label)
            fmt = detect_jsonl(lines[0]) if lines else None
            if fmt is not None:
                return _apply(JSONL_FORMATS[fmt], lines, out, fmt, label)
        if fmt is None:
            raise ConfigError(
                f"import file {label}: cannot tell its format from the content", hint=_HINT
            )
        if fmt in JSONL_FORMATS:
            return _apply(
                JSONL_FORMATS[fmt], whole if isinstance(whole, list) else [whole], out, fmt, label
            )
    if not is_whole:
        _jsonl(text, label)  # raises with the line that is not JSON
        raise ConfigError(
            f"import file {label} is not one JSON document ({fmt} expected)", hint=_HINT
        )
    return _apply(JSON_FORMATS[fmt], whole, out, fmt, label)


def _jsonl(text: str, label: str) -> list[object]:
    out: list[object] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(loads(line))
        except (ValueError, RecursionError) as exc:
            raise ConfigError(
                f"import file {label}: line {n} is not JSON ({exc})"[:300], hint=_HINT
            ) from None
    return out


def _xml(text: str, label: str) -> ET.Element:
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise ConfigError(
            f"import file {label}: XML with a DOCTYPE or entities is refused",
            hint="checkstyle output has no DOCTYPE; pass the tool's own output",
        )
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise ConfigError(
            f"import file {label} is not well-formed XML ({exc})", hint=_HINT
        ) from None
