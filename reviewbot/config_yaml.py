"""Reading ``.reviewbot.yml`` safely: a hostile or broken file costs nothing.

The webhook server reads the base branch's file for every pull request, so the text is
untrusted. Before anything is built from it:

- the text is at most :data:`MAX_CONFIG_BYTES` (UTF-8);
- one pass over the parser's events (libyaml's C parser when installed) refuses anchors and
  aliases (no "billion laughs"), more than one document, nesting deeper than
  :data:`MAX_DEPTH`, a key set twice in one mapping, and numbers longer than
  :data:`MAX_INT_DIGITS` digits / :data:`MAX_FLOAT_CHARS` characters (Python's int-string
  limit would raise ``ValueError``);
- only then is the document built, with the C loader when available.

Every error is a :class:`ConfigError` naming the file and the key (``llm.model``,
``exclude[1]``), and every value in a message goes through :func:`shown`, which never
grows with the input. PyYAML is imported only when a file is parsed (start-up stays fast).
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewbot.errors import ConfigError

CONFIG_FILENAME = ".reviewbot.yml"
MAX_CONFIG_BYTES = 256 * 1024
"""The largest config file read (a real one is a few hundred bytes)."""
MAX_DEPTH = 20
"""Mappings and lists nested deeper than this are refused (the schema needs two)."""
MAX_INT_DIGITS = 18
"""Integer literals with more digits are refused before Python converts them."""
MAX_FLOAT_CHARS = 40
MAX_SHOWN = 80
"""Characters of a value quoted in an error message."""

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


def _make_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring = r.maxother = MAX_SHOWN
    r.maxlevel, r.maxlist, r.maxtuple, r.maxdict, r.maxset, r.maxfrozenset = 3, 4, 4, 4, 4, 4
    return r


_REPR = _make_repr()


def shown(value: Any) -> str:
    """``repr(value)`` cut to about :data:`MAX_SHOWN` characters, whatever the value's size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<an integer of {value.bit_length()} bits>"  # repr() may raise ValueError
    try:
        text = _REPR.repr(value)
    except (ValueError, RecursionError):  # pragma: no cover - defensive
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters, marked with "..." when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_size(size: int, origin: str) -> None:
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{origin}: the config file is {size} bytes; the limit is {MAX_CONFIG_BYTES} "
            f"bytes ({MAX_CONFIG_BYTES // 1024} KiB)",
            hint="a .reviewbot.yml holds a few settings; remove whatever else is in it",
        )


def read_config_file(path: Path) -> str:
    """The file's text, reading at most one byte past the cap."""
    origin = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
        check_size(len(data), origin)
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {origin}: {clip(str(exc), 200)}") from exc


@dataclass(slots=True)
class _Frame:
    """An open mapping or sequence while scanning events."""

    is_map: bool
    key: str | None = None
    """The mapping's current key (its value is being read), or None before the first one."""
    expect_key: bool = True
    index: int = 0
    seen: set[str] = field(default_factory=set)

    def segment(self, first: bool) -> str:
        if not self.is_map:
            return f"[{self.index}]"
        name = clip(self.key if self.key is not None else "?", 40)
        return name if first else "." + name


def _path(stack: list[_Frame]) -> str:
    return clip("".join(f.segment(i == 0) for i, f in enumerate(stack)) or "(top level)", 120)


def _digits(text: str) -> int:
    body = text.strip().lstrip("+-")
    if body[:2].lower() in ("0x", "0o", "0b"):
        body = body[2:]
    return sum(1 for c in body if c not in "_:")


def _scan(events: Any, origin: str, resolver: Any) -> None:
    """Refuse anchors, aliases, several documents, deep nesting, duplicate keys and huge
    numbers, looking only at parser events (nothing is built or expanded)."""
    import yaml

    stack: list[_Frame] = []
    documents = 0

    def fail(what: str, hint: str | None = None) -> ConfigError:
        return ConfigError(
            f"{origin}: '{_path(stack)}': {what}", hint=hint or f"fix '{_path(stack)}' in {origin}"
        )

    def done() -> None:  # a node finished: the enclosing collection moves on
        if stack:
            top = stack[-1]
            if top.is_map:
                top.expect_key = not top.expect_key
            else:
                top.index += 1

    for ev in events:
        if isinstance(ev, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise ConfigError(
                    f"{origin}: holds more than one YAML document (---)",
                    hint="keep one mapping of settings",
                )
            continue
        if isinstance(ev, yaml.CollectionEndEvent):
            stack.pop()
            done()
            continue
        if not isinstance(ev, yaml.NodeEvent):
            continue
        as_key = bool(stack) and stack[-1].is_map and stack[-1].expect_key
        if as_key:
            key = ev.value if isinstance(ev, yaml.ScalarEvent) else "?"
            stack[-1].key = key
            if isinstance(ev, yaml.ScalarEvent):
                if key in stack[-1].seen:
                    raise fail("this key is set twice", hint="keep one of the two")
                stack[-1].seen.add(key)
        if isinstance(ev, yaml.AliasEvent) or ev.anchor is not None:
            mark = f"*{ev.anchor}" if isinstance(ev, yaml.AliasEvent) else f"&{ev.anchor}"
            raise fail(
                f"aliases are not allowed in {CONFIG_FILENAME} (found {clip(mark, 40)})",
                hint="write the value out in full instead of an anchor (&) or alias (*)",
            )
        if isinstance(ev, yaml.ScalarEvent):
            _check_number(ev, resolver, fail)
            done()
        elif isinstance(ev, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise fail(f"nested more than {MAX_DEPTH} levels deep")
            stack.append(_Frame(is_map=isinstance(ev, yaml.MappingStartEvent)))


def _check_number(ev: Any, resolver: Any, fail: Callable[[str], ConfigError]) -> None:
    import yaml

    tag = ev.tag
    if tag is None or tag == "!":
        tag = resolver.resolve(yaml.ScalarNode, ev.value, ev.implicit)
    if tag == _INT_TAG and _digits(ev.value) > MAX_INT_DIGITS:
        raise fail(
            f"an integer of {_digits(ev.value)} digits is too large "
            f"(at most {MAX_INT_DIGITS} digits)"
        )
    if tag == _FLOAT_TAG and len(ev.value) > MAX_FLOAT_CHARS:
        raise fail(
            f"a number of {len(ev.value)} characters is too long (at most {MAX_FLOAT_CHARS})"
        )


@functools.cache
def _loader(pure_python: bool = False) -> tuple[type[Any], Any]:
    """The loader class (libyaml's when installed, unless ``pure_python``) and a resolver
    for plain scalars."""
    import yaml
    from yaml.resolver import Resolver

    base: type[Any] = (
        yaml.SafeLoader if pure_python else getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )

    class ConfigLoader(base):  # type: ignore[misc]
        """The safe loader, with an int constructor that checks the length first (a
        second line of defence behind :func:`_scan`)."""

        def construct_yaml_int(self, node: Any) -> int:
            if _digits(str(node.value)) > MAX_INT_DIGITS:
                raise yaml.constructor.ConstructorError(
                    None, None, f"an integer of more than {MAX_INT_DIGITS} digits", node.start_mark
                )
            return int(super().construct_yaml_int(node))

    ConfigLoader.add_constructor(_INT_TAG, ConfigLoader.construct_yaml_int)
    return ConfigLoader, Resolver()


def uses_libyaml() -> bool:
    """Whether config files are parsed by libyaml (the C loader) rather than pure Python."""
    import yaml

    c_loader = getattr(yaml, "CSafeLoader", None)
    return c_loader is not None and issubclass(_loader()[0], c_loader)


def parse_yaml_config(text: str, origin: str, *, pure_python: bool = False) -> dict[str, Any]:
    """The file's top-level mapping; ConfigError for anything unsafe or malformed.

    ``pure_python`` forces PyYAML's Python parser (what runs where libyaml is missing)."""
    import yaml

    if len(text) > MAX_CONFIG_BYTES:  # cheap first look: a char is at least one byte
        check_size(len(text), origin)
    check_size(len(text.encode("utf-8", "surrogatepass")), origin)
    loader, resolver = _loader(pure_python)
    try:
        _scan(yaml.parse(text, Loader=loader), origin, resolver)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{origin}: not valid YAML: {clip(str(exc), 300)}", hint=f"check the syntax of {origin}"
        ) from None
    except RecursionError:  # pragma: no cover - _scan bounds the depth first
        raise ConfigError(f"{origin}: nested too deeply") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin}: the top level must be a mapping of settings, got {shown(data)}"
        )
    return data
