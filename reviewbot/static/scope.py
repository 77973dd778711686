"""Definitions in one Python function: parameters, assignments, reaching definitions and
the guards that validate a name before a use.

:class:`Definitions` is the data-flow half of :class:`reviewbot.static.taint.Scope`; it knows
where names are bound, not how dangerous their values are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING

from reviewbot.static.levels import LOCAL, Level, Taint
from reviewbot.static.pynodes import (
    INDEXED_TYPES,
    LOOP_TYPES,
    call_name,
    contains,
    enclosing,
    index_scope,
    statement_of,
    text,
    unparen,
)
from reviewbot.static.validation import validated

if TYPE_CHECKING:
    from tree_sitter import Node

_REQUEST_NAMES = frozenset({"request", "req", "self", "cls", "environ", "handler"})
_ROUTE_DECORATOR = re.compile(r"\.(?:route|get|post|put|patch|delete|api_route|websocket)$")
_SCALAR_TYPES = frozenset(
    {
        "int",
        "float",
        "bool",
        "UUID",
        "uuid.UUID",
        "datetime",
        "date",
        "datetime.datetime",
        "datetime.date",
        "Decimal",
        "decimal.Decimal",
    }
)
_KILLING = frozenset({"assign", "unpack", "for", "with", "unknown"})
_COLLECTED = (
    "assignment",
    "augmented_assignment",
    "for_statement",
    "as_pattern",
    "named_expression",
    "except_clause",
    "call",
)
"""The node types :meth:`Definitions._collect` learns bindings from."""


@dataclass(frozen=True, slots=True)
class Def:
    name: str
    stmt: Node
    value: Node | None
    """The assigned expression; None when unknown (e.g. ``except E as e``)."""
    kind: str
    """assign | aug | mutate | for | with | unknown."""
    pos: int
    """Byte offset after which uses see this definition."""


class Definitions:
    """Where the names of one function (or of the module body) are bound."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.params: dict[str, Taint] = {}
        self.is_view = False
        """A web view: a route-decorated function, or one whose first parameter is
        ``request``; its parameters are request data and what it returns is the response."""
        if node.type == "function_definition":
            self._collect_params(node)
        # The index and the bindings are built on first use: a module scope that only
        # answers ``node`` (or nothing) for its functions never indexes the module body.
        self._defs: dict[str, list[Def]] | None = None
        self._index: dict[str, list[tuple[int, Node]]] | None = None
        self._selected: dict[tuple[str, ...], list[Node]] = {}

    @property
    def defs(self) -> dict[str, list[Def]]:
        """Every binding of the scope's body, by name, in pre-order."""
        defs = self._defs
        if defs is None:
            defs = self._defs = {}
            for n in self.select(*_COLLECTED):
                self._collect(n)
        return defs

    def __copy__(self) -> Definitions:
        """A shallow copy that shares the index and the bindings (built first, once)."""
        _ = self.defs
        other = self.__class__.__new__(self.__class__)
        other.__dict__.update(self.__dict__)
        return other

    @property
    def _by_type(self) -> dict[str, list[tuple[int, Node]]]:
        found = self._index
        if found is None:
            found = self._index = index_scope(self.node)
        return found

    def select(self, *types: str) -> list[Node]:
        """The nodes of these types in the scope's body, in pre-order, not entering nested
        functions, classes or lambdas (the list is shared: do not modify it). Only
        :data:`~reviewbot.static.pynodes.INDEXED_TYPES` can be selected."""
        done = self._selected.get(types)
        if done is not None:
            return done
        unknown = [t for t in types if t not in INDEXED_TYPES]
        if unknown:
            raise ValueError(f"node types {unknown} are not indexed; add them to INDEXED_TYPES")
        by_type = self._by_type
        if len(types) == 1:
            out = [n for _, n in by_type.get(types[0], ())]
        else:
            picked = [p for t in types for p in by_type.get(t, ())]
            picked.sort(key=itemgetter(0))
            out = [n for _, n in picked]
        self._selected[types] = out
        return out

    def _collect_params(self, fn: Node) -> None:
        params = fn.child_by_field_name("parameters")
        names: list[str] = []
        typed: set[str] = set()
        for p in params.named_children if params is not None else []:
            ident = p.child_by_field_name("name") if p.type not in ("identifier",) else p
            if ident is None or ident.type != "identifier":
                ident = next((c for c in p.named_children if c.type == "identifier"), None)
            if ident is not None:
                names.append(text(ident))
                ann = p.child_by_field_name("type")
                if ann is not None and text(ann) in _SCALAR_TYPES:
                    typed.add(text(ident))
        route = self._is_route(fn) or (bool(names) and names[0] == "request")
        self.is_view = route
        for name in names:
            if name in typed:
                self.params[name] = Taint(Level.PARAM, f"parameter `{name}`", scalar=True)
            elif name in _REQUEST_NAMES:
                self.params[name] = LOCAL
            elif route:
                self.params[name] = Taint(Level.SOURCE, f"URL parameter `{name}`")
            else:
                self.params[name] = Taint(Level.PARAM, f"parameter `{name}`")

    @staticmethod
    def _is_route(fn: Node) -> bool:
        parent = fn.parent
        if parent is None or parent.type != "decorated_definition":
            return False
        for dec in parent.children:
            call = next((c for c in dec.named_children if c.type == "call"), None)
            if (
                dec.type == "decorator"
                and call is not None
                and _ROUTE_DECORATOR.search(call_name(call))
            ):
                return True
        return False

    def _add(self, name: str, stmt: Node, value: Node | None, kind: str, pos: int) -> None:
        defs = self._defs
        assert defs is not None  # only _collect, from the defs property, adds
        defs.setdefault(name, []).append(Def(name, stmt, value, kind, pos))

    def _targets(self, target: Node, stmt: Node, value: Node | None, kind: str, pos: int) -> None:
        target = unparen(target)
        if target.type == "identifier":
            self._add(text(target), stmt, value, kind, pos)
        elif target.type in (
            "pattern_list",
            "tuple_pattern",
            "list_pattern",
            "tuple",
            "list",
            "list_splat_pattern",
            "expression_list",
        ):
            for c in target.named_children:
                self._targets(c, stmt, value, "unpack" if kind == "assign" else kind, pos)
        elif target.type in ("subscript", "attribute"):
            base = target.child_by_field_name("value") or target.child_by_field_name("object")
            if base is not None and base.type == "identifier" and text(base) != "self":
                self._add(text(base), stmt, value, "mutate", pos)

    def _collect(self, n: Node) -> None:
        t = n.type
        if t == "assignment":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            while right is not None and right.type == "assignment":  # a = b = value
                inner_left = right.child_by_field_name("left")
                right = right.child_by_field_name("right")
                if inner_left is not None:
                    self._targets(inner_left, n, right, "assign", n.end_byte)
            if left is not None and right is not None:
                self._targets(left, n, right, "assign", n.end_byte)
        elif t == "augmented_assignment":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            if left is not None and right is not None:
                self._targets(left, n, right, "aug", n.end_byte)
        elif t == "for_statement":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            if left is not None and right is not None:
                self._targets(left, n, right, "for", left.end_byte)
        elif t == "as_pattern" and n.parent is not None and n.parent.type == "with_item":
            alias = n.child_by_field_name("alias")
            value = n.named_children[0] if n.named_children else None
            if alias is not None:
                for c in alias.named_children or [alias]:
                    self._targets(c, statement_of(n), value, "with", alias.end_byte)
        elif t == "named_expression":
            name, value = n.child_by_field_name("name"), n.child_by_field_name("value")
            if name is not None:
                self._add(text(name), statement_of(n), value, "aug", n.end_byte)
        elif t == "except_clause":
            alias = next((c for c in n.named_children if c.type == "as_pattern"), None)
            target = alias.child_by_field_name("alias") if alias is not None else None
            for c in (target.named_children or [target]) if target is not None else []:
                if c.type == "identifier":
                    self._add(text(c), n, None, "unknown", c.end_byte)
        elif t == "call":
            fn = n.child_by_field_name("function")
            if fn is not None and fn.type == "attribute":
                obj, attr = fn.child_by_field_name("object"), fn.child_by_field_name("attribute")
                argl = n.child_by_field_name("arguments")
                if (
                    obj is not None
                    and obj.type == "identifier"
                    and argl is not None
                    and text(attr)
                    in ("append", "extend", "insert", "add", "update", "setdefault", "appendleft")
                ):
                    for a in argl.named_children:
                        self._add(text(obj), statement_of(n), a, "mutate", n.end_byte)

    # -- queries ----------------------------------------------------------------------

    def reaching(self, name: str, use: Node) -> list[Def]:
        defs = self.defs.get(name, [])
        if not defs:
            return []
        before = [d for d in defs if d.pos <= use.start_byte]
        loop = enclosing(use, LOOP_TYPES)
        if loop is not None and contains(self.node, loop):
            before += [
                d
                for d in defs
                if d.pos > use.start_byte
                and contains(loop, d.stmt)
                and d.kind in ("aug", "mutate", "assign")
            ]
        killer = None
        for d in before:
            block = statement_of(d.stmt).parent
            if (
                d.kind in _KILLING
                and d.pos <= use.start_byte
                and block is not None
                and contains(block, use)
                and (killer is None or d.pos > killer.pos)
            ):
                killer = d
        if killer is not None:
            before = [d for d in before if d.pos >= killer.pos]
        return before

    def validated(self, name: str, use: Node) -> bool:
        """Is ``name`` checked by a condition that guards ``use``?
        (:func:`reviewbot.static.validation.validated`)"""
        return validated(self, name, use)


def identifiers(node: Node | None, deep: bool = False) -> list[Node]:
    if node is None:
        return []
    if node.type == "identifier":
        return [node]
    out: list[Node] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type == "identifier":
            parent = cur.parent
            if (
                parent is not None
                and parent.type == "attribute"
                and parent.child_by_field_name("attribute") == cur
            ):
                continue
            if (
                parent is not None
                and parent.type == "keyword_argument"
                and parent.child_by_field_name("name") == cur
            ):
                continue
            out.append(cur)
        elif cur.type != "lambda" and (
            deep
            or cur.type
            in (
                "pattern_list",
                "tuple_pattern",
                "list_pattern",
                "tuple",
                "list",
                "parenthesized_expression",
            )
        ):
            stack.extend(cur.named_children)
    return out
