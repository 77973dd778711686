"""What an imported linter result becomes before the engine places it: a :class:`Diagnostic`.

Parsers never build findings themselves: they hand each result to a :class:`Collector`,
which normalises the path (repository-relative, POSIX, no ``..`` escapes), clamps the line
range, chooses the category and counts what it had to leave out, so every format is held to
the same rules.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from reviewbot.findings import Category, Severity
from reviewbot.imports.cwe import code_cwe

FORMAT_NAMES = ("sarif", "rdjson", "rdjsonl", "checkstyle", "eslint", "shellcheck", "mypy")
"""What ``--import-format`` accepts (reviewbot.imports.formats has a parser for each)."""
MAX_MESSAGE_CHARS = 2000
"""A longer linter message is cut (it ends up in comments and prompts)."""
MAX_DIAGNOSTICS = 100_000
"""Results kept from one file at most; the rest are counted and left out."""
MAX_LINE = 10_000_000

_SECURITY_WORDS = re.compile(r"secur|cwe-\d+|injection|xss|csrf|vulnerab", re.IGNORECASE)
_CWE = re.compile(r"\bCWE[-_ ]?(\d{1,5})\b", re.IGNORECASE)
_TOOL_CHARS = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One linter result at a place in the head revision."""

    path: str
    """Repository-relative POSIX path."""
    line: int
    end_line: int
    severity: Severity
    category: Category
    tool: str
    """Lower-case tool name (``ruff``, ``eslint``, ``shellcheck``)."""
    code: str
    """The tool's rule code (``S608``, ``no-eval``, ``SC2086``); empty when it gave none."""
    message: str
    cwe: str | None = None

    @property
    def rule_id(self) -> str:
        """``<tool>.<code>``, or the tool alone when the result had no code."""
        return f"{self.tool}.{self.code}" if self.code else self.tool


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """Everything read from one import file."""

    label: str
    """The file as the user named it."""
    format: str
    diagnostics: tuple[Diagnostic, ...]
    skipped: dict[str, int] = field(default_factory=dict)
    """Results left out while reading, by reason (outside the repository, no line, ...)."""


def tool_name(name: str) -> str:
    return _TOOL_CHARS.sub("-", name.strip().lower()).strip("-")[:40] or "linter"


class Collector:
    """Normalises and counts the results of one import file (see the module docstring)."""

    def __init__(self, root: Path | None) -> None:
        self._root = root
        self._roots = _root_forms(root)
        self.diagnostics: list[Diagnostic] = []
        self.skipped: dict[str, int] = {}

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def add(
        self,
        path: str | None,
        line: object,
        end_line: object,
        severity: Severity,
        tool: str,
        code: object,
        message: object,
        *,
        tags: tuple[str, ...] = (),
        cwe: str | None = None,
    ) -> None:
        if len(self.diagnostics) >= MAX_DIAGNOSTICS:
            self.skip("over the limit of results per file")
            return
        rel = self.relative(path) if isinstance(path, str) and path else None
        if rel is None:
            self.skip("no path" if path is None else "path outside the repository")
            return
        start = _line(line)
        if start is None:
            self.skip("no line (file-level result)")
            return
        end = _line(end_line)
        end = start if end is None or end < start else end
        tool = tool_name(tool)
        code_s = str(code).strip()[:80] if code not in (None, "") else ""
        text = str(message).strip()[:MAX_MESSAGE_CHARS] if message is not None else ""
        cwe = cwe or _tag_cwe(tags) or code_cwe(tool, code_s)
        security = cwe is not None or any(_SECURITY_WORDS.search(t) for t in tags)
        category = (
            Category.SECURITY
            if security
            else Category.STYLE
            if severity is Severity.INFO
            else Category.BUG
        )
        self.diagnostics.append(
            Diagnostic(
                rel, start, end, severity, category, tool, code_s, text or code_s or tool, cwe
            )
        )

    def relative(self, path: str) -> str | None:
        """``path`` (relative to the root, absolute, or a ``file:`` URI) relative to the
        repository root; None when it leaves the repository."""
        if path.startswith("file:"):
            parts = urlsplit(path)
            if parts.netloc not in ("", "localhost"):
                return None
            path = unquote(parts.path)
        path = path.replace("\\", "/") if "/" not in path else path
        if path.startswith("/"):
            for form in self._roots:
                if path == form or path.startswith(form.rstrip("/") + "/"):
                    path = path[len(form.rstrip("/")) + 1 :]
                    break
            else:
                return None
        parts_out: list[str] = []
        for part in PurePosixPath(path).parts:
            if part in ("", "."):
                continue
            if part == "..":
                if not parts_out:
                    return None
                parts_out.pop()
                continue
            parts_out.append(part)
        if not parts_out or any("\x00" in p for p in parts_out):
            return None
        return "/".join(parts_out)


def _root_forms(root: Path | None) -> tuple[str, ...]:
    if root is None:
        return ()
    forms = {os.path.abspath(root), str(root)}
    with contextlib.suppress(OSError):
        forms.add(str(root.resolve()))
    return tuple(sorted((f.replace(os.sep, "/") for f in forms), key=len, reverse=True))


def _line(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 1 <= value <= MAX_LINE:
        return value
    return None


def _tag_cwe(tags: tuple[str, ...]) -> str | None:
    for t in tags:
        m = _CWE.search(t)
        if m:
            return f"CWE-{int(m.group(1))}"
    return None
