"""Calls between the functions of one file: per-function summaries for the taint view.

A :class:`Program` indexes the module-level functions and the methods of module-level
classes of one file. For a call it can resolve (``helper(x)``, ``self.helper(x)`` inside the
same class) it computes, once per function and sink kind, a :class:`Summary`: which
parameters reach the return value (and whether they are joined onto a base path on the way)
and how tainted the return value is when no argument is.

The analysis is bounded three ways: a summary is computed at most ``max_depth`` calls deep,
a function already being summarised (recursion) gets no summary, and after the per-file
time budget (a monotonic deadline checked before each summary) no further summaries are
made. Without a summary the caller falls back to the intra-procedural rule: an unknown call
passes its arguments' taint on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, Protocol, Self, TypeVar

from reviewbot.static.levels import CONST, Level, Sink, Taint, strongest
from reviewbot.static.pynodes import text

if TYPE_CHECKING:
    from tree_sitter import Node

MAX_DEPTH = 3
"""Summaries nest at most this many calls deep."""
BUDGET_S = 0.5
"""Seconds of summarising per file; after that the analysis is intra-procedural."""
_MARK = "\x00argument"
_AMBIGUOUS = "\x00ambiguous"


class FunctionScope(Protocol):
    """What a summary needs of a function's taint view (:class:`~reviewbot.static.taint.Scope`)."""

    params: dict[str, Taint]

    def level(self, node: Node, sink: Sink, env: dict[str, Taint] | None = None) -> Taint: ...

    def select(self, *types: str) -> list[Node]: ...

    def with_params(self, params: dict[str, Taint]) -> Self: ...


S = TypeVar("S", bound=FunctionScope)


@dataclass(frozen=True, slots=True)
class ParamFlow:
    name: str
    reaches: bool
    """The parameter's value reaches the return value."""
    joined: bool
    """... after being joined onto a base path inside the function."""


@dataclass(frozen=True, slots=True)
class Summary:
    intrinsic: Taint
    """The return value's taint when no argument is tainted (request data read inside)."""
    params: tuple[ParamFlow, ...]
    """Every parameter in order, ``self``/``cls`` included."""

    def apply(self, call: Node, bound: bool, arg_taint: Callable[[Node], Taint]) -> Taint:
        """The taint of ``call``'s result given the taint of each argument."""
        flows = {f.name: f for f in self.params}
        out = [self.intrinsic]
        for value, param in bind(call, [f.name for f in self.params], bound):
            flow = flows.get(param) if param is not None else None
            if param is None:  # *args / **kwargs: any parameter may receive it
                if any(f.reaches for f in self.params):
                    out.append(_joined(arg_taint(value), any(f.joined for f in self.params)))
            elif flow is not None and flow.reaches:
                out.append(_joined(arg_taint(value), flow.joined))
        return strongest(out)


def bind(call: Node, params: list[str], bound: bool) -> list[tuple[Node, str | None]]:
    """Each argument of ``call`` with the parameter it binds (None for a ``*``/``**``
    splat, which may bind any); ``bound`` skips ``self``."""
    argl = call.child_by_field_name("arguments")
    names = params[1:] if bound else params
    out: list[tuple[Node, str | None]] = []
    position = 0
    for a in argl.named_children if argl is not None else []:
        if a.type in ("list_splat", "dictionary_splat"):
            out.append((a, None))
        elif a.type == "keyword_argument":
            key, value = a.child_by_field_name("name"), a.child_by_field_name("value")
            if key is not None and value is not None and text(key) in names:
                out.append((value, text(key)))
        elif a.type != "comment":
            if position < len(names):
                out.append((a, names[position]))
            position += 1
    return out


def _joined(t: Taint, joined: bool) -> Taint:
    if joined and t.level >= Level.PARAM and not t.scalar and not t.joined:
        return replace(t, joined=True)
    return t


class Program(Generic[S]):
    """The functions of one file and their summaries (see the module docstring)."""

    def __init__(
        self,
        root: Node,
        make_scope: Callable[[Node], S],
        clock: Callable[[], float] = time.monotonic,
        budget_s: float = BUDGET_S,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self._make_scope = make_scope
        self._clock = clock
        self._deadline = clock() + budget_s
        self._max_depth = max_depth
        self.expired = False
        """The time budget ran out: later calls get no summary."""
        self.functions: dict[str, Node | str] = {}
        self._summaries: dict[tuple[int, str], Summary | None] = {}
        self._scopes: dict[int, S] = {}
        self._active: list[int] = []
        for child in root.named_children:
            node = _definition(child)
            if node is None:
                continue
            if node.type == "function_definition":
                self._index(_name(node), node)
            elif node.type == "class_definition":
                body = node.child_by_field_name("body")
                for member in body.named_children if body is not None else []:
                    method = _definition(member)
                    if method is not None and method.type == "function_definition":
                        self._index(f"{_name(node)}.{_name(method)}", method)

    def _index(self, name: str, node: Node) -> None:
        self.functions[name] = _AMBIGUOUS if name in self.functions else node

    def callee(self, call: Node) -> tuple[Node, bool] | None:
        """The function ``call`` runs, and whether it is a bound method (``self.m()``)."""
        fn = call.child_by_field_name("function")
        if fn is None:
            return None
        if fn.type == "identifier":
            found = self.functions.get(text(fn))
            return (found, False) if found is not None and not isinstance(found, str) else None
        if fn.type != "attribute":
            return None
        obj, attr = fn.child_by_field_name("object"), fn.child_by_field_name("attribute")
        if (
            obj is None
            or attr is None
            or obj.type != "identifier"
            or text(obj) not in ("self", "cls")
        ):
            return None
        cls = _enclosing_class(call)
        if cls is None:
            return None
        found = self.functions.get(f"{_name(cls)}.{text(attr)}")
        if found is None or isinstance(found, str) or _is_static(found):
            return None
        return found, True

    def scope(self, fn: Node) -> S:
        """The taint view of ``fn`` with its own parameter taints (built once)."""
        found = self._scopes.get(fn.id)
        if found is None:
            found = self._scopes[fn.id] = self._make_scope(fn)
        return found

    def summary(self, fn: Node, sink: Sink) -> Summary | None:
        """``fn``'s summary for ``sink``, or None past the depth, in a cycle or out of time."""
        key = (fn.id, sink.name)
        if key in self._summaries:
            return self._summaries[key]
        if not self.enter(fn):
            return None
        try:
            base = self.scope(fn)
            names = list(base.params)
            values = [
                r.named_children[0] for r in base.select("return_statement") if r.named_children
            ]
            values += _yielded(base)
            quiet = {n: replace(t, level=Level.CONST, origin="") for n, t in base.params.items()}

            def returned(params: dict[str, Taint]) -> Taint:
                variant = base.with_params(params)
                return strongest(variant.level(v, sink) for v in values)

            intrinsic = returned(quiet) if values else CONST
            flows: list[ParamFlow] = []
            for n in names:
                if not values or base.params[n].scalar:
                    flows.append(ParamFlow(n, False, False))
                    continue
                t = returned({**quiet, n: Taint(Level.SOURCE, _MARK)})
                reaches = t.origin == _MARK or (
                    t.level == Level.SOURCE and intrinsic.level < Level.SOURCE
                )
                flows.append(ParamFlow(n, reaches, reaches and t.joined))
            result = Summary(intrinsic, tuple(flows))
        finally:
            self.leave(fn)
        self._summaries[key] = result
        return result

    def enter(self, fn: Node) -> bool:
        """Start analysing ``fn`` as a callee; False when the depth, a cycle or the time
        budget forbids it (then do not call :meth:`leave`)."""
        if self.expired or fn.id in self._active or len(self._active) >= self._max_depth:
            return False
        if self._clock() > self._deadline:
            self.expired = True
            return False
        self._active.append(fn.id)
        return True

    def leave(self, fn: Node) -> None:
        if self._active and self._active[-1] == fn.id:
            self._active.pop()


def is_marked(t: Taint) -> bool:
    """Is ``t`` the stand-in taint :meth:`Program.summary` gives the parameter it follows?"""
    return t.origin == _MARK


def marked(params: dict[str, Taint], name: str) -> dict[str, Taint]:
    """``params`` with only ``name`` tainted, by the stand-in :func:`is_marked` recognises."""
    out = {n: replace(t, level=Level.CONST, origin="") for n, t in params.items()}
    out[name] = Taint(Level.SOURCE, _MARK)
    return out


def _yielded(scope: FunctionScope) -> list[Node]:
    """What a generator yields (``yield x``, ``yield from xs``, ``y = yield x``)."""
    out: list[Node] = []
    for st in scope.select("expression_statement", "assignment"):
        for c in st.named_children:
            if c.type == "yield" and c.named_children:
                out.append(c.named_children[-1])
    return out


def _definition(node: Node) -> Node | None:
    if node.type == "decorated_definition":
        return node.child_by_field_name("definition")
    return node if node.type in ("function_definition", "class_definition") else None


def _name(node: Node) -> str:
    return text(node.child_by_field_name("name"))


def _enclosing_class(n: Node) -> Node | None:
    cur = n.parent
    while cur is not None:
        if cur.type == "class_definition":
            return cur
        cur = cur.parent
    return None


def _is_static(fn: Node) -> bool:
    parent = fn.parent
    return (
        parent is not None
        and parent.type == "decorated_definition"
        and any(
            c.type == "decorator" and text(c).strip() == "@staticmethod" for c in parent.children
        )
    )
