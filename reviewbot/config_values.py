"""Checking one configured value against the type its key declares (see :mod:`reviewbot.config`).

:func:`apply` checks a mapping of keys against a dataclass's fields and :func:`coerce` one value
against one field's type, strictly, from the file and the environment alike: lists hold
strings (or enum values), integers and numbers lie in the ranges of ``_INT_RANGES`` /
``_FLOAT_RANGES``, string choices are StrEnums (:class:`ExactChoice` ones matched exactly).
Every error is a :class:`ConfigError` naming the key and where it came from, and every value
it quotes passes through :func:`~reviewbot.config_yaml.shown`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from reviewbot.config_yaml import MAX_INT_DIGITS, clip, shown
from reviewbot.errors import ConfigError

_N = TypeVar("_N", int, float)


class ExactChoice(StrEnum):
    """A string key with a fixed set of values, matched exactly as written: unlike
    :class:`FilterMode` and :class:`FailOn`, case and surrounding spaces are not forgiven, and
    a value that is not a string is "a string" in the error."""


# String keys (and list entries) that must match a pattern: (regex, what it looks like).
_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "ruff.extend_select": (re.compile(r"[A-Z]{1,4}[0-9]{0,4}"), "a ruff code such as B006 or PLE"),
    "ruff.ignore": (re.compile(r"[A-Z]{1,4}[0-9]{0,4}"), "a ruff code such as B006 or PLE"),
}
# Inclusive ranges; an int key not listed here is bounded by +-2**53.
_INT_RANGES: dict[str, tuple[int, int]] = {
    "llm.seed": (0, 2**53),
    "llm.max_tokens": (16, 1_000_000),
    "llm.max_prompt_tokens": (256, 10_000_000),
    "llm.concurrency": (1, 4096),
    "llm.retries": (0, 100),
    "llm.samples": (1, 100),
    "llm.consensus": (1, 100),
    "local.n_ctx": (0, 10_000_000),
    "local.n_threads": (0, 4096),
    "local.n_gpu_layers": (-1, 100_000),
    "tests.max_functions": (0, 10_000),
    "max_comments": (0, 10_000),
    "context_lines": (0, 100_000),
    "max_context_lines": (0, 1_000_000),
    "jobs": (0, 4096),
}
_FLOAT_RANGES: dict[str, tuple[float, float]] = {
    "llm.temperature": (0.0, 2.0),
    "llm.connect_timeout": (0.1, 86_400.0),
    "llm.read_timeout": (0.1, 86_400.0),
    "tests.timeout": (0.1, 86_400.0),
    "ruff.timeout": (0.1, 3_600.0),
    "time_budget": (0.0, 86_400.0),
}
_MAX_INT = 2**53
MAX_STRING = 4096
"""Characters in one string value (a URL, a model name, a glob)."""
MAX_ITEMS = 1000
"""Entries in one list (globs, rules, categories)."""
_ENV_INT = re.compile(rf"[+-]?[0-9]{{1,{MAX_INT_DIGITS}}}")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class _Key:
    """The key a value is checked for, to name in an error."""

    key: str
    origin: str
    entry: int | None = None
    """The index of the list entry being checked, if it is one."""

    def bad(self, value: Any, expected: str) -> ConfigError:
        where = f"'{self.key}'" if self.entry is None else f"'{self.key}' entry {self.entry + 1}"
        return ConfigError(
            f"{self.origin}: {where} must be {expected}, got {shown(value)}",
            hint=f"fix '{self.key}' in {self.origin}",
        )


def coerce(
    value: Any, typ: Any, key: str, origin: str, from_env: bool, entry: int | None = None
) -> Any:
    """Check a value against the declared type, or raise ConfigError naming ``key``.

    File and caller values must already have the type (a YAML list for a list, an int for an
    int); ``from_env`` values are strings, parsed strictly ("1,2" lists, ASCII integers)."""
    at = _Key(key, origin, entry)
    opt = get_origin(typ)
    args = get_args(typ)
    if args and type(None) in args and opt is not frozenset and opt is not tuple:
        if value is None or value == "":
            return None
        typ = next(a for a in args if a is not type(None))
        opt = get_origin(typ)
        args = get_args(typ)
    text = value.strip() if from_env and isinstance(value, str) else None
    if typ is bool:
        return _boolean(value, text, at)
    if typ is int:
        return _integer(value, text, at)
    if typ is float:
        return _number(value, text, at)
    exact = isinstance(typ, type) and issubclass(typ, ExactChoice)
    if typ is str or exact:
        return _string(value, typ if exact else None, at)
    if isinstance(typ, type) and issubclass(typ, StrEnum):
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return typ((text or value).lower())
        except ValueError:
            raise at.bad(value, "one of " + ", ".join(m.value for m in typ)) from None
    if isinstance(typ, type) and dataclasses.is_dataclass(typ):
        if from_env or not isinstance(value, Mapping):
            raise at.bad(value, "a mapping")
        return apply(typ(), value, origin, f"{key} entry {(entry or 0) + 1}.")
    if opt in (tuple, frozenset):
        converted = [
            coerce(v, args[0], key, origin, from_env, i)
            for i, v in enumerate(_items(value, text, at, from_env))
        ]
        return tuple(converted) if opt is tuple else frozenset(converted)
    raise at.bad(value, str(typ))  # pragma: no cover - every field type is handled above


def _boolean(value: Any, text: str | None, at: _Key) -> bool:
    if isinstance(value, bool):
        return value
    if text is not None and text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    raise at.bad(value, "true or false")


def _integer(value: Any, text: str | None, at: _Key) -> int:
    if text is not None and _ENV_INT.fullmatch(text):
        value = int(text)
    if not isinstance(value, int) or isinstance(value, bool):
        raise at.bad(value, f"an integer (at most {MAX_INT_DIGITS} digits)")
    return _in_range(value, _INT_RANGES.get(at.key, (-_MAX_INT, _MAX_INT)), at.key, at.origin)


def _number(value: Any, text: str | None, at: _Key) -> float:
    if text is not None and len(text) <= 40:
        try:
            value = float(text)
        except ValueError:
            raise at.bad(value, "a number") from None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise at.bad(value, "a number")
    if isinstance(value, int) and abs(value) > _MAX_INT:
        raise at.bad(value, f"a number of at most {_MAX_INT}")
    if not math.isfinite(value):
        raise at.bad(value, "a finite number")
    return _in_range(float(value), _FLOAT_RANGES.get(at.key, (-1e15, 1e15)), at.key, at.origin)


def _string(value: Any, exact: type[ExactChoice] | None, at: _Key) -> str:
    """A plain string (matching the key's pattern, if it has one), or one of ``exact``'s
    values exactly as written."""
    if not isinstance(value, str):
        raise at.bad(value, "a string")
    if len(value) > MAX_STRING:
        raise at.bad(value, f"a string of at most {MAX_STRING} characters")
    if exact is None:
        pattern = _PATTERNS.get(at.key)
        if pattern is not None and not pattern[0].fullmatch(value):
            raise at.bad(value, pattern[1])
        return value
    try:
        return exact(value)  # the value exactly: no _missing_ forgives case or spaces
    except ValueError:
        raise at.bad(value, "one of " + ", ".join(m.value for m in exact)) from None


def _items(value: Any, text: str | None, at: _Key, from_env: bool) -> Any:
    """The entries of a list value (from the environment: comma-separated)."""
    items: Any = value
    if text is not None:
        items = [s.strip() for s in text.split(",") if s.strip()]
    if not isinstance(items, list | tuple | set | frozenset):
        raise at.bad(value, "a list" + (" (comma-separated)" if from_env else ", e.g. [a, b]"))
    if len(items) > MAX_ITEMS:
        raise at.bad(value, f"a list of at most {MAX_ITEMS} entries")
    return items


def _in_range(value: _N, bounds: tuple[_N, _N], key: str, origin: str) -> _N:
    low, high = bounds
    if low <= value <= high:
        return value
    limit = f"at least {low}" if value < low else f"at most {high}"
    raise ConfigError(
        f"{origin}: '{key}' must be {limit}, got {shown(value)}", hint=f"fix '{key}' in {origin}"
    )


def apply(
    obj: Any, data: Mapping[Any, Any], origin: str, prefix: str = "", from_env: bool = False
) -> Any:
    """``obj`` (a config dataclass) with the keys of ``data`` checked and set."""
    hints = get_type_hints(type(obj))
    names = {f.name for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        dotted = prefix + (clip(key, 60) if isinstance(key, str) else shown(key))
        if key not in names:
            known = ", ".join(sorted(names))
            raise ConfigError(
                f"{origin}: unknown key '{dotted}'",
                hint=f"known keys{' under ' + prefix.rstrip('.') if prefix else ''}: {known}",
            )
        typ = hints[key]
        if isinstance(typ, type) and dataclasses.is_dataclass(typ):
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"{origin}: '{dotted}' must be a mapping, got {shown(value)}",
                    hint=f"write '{dotted}:' followed by indented keys",
                )
            changes[key] = apply(getattr(obj, key), value, origin, f"{dotted}.", from_env)
        else:
            changes[key] = coerce(value, typ, dotted, origin, from_env)
    return dataclasses.replace(obj, **changes)


def nest(dotted: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` as ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out
