"""An intra-function taint view for Python: where does a value come from?

Each function (or the module body) is a :class:`Scope`. :meth:`Scope.level` tells how much
an expression is under an outsider's control at that point:

    CONST   literals, ALL_CAPS constants, sanitised values (int(), escape(), shlex.quote(), ...)
    LOCAL   computed inside the program (attributes of self, results of calls on constants)
    PARAM   derived from a parameter of the function
    SOURCE  request data (request.args/form/GET/POST/json/values/cookies/headers, route
            parameters of a view), input(), sys.argv, os.environ

Values flow through assignments, augmented assignments, ``x.append(v)``-style mutation,
for-loop targets, comprehensions, concatenation, formatting and calls (an unknown call
passes its arguments' taint on). Reaching definitions are approximated: definitions before
the use, cut at the last plain assignment that dominates it syntactically (same or
enclosing block), plus definitions later in an enclosing loop. A name tested by a validating
condition around its use (``if x.isdigit():``, ``if x in ALLOWED:``, ``if not valid(x): raise``)
counts as sanitised there.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from reviewbot.static.calls import BUDGET_S, Program
from reviewbot.static.joins import PATH_JOIN, ends_with_slash, joined, percent_slots
from reviewbot.static.levels import CONST, LOCAL, Level, Sink, Taint, strongest
from reviewbot.static.pynodes import (
    CONSTANT_NAME,
    CONSTANT_TYPES,
    call_name,
    has_interpolation,
    last_name,
    text,
    unparen,
)
from reviewbot.static.scope import Def, Definitions, identifiers
from reviewbot.static.sources import (
    BUILTINS,
    MODULES,
    PASSTHROUGH,
    is_safe_call,
    source_of,
)

__all__ = [
    "CONST",
    "LOCAL",
    "Def",
    "Level",
    "Scope",
    "Sink",
    "Taint",
    "is_safe_call",
    "source_of",
    "strongest",
]

if TYPE_CHECKING:
    from tree_sitter import Node


class Scope(Definitions):
    """The taint view of one function (or of the module body)."""

    def __init__(
        self,
        node: Node,
        module: Scope | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        budget_s: float = BUDGET_S,
    ) -> None:
        """``clock`` and ``budget_s`` bound the summaries of the file's functions (see
        :mod:`reviewbot.static.calls`); only the module scope uses them."""
        super().__init__(node)
        self.module = module
        self._memo: dict[tuple[int, str], Taint] = {}
        self._busy: set[int] = set()
        self._program: Program[Scope] | None = None
        self._clock = clock
        self._budget_s = budget_s

    @property
    def program(self) -> Program[Scope] | None:
        """The file's functions and their summaries (made by the module scope, on first use);
        None for a function scope made without its module."""
        if self.module is not None:
            return self.module.program
        if self._program is None and self.node.type == "module":
            module = self
            self._program = Program(
                self.node, lambda fn: Scope(fn, module), clock=self._clock, budget_s=self._budget_s
            )
        return self._program

    def with_params(self, params: dict[str, Taint]) -> Scope:
        """This scope with other parameter taints (definitions shared, memo not)."""
        other = copy.copy(self)
        other.params = params
        other._memo = {}
        other._busy = set()
        return other

    # -- queries ----------------------------------------------------------------------

    def level(self, node: Node, sink: Sink, env: dict[str, Taint] | None = None) -> Taint:
        key = (node.id, sink.name)
        if env is None and key in self._memo:
            return self._memo[key]
        if node.id in self._busy:
            return CONST  # a cycle adds nothing new
        self._busy.add(node.id)
        try:
            result = self._level(node, sink, env or {})
        finally:
            self._busy.discard(node.id)
        if env is None:
            self._memo[key] = result
        return result

    def _all(self, nodes: Iterable[Node], sink: Sink, env: dict[str, Taint]) -> Taint:
        return strongest(self.level(c, sink, env or None) for c in nodes)

    def _level(self, n: Node, sink: Sink, env: dict[str, Taint]) -> Taint:
        t = n.type
        if t in CONSTANT_TYPES or t in (
            "comment",
            "comparison_operator",
            "not_operator",
            "lambda",
            "keyword_identifier",
        ):
            return CONST if t != "lambda" else LOCAL
        if t == "string":
            if not has_interpolation(n):
                return CONST
            return self._fstring(n, sink, env)
        if t == "identifier":
            return self._name(n, sink, env)
        if t == "attribute":
            src = source_of(re.sub(r"\s+", "", text(n)))
            if src is not None:
                return src
            obj = n.child_by_field_name("object")
            if obj is None:
                return LOCAL
            base = self.level(obj, sink, env or None)
            return base if base.level > Level.CONST else LOCAL
        if t == "subscript":
            value = n.child_by_field_name("value")
            return self.level(value, sink, env or None) if value is not None else LOCAL
        if t == "call":
            return self._call(n, sink, env)
        if t in (
            "list_comprehension",
            "generator_expression",
            "set_comprehension",
            "dictionary_comprehension",
        ):
            inner = dict(env)
            for clause in n.named_children:
                if clause.type == "for_in_clause":
                    right = clause.child_by_field_name("right")
                    left = clause.child_by_field_name("left")
                    taint = self.level(right, sink, inner or None) if right else LOCAL
                    for ident in identifiers(left):
                        inner[text(ident)] = taint
            body = n.child_by_field_name("body")
            return self.level(body, sink, inner) if body is not None else LOCAL
        if t == "conditional_expression":
            branches = [c for i, c in enumerate(n.named_children) if i != 1]
            return self._all(branches, sink, env)
        if t == "binary_operator":
            return self._binary(n, sink, env)
        if t == "keyword_argument":
            value = n.child_by_field_name("value")
            return self.level(value, sink, env or None) if value is not None else CONST
        if t == "pair":
            return self._all(n.named_children, sink, env)
        return self._all(n.named_children, sink, env)

    def _name(self, n: Node, sink: Sink, env: dict[str, Taint]) -> Taint:
        return self.name_level(text(n), n, sink, env)

    def name_level(
        self, name: str, n: Node, sink: Sink, env: dict[str, Taint] | None = None
    ) -> Taint:
        """The taint of ``name`` as read at node ``n``."""
        env = env or {}
        if name in env:
            return env[name]
        if (
            (CONSTANT_NAME.match(name) or name in BUILTINS)
            and name not in self.params
            and name not in self.defs
        ):
            return CONST
        if self.validated(name, n):
            return CONST
        defs = self.reaching(name, n)
        if defs:
            taints = [self.level(d.value, sink) if d.value is not None else LOCAL for d in defs]
            # A name only ever re-bound from itself (x += ...) still carries the parameter.
            if name in self.params and all(d.kind in ("aug", "mutate") for d in defs):
                taints.append(self.params[name])
            return strongest(taints)
        if name in self.params:
            return self.params[name]
        if self.module is not None and name in self.module.defs:
            mod_defs = self.module.defs[name]
            return strongest(
                self.module.level(d.value, sink) if d.value is not None else LOCAL for d in mod_defs
            )
        return LOCAL

    def _call(self, n: Node, sink: Sink, env: dict[str, Taint]) -> Taint:
        name = call_name(n)
        src = source_of(name, call=True)
        if src is not None:
            return src
        safe = is_safe_call(name, sink)
        if safe and sink.trust_names:
            return CONST
        local = self._local_call(n, sink, env)
        if local is not None:
            return local
        if safe:
            return CONST
        fn = n.child_by_field_name("function")
        argl = n.child_by_field_name("arguments")
        parts: list[Node] = list(argl.named_children) if argl is not None else []
        if PATH_JOIN.search(name) and parts:
            # os.path.join(base, name), base.joinpath(name): name is joined onto the base
            obj = fn.child_by_field_name("object") if fn is not None else None
            base, rest = (
                (obj, parts)
                if name.endswith("joinpath") and obj is not None
                else (parts[0], parts[1:])
            )
            return strongest(
                [self.level(base, sink, env or None), joined(self._all(rest, sink, env))]
            )
        obj = (
            fn.child_by_field_name("object") if fn is not None and fn.type == "attribute" else None
        )
        if obj is not None and not (
            obj.type == "identifier"
            and text(obj) in MODULES
            and text(obj) not in self.params
            and text(obj) not in self.defs
        ):
            parts.append(obj)  # the receiver: "x".join(items), name.lower(), ...
        taint = self._all(parts, sink, env)
        if name in ("locals", "vars", "globals") and not parts:
            return LOCAL
        if last_name(name) in PASSTHROUGH:
            return taint
        return taint if taint.level > Level.CONST else LOCAL

    def _local_call(self, n: Node, sink: Sink, env: dict[str, Taint]) -> Taint | None:
        """The taint of a call to a function of this file, from its summary."""
        program = self.program
        found = program.callee(n) if program is not None else None
        if program is None or found is None:
            return None
        summary = program.summary(found[0], sink)
        if summary is None:
            return None
        return summary.apply(n, found[1], lambda a: self.level(a, sink, env or None))

    def _binary(self, n: Node, sink: Sink, env: dict[str, Taint]) -> Taint:
        """``base / name``, ``base + "/" + name`` and ``"%s/%s" % (base, name)`` join
        ``name`` onto a base path."""
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        op = n.child_by_field_name("operator")
        if left is None or right is None or op is None:
            return self._all(n.named_children, sink, env)
        lt, rt = self.level(left, sink, env or None), self.level(right, sink, env or None)
        if "://" in text(n):
            return strongest([lt, rt])  # a URL, not a path
        if op.type == "/" or (op.type == "+" and ends_with_slash(left)):
            return strongest([lt, joined(rt)])
        if op.type == "%" and unparen(left).type == "string":
            literal = text(unparen(left))
            items = (
                [unparen(right)]
                if unparen(right).type != "tuple"
                else unparen(right).named_children
            )
            count, after_slash = percent_slots(literal)
            if after_slash and count == len(items):
                return strongest(
                    [
                        lt,
                        *(
                            joined(self.level(x, sink, env or None))
                            if i in after_slash
                            else self.level(x, sink, env or None)
                            for i, x in enumerate(items)
                        ),
                    ]
                )
        return strongest([lt, rt])

    def _fstring(self, n: Node, sink: Sink, env: dict[str, Taint]) -> Taint:
        out: list[Taint] = []
        before = ""
        url = "://" in text(n)
        for c in n.children:
            if c.type == "interpolation":
                expr = c.child_by_field_name("expression") or c
                taint = self.level(expr, sink, env or None)
                out.append(joined(taint) if before.endswith(("/", "\\")) and not url else taint)
                before = ""
            elif c.type == "string_content":
                before = text(c)
        return strongest(out)

    def defs_carrying(self, node: Node, sink: Sink, threshold: Level) -> list[Node]:
        """Statements of definitions that carry a taint >= threshold into ``node``."""
        out: list[Node] = []
        seen: set[int] = set()
        stack = [node]
        while stack:
            cur = stack.pop()
            for ident in identifiers(cur, deep=True):
                for d in self.reaching(text(ident), ident):
                    if d.stmt.id in seen or d.value is None:
                        continue
                    seen.add(d.stmt.id)
                    if self.level(d.value, sink).level >= threshold:
                        out.append(d.stmt)
                        stack.append(d.value)
        return sorted(out, key=lambda s: s.start_byte)
