"""Labelled corpora for ``reviewbot eval``: the SVEN format (one vulnerability fix per row).

Each row holds one function before and after a security fix, the (1-based, function
relative) lines that make the "before" version vulnerable and the lines the fix added.
:func:`load_sven` turns rows into :class:`EvalCase` with the sources normalised (CRLF -> LF,
dedented by the first line's indentation) without changing the line count, so the labelled
line numbers stay valid as file line numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from reviewbot.errors import ReviewbotError

_REQUIRED = ("func_src_before", "func_src_after", "vulnerable_lines_in_before", "line_changes")


class DatasetError(ReviewbotError):
    """The evaluation corpus cannot be read."""


@dataclass(frozen=True, slots=True)
class EvalCase:
    id: str
    label: str
    """The class a reviewer should find, e.g. ``CWE-089``."""
    path: str
    """Where the function lives in the evaluation repository."""
    vulnerable: str
    fixed: str
    vulnerable_lines: frozenset[int]
    """Lines of ``vulnerable`` a security finding should touch."""
    fix_lines: frozenset[int]
    """Lines of ``fixed`` the fix added; a security finding there is a false positive."""
    link: str = ""


def normalise(src: str) -> str:
    """LF line ends, dedented by the first non-blank line's indentation, trailing newline.

    Lines that do not start with that indentation (continuation lines of a string, say)
    are left as they are; the number of lines never changes.
    """
    text = src.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = next((ln for ln in lines if ln.strip()), "")
    prefix = first[: len(first) - len(first.lstrip())]
    if prefix:
        lines = [
            ln[len(prefix) :]
            if ln.startswith(prefix)
            else ln.lstrip(" \t")
            if not ln.strip()
            else ln
            for ln in lines
        ]
    return "\n".join(lines) + "\n"


def _case(index: int, row: dict[str, Any], origin: str) -> EvalCase:
    missing = [k for k in _REQUIRED if k not in row]
    if missing:
        raise DatasetError(
            f"{origin}: row {index + 1} lacks {', '.join(missing)}",
            hint="each line must be a SVEN row: " + ", ".join(_REQUIRED),
        )
    try:
        vulnerable_lines = frozenset(int(n) for n in row["vulnerable_lines_in_before"])
        fix_lines = frozenset(int(c["line_no"]) for c in row["line_changes"].get("added", []))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise DatasetError(f"{origin}: row {index + 1} has malformed line numbers ({exc})") from exc
    name = PurePosixPath(str(row.get("file_name") or "function.py"))
    safe = "/".join(p for p in name.parts if p not in ("..", ".", "/")) or "function.py"
    if not safe.endswith(".py"):
        safe += ".py"
    return EvalCase(
        id=str(row.get("id") or f"row-{index + 1}"),
        label=str(row.get("cwe") or "unlabelled"),
        path=f"case{index:04d}/{safe}",
        vulnerable=normalise(str(row["func_src_before"])),
        fixed=normalise(str(row["func_src_after"])),
        vulnerable_lines=vulnerable_lines,
        fix_lines=fix_lines,
        link=str(row.get("commit_link") or ""),
    )


def load_sven(path: Path, limit: int | None = None) -> list[EvalCase]:
    """Read a SVEN-style JSON-lines file (blank lines are skipped)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(
            f"cannot read dataset {path}: {exc}", hint="pass the path of a SVEN .jsonl file"
        ) from exc
    cases: list[EvalCase] = []
    for i, text in enumerate(ln for ln in raw.splitlines() if ln.strip()):
        if limit is not None and len(cases) >= limit:
            break
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}: line {i + 1} is not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise DatasetError(f"{path}: line {i + 1} is not a JSON object")
        cases.append(_case(i, row, str(path)))
    if not cases:
        raise DatasetError(f"{path} holds no rows", hint="pass a non-empty SVEN .jsonl file")
    return cases
