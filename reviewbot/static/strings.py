"""Strings built at run time: f-strings, %-formatting, str.format(), concatenation, join().

:func:`built` turns such an expression into a :class:`Built`: the literal text with a
``SLOT`` marker where each run-time value goes, and the expression (or the name, for
``% locals()``) that fills each slot. Rules read the text (does it look like SQL, a command
line, HTML?) and ask the taint view about the slots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.static.pynodes import (
    args,
    call_name,
    has_interpolation,
    is_string,
    string_text,
    text,
    unparen,
)
from reviewbot.static.taint import CONST, Scope, Sink, Taint, strongest

if TYPE_CHECKING:
    from tree_sitter import Node

SLOT = "\x00"
_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
    r"(?P<conv>[diouxXeEfFgGcrsa%])"
)
_FIELD = re.compile(r"\{\{|\}\}|\{(?P<field>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")


@dataclass(frozen=True, slots=True)
class Slot:
    expr: Node | None
    """The value expression; None for a name looked up in ``locals()``."""
    offset: int
    """Where the value goes in :attr:`Built.text`."""
    name: str = ""
    """For ``% locals()``: the local variable's name."""
    line: int | None = None
    """Source line of the placeholder (or of the value, for concatenation)."""


@dataclass(frozen=True, slots=True)
class Built:
    node: Node
    text: str
    """Literal text with SLOT markers; empty when the template is not known."""
    slots: tuple[Slot, ...]
    how: str
    known: bool = True

    def taint(self, scope: Scope, sink: Sink, slots: tuple[Slot, ...] | None = None) -> Taint:
        return strongest(
            slot_taint(scope, self, s, sink) for s in (self.slots if slots is None else slots)
        )


def slot_taint(scope: Scope, b: Built, slot: Slot, sink: Sink) -> Taint:
    if slot.expr is not None:
        return scope.level(slot.expr, sink)
    if slot.name:
        return scope.name_level(slot.name, b.node, sink)
    return CONST


def _fstring(n: Node) -> tuple[str, list[Slot]]:
    if n.type == "concatenated_string":
        out, slots = "", []
        for c in n.named_children:
            if c.type == "string":
                t, s = _fstring(c)
                slots += [Slot(x.expr, x.offset + len(out), x.name, x.line) for x in s]
                out += t
        return out, slots
    parts: list[str] = []
    slots_: list[Slot] = []
    for c in n.children:
        if c.type == "string_content":
            parts.append(text(c))
        elif c.type == "interpolation":
            expr = c.child_by_field_name("expression") or (
                c.named_children[0] if c.named_children else None
            )
            slots_.append(Slot(expr, len("".join(parts)), line=c.start_point[0] + 1))
            parts.append(SLOT)
    return "".join(parts), slots_


def template_of(n: Node, scope: Scope, depth: int = 0) -> tuple[str, list[Slot]] | None:
    """The text (and slots) of a string-valued expression, resolving names to constants."""
    n = unparen(n)
    if is_string(n):
        return _fstring(n) if has_interpolation(n) else (string_text(n), [])
    if n.type == "identifier" and depth < 3:
        defs = scope.reaching(text(n), n)
        owner = scope
        if not defs and scope.module is not None and text(n) not in scope.params:
            owner, defs = scope.module, scope.module.defs.get(text(n), [])  # module constant
        if defs and all(d.kind in ("assign", "aug") and d.value is not None for d in defs):
            first = [d for d in defs if d.kind == "assign"]
            if first and first[0].value is not None:
                got = template_of(first[0].value, owner, depth + 1)
                if got is not None:
                    return got
        return None
    b = built(n, scope, depth + 1) if depth < 3 else None
    if b is not None and b.known:
        return b.text, list(b.slots)
    return None


def built(node: Node, scope: Scope, depth: int = 0) -> Built | None:
    """The run-time string ``node`` builds, or None when it is not one."""
    n = unparen(node)
    if is_string(n):
        if not has_interpolation(n):
            return None
        t, slots = _fstring(n)
        return Built(n, t, tuple(slots), "an f-string")
    if n.type == "binary_operator":
        op = n.child_by_field_name("operator")
        if op is not None and op.type == "%":
            return _percent(n, scope, depth)
        if op is not None and op.type == "+":
            return _concat(n, scope, depth)
        return None
    if n.type == "call":
        fn = n.child_by_field_name("function")
        if fn is None or fn.type != "attribute":
            return None
        attr = text(fn.child_by_field_name("attribute"))
        receiver = fn.child_by_field_name("object")
        if receiver is None:
            return None
        if attr == "format":
            return _format(n, receiver, scope, depth)
        if attr == "join" and is_string(unparen(receiver)):
            items = args(n)
            if items:
                return Built(n, "", (Slot(items[0], 0),), "join()", known=False)
    return None


def _percent(n: Node, scope: Scope, depth: int) -> Built | None:
    left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
    if left is None or right is None:
        return None
    tmpl = template_of(left, scope, depth)
    if tmpl is None:
        return None
    raw, inner = tmpl
    lines = _spec_lines(left, _PERCENT)
    out: list[str] = []
    specs: list[tuple[int, str | None]] = []
    pos = 0
    for m in _PERCENT.finditer(raw):
        out.append(raw[pos : m.start()])
        pos = m.end()
        if m.group("conv") == "%":
            out.append("%")
            continue
        specs.append((len("".join(out)), m.group("key")))
        out.append(SLOT)
    out.append(raw[pos:])
    textv = "".join(out)
    rhs = unparen(right)
    slots: list[Slot] = []

    def at(i: int) -> int | None:
        return lines[i] if i < len(lines) else None

    if rhs.type == "tuple":
        items = [c for c in rhs.named_children if c.type != "comment"]
        for i, (off, _key) in enumerate(specs):
            slots.append(Slot(items[i] if i < len(items) else rhs, off, line=at(i)))
    elif rhs.type == "dictionary":
        by_key = {}
        for pair in rhs.named_children:
            k, v = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if pair.type == "pair" and k is not None and is_string(k):
                by_key[string_text(k)] = v
        for i, (off, key) in enumerate(specs):
            slots.append(Slot(by_key.get(key or "", rhs), off, line=at(i)))
    elif rhs.type == "call" and call_name(rhs) in ("locals", "vars") and all(k for _, k in specs):
        slots = [Slot(None, off, key or "", at(i)) for i, (off, key) in enumerate(specs)]
    else:
        slots = [Slot(rhs, off, line=at(i)) for i, (off, _key) in enumerate(specs)] or [
            Slot(rhs, len(textv))
        ]
    slots += [s for s in inner if s.expr is not None]
    return Built(n, textv, tuple(slots), "%-formatting")


def _concat(n: Node, scope: Scope, depth: int) -> Built | None:
    operands: list[Node] = []

    def flatten(x: Node) -> None:
        x = unparen(x)
        op = x.child_by_field_name("operator") if x.type == "binary_operator" else None
        if op is not None and op.type == "+":
            for side in ("left", "right"):
                child = x.child_by_field_name(side)
                if child is not None:
                    flatten(child)
        else:
            operands.append(x)

    flatten(n)
    out = ""
    slots: list[Slot] = []
    stringish = False
    for o in operands:
        if is_string(o):
            stringish = True
            t, s = _fstring(o) if has_interpolation(o) else (string_text(o), [])
            slots += [Slot(x.expr, x.offset + len(out), x.name, x.line) for x in s]
            out += t
            continue
        sub = built(o, scope, depth + 1) if depth < 4 else None
        if sub is not None:
            stringish = True
            slots += [Slot(x.expr, x.offset + len(out), x.name, x.line) for x in sub.slots]
            out += sub.text if sub.known else SLOT
            continue
        resolved = template_of(o, scope, depth + 1) if o.type == "identifier" else None
        if resolved is not None and not resolved[1]:
            stringish = True
            out += resolved[0]
            continue
        slots.append(Slot(o, len(out), line=o.start_point[0] + 1))
        out += SLOT
    if not stringish or not slots:
        return None
    return Built(n, out, tuple(slots), "concatenation")


def _format(n: Node, receiver: Node, scope: Scope, depth: int) -> Built | None:
    argl = n.child_by_field_name("arguments")
    positional: list[Node] = []
    keywords: dict[str, Node] = {}
    splats: list[Node] = []
    for a in argl.named_children if argl is not None else []:
        if a.type == "keyword_argument":
            k, v = a.child_by_field_name("name"), a.child_by_field_name("value")
            if k is not None and v is not None:
                keywords[text(k)] = v
        elif a.type in ("list_splat", "dictionary_splat"):
            splats.append(a)
        elif a.type != "comment":
            positional.append(a)
    every = positional + list(keywords.values()) + splats
    if not every:
        return None
    tmpl = template_of(receiver, scope, depth)
    if tmpl is None:
        return Built(n, "", tuple(Slot(a, 0) for a in every), "str.format()", known=False)
    raw, inner = tmpl
    lines = _spec_lines(receiver, _FIELD, fields_only=True)
    out: list[str] = []
    slots: list[Slot] = []
    pos, auto = 0, 0
    fallback = splats[0] if splats else None
    for m in _FIELD.finditer(raw):
        out.append(raw[pos : m.start()])
        pos = m.end()
        field = m.group("field")
        if field is None:
            out.append(m.group(0)[0])
            continue
        base = re.split(r"[.\[]", field, maxsplit=1)[0]
        expr: Node | None
        if base == "":
            expr = positional[auto] if auto < len(positional) else fallback
            auto += 1
        elif base.isdigit():
            i = int(base)
            expr = positional[i] if i < len(positional) else fallback
        else:
            expr = keywords.get(base, fallback)
        idx = len(slots)
        slots.append(Slot(expr, len("".join(out)), line=lines[idx] if idx < len(lines) else None))
        out.append(SLOT)
    out.append(raw[pos:])
    slots += [s for s in inner if s.expr is not None]
    return Built(n, "".join(out), tuple(slots), "str.format()")


def _spec_lines(literal: Node, pattern: re.Pattern[str], fields_only: bool = False) -> list[int]:
    """Source lines of the placeholders of a literal template, in order (empty when the
    template is not a literal in place)."""
    literal = unparen(literal)
    if not is_string(literal):
        return []
    raw = text(literal)
    base = literal.start_point[0] + 1
    out: list[int] = []
    for m in pattern.finditer(raw):
        if fields_only and m.group("field") is None:
            continue
        if not fields_only and m.group("conv") == "%":
            continue
        out.append(base + raw.count("\n", 0, m.start()))
    return out


def risky_span(b: Built, risky: list[Slot], long: int = 6) -> tuple[int, int]:
    """Lines to report for a build: all of it when short, else the risky placeholders."""
    first, last = b.node.start_point[0] + 1, b.node.end_point[0] + 1
    lines = [s.line for s in risky if s.line is not None and first <= s.line <= last]
    if last - first + 1 <= long or not lines:
        return first, last
    return min(lines), max(lines)


def outermost_builds(scope: Scope) -> list[Built]:
    """Every run-time string in the scope, not counting those nested inside another.

    Computed once per scope (several rules ask for it)."""
    cached: list[Built] | None = getattr(scope, "_outermost_builds", None)
    if cached is not None:
        return cached
    found = _outermost_builds(scope)
    scope._outermost_builds = found  # type: ignore[attr-defined]
    return found


def _outermost_builds(scope: Scope) -> list[Built]:
    found: list[Built] = []
    # Nodes come in pre-order, so those inside a build follow it directly: only the last
    # build found can contain the next node.
    lo = hi = -1
    # Strings without interpolation build nothing: only f-strings are selected.
    for n in scope.select("fstring", "concatenated_string", "binary_operator", "call"):
        start = n.start_byte
        if lo <= start and n.end_byte <= hi:
            continue
        b = built(n, scope)
        if b is not None:
            found.append(b)
            lo, hi = b.node.start_byte, b.node.end_byte
    return found
