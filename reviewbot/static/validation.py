"""Guards that validate a name before a use: ``if ok(x): use(x)``, ``if x in ALLOWED``,
``if not ok(x): raise`` followed by ``use(x)``. The check half of
:class:`reviewbot.static.scope.Definitions` (which knows where names are bound)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from reviewbot.static.pynodes import (
    CONSTANT_NAME,
    CONSTANT_TYPES,
    call_name,
    last_name,
    text,
    unparen,
    words,
)

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = ["Bindings", "validated"]


class Binding(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def value(self) -> Node | None: ...


class Bindings(Protocol):
    """What a guard check needs of :class:`reviewbot.static.scope.Definitions`."""

    @property
    def node(self) -> Node: ...

    def reaching(self, name: str, use: Node) -> Sequence[Binding]: ...


_VALIDATING_WORDS = frozenset(
    {
        "match",
        "fullmatch",
        "isdigit",
        "isalnum",
        "isalpha",
        "isnumeric",
        "isdecimal",
        "isidentifier",
        "valid",
        "validate",
        "check",
        "allowed",
        "safe",
        "startswith",
        "relative",
        "commonpath",
        "whitelisted",
        "allowlisted",
        "permitted",
    }
)


def validated(defs: Bindings, name: str, use: Node) -> bool:
    """Is ``name`` checked by a condition that guards ``use``?

    ``if ok(x): use(x)``, ``if not ok(x): ... else: use(x)`` and
    ``if not ok(x): raise ...`` followed by ``use(x)`` all count."""
    cur = use
    while cur.parent is not None and cur.id != defs.node.id:
        parent = cur.parent
        if parent.type in ("if_statement", "elif_clause", "while_statement"):
            cond = parent.child_by_field_name("condition")
            body = parent.child_by_field_name("consequence") or parent.child_by_field_name("body")
            if (
                cond is not None
                and body is not None
                and body.id == cur.id
                and _polarity(defs, cond, name) > 0
            ):
                return True
        if parent.type == "else_clause" and parent.parent is not None:
            cond = parent.parent.child_by_field_name("condition")
            if cond is not None and _polarity(defs, cond, name) < 0:
                return True
        if parent.type in ("block", "module"):
            for stmt in parent.named_children:
                if stmt.start_byte >= cur.start_byte:
                    break
                if stmt.type == "if_statement" and _exits(stmt):
                    cond = stmt.child_by_field_name("condition")
                    if cond is not None and _polarity(defs, cond, name) < 0:
                        return True
        cur = parent
    return False


def _polarity(defs: Bindings, cond: Node, name: str) -> int:
    """+1 when ``cond`` being true means ``name`` passed a check, -1 when it being false
    does, 0 when it says nothing about ``name``."""
    cond = unparen(cond)
    if cond.type == "not_operator":
        arg = cond.child_by_field_name("argument")
        return -_polarity(defs, arg, name) if arg is not None else 0
    if cond.type == "boolean_operator":
        signs = [
            _polarity(defs, c, name)
            for c in (cond.child_by_field_name("left"), cond.child_by_field_name("right"))
            if c is not None
        ]
        return 1 if 1 in signs else -1 if -1 in signs else 0
    if cond.type == "comparison_operator" and len(cond.named_children) == 2:
        first, other = (unparen(c) for c in cond.named_children)
        ops = [
            c.type
            for c in cond.children
            if c.id not in (first.id, other.id) and c.type not in ("(", ")")
        ]
        op = ops[0] if len(ops) == 1 else " ".join(ops)
        if text(first) == name:
            if op in ("in", "not in") and _allow_list(defs, other):
                return 1 if op == "in" else -1
            if op in ("==", "!=") and other.type in CONSTANT_TYPES | {"string"}:
                return 1 if op == "==" else -1
        for side in (first, other):
            sign = _polarity(defs, side, name) if side.type == "call" else 0
            if sign:  # re.match(p, x) is None / commonpath([base, x]) != base
                return -sign if op in ("is", "!=") else sign
        return 0
    if cond.type == "call":
        callee = call_name(cond)
        argl = cond.child_by_field_name("arguments")
        fn = cond.child_by_field_name("function")
        receiver = (
            fn.child_by_field_name("object") if fn is not None and fn.type == "attribute" else None
        )
        mentioned = any(
            _mentions(a, name)
            for a in (
                *(argl.named_children if argl is not None else ()),
                *((receiver,) if receiver is not None else ()),
            )
        )
        if mentioned and (
            callee == "isinstance" or any(w in _VALIDATING_WORDS for w in words(last_name(callee)))
        ):
            return 1
    return 0


def _allow_list(defs: Bindings, n: Node) -> bool:
    """A collection fixed in the code: a literal, an ALL_CAPS name, or a local name
    only ever bound to a literal collection."""
    n = unparen(n)
    if n.type in ("list", "tuple", "set", "dictionary"):
        return all(
            c.type in CONSTANT_TYPES or c.type in ("string", "pair") for c in n.named_children
        )
    if n.type in ("identifier", "attribute"):
        last = text(n).rsplit(".", 1)[-1]
        if CONSTANT_NAME.match(last):
            return True
        if n.type == "identifier":
            bound = defs.reaching(text(n), n)
            return bool(bound) and all(
                d.kind == "assign" and d.value is not None and _allow_list(defs, d.value)
                for d in bound
            )
    return False


_NORMALISING = frozenset(
    {
        "realpath",
        "abspath",
        "normpath",
        "resolve",
        "Path",
        "PurePath",
        "PosixPath",
        "str",
        "expanduser",
        "absolute",
        "fspath",
        "normcase",
        "join",
    }
)


def _mentions(n: Node, name: str) -> bool:
    """Is ``n`` the name, or the name normalised (``os.path.realpath(name)``,
    ``Path(name).resolve()``), or a list of values one of which is?"""
    n = unparen(n)
    if n.type == "identifier":
        return text(n) == name
    if n.type in ("list", "tuple"):
        return any(_mentions(c, name) for c in n.named_children)
    if n.type == "call" and last_name(call_name(n)) in _NORMALISING:
        fn = n.child_by_field_name("function")
        argl = n.child_by_field_name("arguments")
        obj = (
            fn.child_by_field_name("object") if fn is not None and fn.type == "attribute" else None
        )
        parts = [
            *(argl.named_children if argl is not None else ()),
            *((obj,) if obj is not None and last_name(call_name(n)) != "join" else ()),
        ]
        return any(_mentions(c, name) for c in parts)
    return False


def _exits(if_stmt: Node) -> bool:
    """An ``if`` whose body always leaves (raise/return/abort/continue/break)."""
    body = if_stmt.child_by_field_name("consequence")
    if body is None or not body.named_children:
        return False
    last = body.named_children[-1]
    if last.type in (
        "raise_statement",
        "return_statement",
        "continue_statement",
        "break_statement",
    ):
        return True
    if last.type == "expression_statement" and last.named_children:
        expr = last.named_children[0]
        return expr.type == "call" and last_name(call_name(expr)) in (
            "abort",
            "exit",
            "_exit",
            "fail",
            "error",
            "HttpResponseBadRequest",
        )
    return False
