"""Defensive parsing of a model's JSON answer, shared by every model backend.

Structured output should make every answer valid JSON, but servers differ and small models
still wander, so the answer is parsed in this order and never more:

1. strip Markdown code fences; take the first ``{...}`` that parses as a JSON object
   (text before or after it is ignored);
2. at most one repair step:
   - an answer that stops inside the object (cut at ``max_tokens`` or by a stop sequence)
     keeps its complete array entries: ``{"findings": [{...}, {"pa`` becomes
     ``{"findings": [{...}]}``. Partial entries are dropped, never guessed at;
   - a closed but invalid object gets trailing commas removed and Python literals
     (``True``/``False``/``None``) replaced, outside strings;
3. otherwise the answer is unusable and the reason says why.

JSON is decoded with ``strict=False`` (raw control characters such as tabs inside strings
are accepted, as small models emit them), and every candidate's nesting depth is measured
before it is decoded: an answer nested deeper than :data:`MAX_DEPTH` is a malformed answer,
never a ``RecursionError`` in the decoder. Whether a parsed answer follows its schema is
checked by the caller (:mod:`reviewbot.backends.schema_check`).

Model output is data: nothing here evaluates it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewbot.backends.base import LLMResult

MAX_CANDIDATES = 20
"""How many ``{`` positions are tried when looking for the first JSON object."""
MAX_DEPTH = 32
"""Deepest nesting of arrays and objects an answer may have (the schemas need three)."""
TOO_DEEP = f"malformed answer: JSON nested deeper than {MAX_DEPTH} levels"
_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\n?")
_DECODER = json.JSONDecoder(strict=False)


class _TooDeep(Exception):
    """A candidate nests deeper than MAX_DEPTH (raised before it is decoded)."""


def _decode(text: str, pos: int = 0) -> Any:
    """``raw_decode`` at ``pos`` after the depth check; JSONDecodeError or _TooDeep."""
    if _depth_from(text, pos) > MAX_DEPTH:
        raise _TooDeep
    try:
        return _DECODER.raw_decode(text, pos)[0]
    except RecursionError:  # the depth check makes this unreachable; never crash on it
        raise _TooDeep from None


def _depth_from(text: str, start: int) -> int:
    """The deepest nesting inside the value starting at ``text[start]``, as a JSON decoder
    starting there sees it (strings skipped); stops once it is beyond MAX_DEPTH."""
    depth = deepest = 0
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _scan_string(text, i)
            if i < 0:
                break
            continue
        if c in "{[":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        elif c in "}]":
            depth -= 1
            if depth <= 0:
                break
        elif depth == 0:
            break  # a scalar at ``start``
        i += 1
    return deepest


@dataclass(frozen=True, slots=True)
class Choice:
    """One generated answer as the server returned it."""

    text: str
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    value: dict[str, Any] | None
    note: str | None = None
    error: str | None = None


def strip_fences(text: str) -> str:
    """The inside of the first fenced block, or the text itself when there is none."""
    match = _FENCE.search(text)
    if match is None:
        return text
    rest = text[match.end() :]
    end = rest.find("```")
    return rest if end < 0 else rest[:end]


def _first_object(text: str) -> tuple[dict[str, Any] | None, int]:
    """The first JSON object that parses, else the start of the first candidate that does not.

    Candidates are ``{`` positions outside earlier candidates' spans; an unclosed candidate
    ends the search (it runs to the end of the text). Returns (object, -1) on success,
    (None, start of the failed candidate) otherwise, (None, -1) when there is no ``{``.
    """
    pos = text.find("{")
    first = pos
    tries = 0
    while pos >= 0 and tries < MAX_CANDIDATES:
        try:
            value = _decode(text, pos)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value, -1
        tries += 1
        end = _span_end(text, pos)
        if end < 0:
            return None, pos
        pos = text.find("{", end)
    return None, first


def _scan_string(text: str, i: int) -> int:
    """Index just past the string starting at ``text[i] == '"'``, or -1 if unterminated."""
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == '"':
            return j + 1
        j += 1
    return -1


def _span_end(text: str, start: int) -> int:
    """Index past the bracket matching ``text[start]``, or -1 when it never closes."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _scan_string(text, i)
            if i < 0:
                return -1
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


_DELIMS = frozenset(",]}: \t\r\n")
_CLOSER = {"{": "}", "[": "]"}


def salvage_truncated(text: str, start: int) -> tuple[dict[str, Any], int] | None:
    """Close an answer that stops inside its top-level object, keeping complete entries.

    Returns the salvaged object and the number of complete entries kept in its top-level
    arrays, or None when the text is not an unclosed object or nothing complete is left.
    """
    nesting = _scan_unclosed(text, start)
    if nesting is None or nesting.cut is None or not nesting.stack:
        return None
    end, closers, top_level = nesting.cut
    try:
        value = _decode(text[start:end] + closers)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    kept = sum(len(v) for v in value.values() if isinstance(v, list))
    if kept == 0 and not top_level:
        return None
    return value, kept


@dataclass(slots=True)
class _Nesting:
    """The containers open at the scan's position, and the last place the answer could be
    closed with only complete entries."""

    stack: list[str] = field(default_factory=list)
    expect_key: list[bool] = field(default_factory=list)
    """For each open container: an object waiting for its next key (False for arrays)."""
    cut: tuple[int, str, bool] | None = None
    """(end index, closers, at top level)"""

    def mark(self, pos: int) -> None:
        stack = self.stack
        if stack and stack[0] == "{" and all(s == "[" for s in stack[1:]):
            self.cut = (pos, "".join(_CLOSER[s] for s in reversed(stack)), len(stack) == 1)


def _scan_unclosed(text: str, start: int) -> _Nesting | None:
    """Scan the answer from ``start`` to where it stops; None when a container closes that
    was never opened or the top-level object closes (then it is not a truncation)."""
    nest = _Nesting()
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            end = _scan_string(text, i)
            if end < 0:
                break
            is_key = bool(nest.stack) and nest.stack[-1] == "{" and nest.expect_key[-1]
            i = end
            if is_key:
                nest.expect_key[-1] = False
            else:
                nest.mark(i)
        elif c in "{[":
            nest.stack.append(c)
            nest.expect_key.append(c == "{")
            i += 1
            if c == "[":
                nest.mark(i)
        elif c in "}]":
            if len(nest.stack) <= 1:
                return None  # nothing open, or the object closed: not a truncation
            nest.stack.pop()
            nest.expect_key.pop()
            i += 1
            nest.mark(i)
        elif c == ",":
            if nest.stack and nest.stack[-1] == "{":
                nest.expect_key[-1] = True
            i += 1
        elif c in ": \t\r\n":
            i += 1
        else:
            while i < n and text[i] not in _DELIMS:
                i += 1
            if i >= n:
                break  # a number or literal cut in the middle
            nest.mark(i)
    return nest


def _outside_strings(text: str) -> list[tuple[bool, str]]:
    parts: list[tuple[bool, str]] = []
    i, last = 0, 0
    while i < len(text):
        if text[i] == '"':
            end = _scan_string(text, i)
            end = len(text) if end < 0 else end
            parts.append((False, text[last:i]))
            parts.append((True, text[i:end]))
            i = last = end
            continue
        i += 1
    parts.append((False, text[last:]))
    return parts


_LITERALS = {"True": "true", "False": "false", "None": "null"}


def repair_closed(text: str) -> str:
    """Trailing commas removed and Python literals replaced, outside strings."""
    out = []
    for is_string, part in _outside_strings(text):
        if not is_string:
            part = re.sub(r",(\s*[}\]])", r"\1", part)
            part = re.sub(r"\b(True|False|None)\b", lambda m: _LITERALS[m.group(1)], part)
        out.append(part)
    return "".join(out)


def parse_answer(text: str, finish_reason: str | None = None) -> Parsed:
    """Parse one answer as described in the module docstring."""
    try:
        return _parse(text, finish_reason)
    except _TooDeep:
        return Parsed(None, error=TOO_DEEP)


def _parse(text: str, finish_reason: str | None) -> Parsed:
    raw = (text or "").strip()
    opening = re.search(r"[\[{]", raw)
    if opening is not None and _depth_from(raw, opening.start()) > MAX_DEPTH:
        raise _TooDeep  # e.g. [[[[...]]]]: no object to find, but no value either
    if raw.startswith("{"):
        # A whole JSON answer: parse it as is. Stripping fences first would break string
        # values that contain ``` (e.g. test code or suggestions in markdown).
        value, _ = _first_object(raw)
        if value is not None:
            return Parsed(value)
    body = strip_fences(raw).strip()
    if not body:
        cut = " (cut off at max_tokens)" if finish_reason == "length" else ""
        return Parsed(None, error=f"empty answer{cut}")
    value, start = _first_object(body)
    if value is not None:
        return Parsed(value)
    if start < 0:
        return Parsed(None, error=f"answer has no JSON object: {body[:60]!r}")
    why = "cut off at max_tokens" if finish_reason == "length" else "incomplete"
    if _span_end(body, start) < 0:
        salvaged = salvage_truncated(body, start)
        if salvaged is None:
            hint = " (raise llm.max_tokens)" if finish_reason == "length" else ""
            return Parsed(None, error=f"answer {why} before its first complete entry{hint}")
        obj, kept = salvaged
        return Parsed(obj, note=f"answer {why}; kept {kept} complete entries")
    repaired = repair_closed(body[start:])
    try:
        fixed = _decode(repaired)
    except json.JSONDecodeError as exc:
        return Parsed(
            None,
            error=f"answer is not valid JSON even after one repair "
            f"({exc.msg.removesuffix(' at')} at character {exc.pos})",
        )
    if not isinstance(fixed, dict):
        return Parsed(None, error="answer is JSON but not an object")
    return Parsed(fixed, note="answer needed a repair (trailing commas or Python literals)")


def build_result(
    key: str,
    choices: Sequence[Choice],
    *,
    requested: int = 1,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    seconds: float = 0.0,
    server_seconds: float | None = None,
    notes: Sequence[str] = (),
) -> LLMResult:
    """An LLMResult from the server's choices: every parseable answer becomes a sample."""
    samples: list[dict[str, Any]] = []
    errors: list[str] = []
    all_notes = list(notes)
    for choice in choices:
        parsed = parse_answer(choice.text, choice.finish_reason)
        if parsed.value is not None:
            samples.append(parsed.value)
            if parsed.note:
                all_notes.append(parsed.note)
        elif parsed.error:
            errors.append(parsed.error)
    if len(choices) < requested:
        all_notes.append(f"server returned {len(choices)} of {requested} samples")
    error: str | None = None
    if not samples:
        error = errors[0] if errors else "server returned no answer"
    elif errors:
        all_notes.append(f"{len(errors)} of {len(choices)} samples unusable: {errors[0]}")
    return LLMResult(
        key,
        samples=tuple(samples),
        error=error,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        seconds=seconds,
        server_seconds=server_seconds,
        notes=tuple(dict.fromkeys(all_notes)),
    )
