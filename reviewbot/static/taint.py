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
from dataclasses import replace
from typing import TYPE_CHECKING

from reviewbot.static.calls import BUDGET_S, Program
from reviewbot.static.levels import CONST, LOCAL, Level, Sink, Taint, strongest
from reviewbot.static.pynodes import (
    CONSTANT_NAME,
    CONSTANT_TYPES,
    call_name,
    has_interpolation,
    last_name,
    text,
    unparen,
    words,
)
from reviewbot.static.scope import Def, Definitions, identifiers

__all__ = ["CONST", "LOCAL", "Def", "Level", "Scope", "Sink", "Taint", "is_safe_call",
           "source_of", "strongest"]

if TYPE_CHECKING:
    from tree_sitter import Node


_SAFE_CALLS = frozenset({
    "int", "float", "bool", "len", "abs", "round", "ord", "hash", "id", "sum", "isinstance",
    "hasattr", "callable", "UUID", "count", "index", "find", "rfind", "isdigit", "isalnum",
    "isalpha", "isnumeric", "isdecimal", "startswith", "endswith", "exists", "isfile", "isdir",
    "getsize", "time", "now", "utcnow", "today", "uuid4", "uuid1", "range", "xrange",
})
_SAFE_WORDS = frozenset({
    "escape", "escaped", "sanitize", "sanitise", "sanitized", "sanitised", "sanitizer",
    "clean", "cleaned", "validate", "validated", "quote", "quoted", "secure", "safe",
    "bleach", "slugify", "purify", "whitelist", "allowlist", "check", "checked",
})
_NOT_SAFE = frozenset({"check_output", "check_call", "safe_load_all"})
_VALIDATING_WORDS = frozenset({
    "match", "fullmatch", "isdigit", "isalnum", "isalpha", "isnumeric", "isdecimal",
    "isidentifier", "valid", "validate", "check", "allowed", "safe", "startswith",
    "relative", "commonpath", "whitelisted", "allowlisted", "permitted",
})
_REQUEST_NAMES = frozenset({"request", "req", "self", "cls", "environ", "handler"})
_REQUEST_ATTRS = (
    "args|form|values|files|cookies|headers|data|json|GET|POST|REQUEST|FILES|COOKIES|META|"
    "body|query_params|query_string|params|match_info|path_params|query|content|stream|"
    "get_json|get_data|getlist|get_argument|get_arguments|get|getHeader|getCookie|"
    "getParameter|get_query_argument|get_body_argument"
)
_SOURCE_ATTR = re.compile(rf"(?:^|\.)(?:request|req)\.(?:{_REQUEST_ATTRS})$")
_SOURCE_CALL = re.compile(
    r"(?:^|\.)get_(?:query_|body_)?arguments?$|(?:^|\.)get_(?:secure_)?cookie$")
_LOCAL_INPUT_CALL = re.compile(
    r"^(?:input|raw_input|os\.getenv|os\.environ\.get|getpass\.getpass|sys\.stdin\.\w+)$")
_LOCAL_INPUT = frozenset({"sys.argv", "os.environ", "sys.stdin"})
_ROUTE_DECORATOR = re.compile(r"\.(?:route|get|post|put|patch|delete|api_route|websocket)$")
_SCALAR_TYPES = frozenset({"int", "float", "bool", "UUID", "uuid.UUID", "datetime", "date",
                           "datetime.datetime", "datetime.date", "Decimal", "decimal.Decimal"})
_KILLING = frozenset({"assign", "unpack", "for", "with", "unknown"})


LOCAL_INPUT = "local input"
"""How the origin of the local user's input (sys.argv, os.environ, input()) begins."""


def is_safe_call(name: str, sink: Sink) -> bool:
    last = last_name(name)
    if last in _NOT_SAFE:
        return False
    if last in _SAFE_CALLS or last in sink.safe_calls or name in sink.safe_calls:
        return True
    return any(w in _SAFE_WORDS for w in words(last))


def source_of(dotted: str, call: bool = False) -> Taint | None:
    """The taint of an attribute (or, with ``call``, a callee) that reads outside input.

    Request data is SOURCE. Input of the local user (sys.argv, os.environ, input()) is
    PARAM: the person at the terminal is as trusted as the caller of a function, so it
    counts for injection into SQL or a shell, not for path traversal."""
    if dotted in _LOCAL_INPUT or any(dotted.startswith(s + ".") for s in _LOCAL_INPUT) or (
            call and _LOCAL_INPUT_CALL.search(dotted)):
        return Taint(Level.PARAM, f"{LOCAL_INPUT} `{dotted}`")
    if _SOURCE_ATTR.search(dotted) or (call and _SOURCE_CALL.search(dotted)):
        return Taint(Level.SOURCE, f"request data `{dotted}`")
    return None


class Scope(Definitions):
    """The taint view of one function (or of the module body)."""

    def __init__(self, node: Node, module: Scope | None = None, *,
                 clock: Callable[[], float] = time.monotonic, budget_s: float = BUDGET_S
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
            self._program = Program(self.node, lambda fn: Scope(fn, module),
                                    clock=self._clock, budget_s=self._budget_s)
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
        if t in CONSTANT_TYPES or t in ("comment", "comparison_operator", "not_operator",
                                        "lambda", "keyword_identifier"):
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
        if t in ("list_comprehension", "generator_expression", "set_comprehension",
                 "dictionary_comprehension"):
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

    def name_level(self, name: str, n: Node, sink: Sink,
                   env: dict[str, Taint] | None = None) -> Taint:
        """The taint of ``name`` as read at node ``n``."""
        env = env or {}
        if name in env:
            return env[name]
        if (CONSTANT_NAME.match(name) or name in _BUILTINS) and name not in self.params \
                and name not in self.defs:
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
            return strongest(self.module.level(d.value, sink) if d.value is not None else LOCAL
                             for d in mod_defs)
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
        if _PATH_JOIN.search(name) and parts:
            # os.path.join(base, name), base.joinpath(name): name is joined onto the base
            obj = fn.child_by_field_name("object") if fn is not None else None
            base, rest = ((obj, parts) if name.endswith("joinpath") and obj is not None
                          else (parts[0], parts[1:]))
            return strongest([self.level(base, sink, env or None),
                              _joined(self._all(rest, sink, env))])
        obj = (fn.child_by_field_name("object") if fn is not None and fn.type == "attribute"
               else None)
        if obj is not None and not (obj.type == "identifier" and text(obj) in _MODULES
                                    and text(obj) not in self.params
                                    and text(obj) not in self.defs):
            parts.append(obj)  # the receiver: "x".join(items), name.lower(), ...
        taint = self._all(parts, sink, env)
        if name in ("locals", "vars", "globals") and not parts:
            return LOCAL
        if last_name(name) in _PASSTHROUGH:
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
        if op.type == "/" or (op.type == "+" and _ends_with_slash(left)):
            return strongest([lt, _joined(rt)])
        if op.type == "%" and unparen(left).type == "string":
            literal = text(unparen(left))
            items = ([unparen(right)] if unparen(right).type != "tuple"
                     else unparen(right).named_children)
            specs = [m.start() for m in _PERCENT_SPEC.finditer(literal)]
            after_slash = {i for i, at in enumerate(specs) if at and literal[at - 1] in "/\\"}
            if after_slash and len(specs) == len(items):
                return strongest([lt, *(_joined(self.level(x, sink, env or None))
                                        if i in after_slash else self.level(x, sink, env or None)
                                        for i, x in enumerate(items))])
        return strongest([lt, rt])

    def _fstring(self, n: Node, sink: Sink, env: dict[str, Taint]) -> Taint:
        out: list[Taint] = []
        before = ""
        url = "://" in text(n)
        for c in n.children:
            if c.type == "interpolation":
                expr = c.child_by_field_name("expression") or c
                taint = self.level(expr, sink, env or None)
                out.append(_joined(taint) if before.endswith(("/", "\\")) and not url
                           else taint)
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


_PATH_JOIN = re.compile(r"^(?:(?:os\.path|posixpath|ntpath|path)\.)?join$|\.joinpath$")
_PERCENT_SPEC = re.compile(r"(?<!%)%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
                           r"[diouxXeEfFgGcrsa]")


def _joined(t: Taint) -> Taint:
    """``t`` as a component joined onto a base path (only text from a parameter or the
    request counts)."""
    if t.level >= Level.PARAM and not t.scalar and not t.joined and not t.origin.startswith(
            LOCAL_INPUT):
        return replace(t, joined=True)
    return t


def _ends_with_slash(n: Node) -> bool:
    """Does the expression ``n`` end with a string literal ending in a path separator?"""
    n = unparen(n)
    while n.type == "binary_operator":
        right = n.child_by_field_name("right")
        if right is None:
            return False
        n = unparen(right)
    return n.type == "string" and not has_interpolation(n) and text(n).rstrip("'\"").endswith(
        ("/", "\\"))


_MODULES = frozenset({"os", "sys", "subprocess", "shlex", "re", "json", "html", "cgi",
                      "urllib", "hashlib", "pickle", "yaml", "shutil", "path", "posixpath"})
_PASSTHROUGH = frozenset({
    "str", "unicode", "repr", "format", "bytes", "list", "tuple", "dict", "set", "sorted",
    "reversed", "map", "filter", "zip", "enumerate", "iter", "next", "chr", "ascii",
    # str methods: the result is made of the receiver and the arguments
    "join", "lower", "upper", "strip", "lstrip", "rstrip", "replace", "split", "rsplit",
    "splitlines", "encode", "decode", "title", "capitalize", "casefold", "zfill", "ljust",
    "rjust", "center", "removeprefix", "removesuffix", "partition", "rpartition",
    "expandtabs", "format_map", "swapcase", "translate",
})
_BUILTINS = frozenset({"chr", "ord", "str", "int", "float", "len", "repr", "list", "dict", "set",
                       "tuple", "bool", "bytes", "range", "sorted", "min", "max", "abs", "map",
                       "filter", "zip", "enumerate", "print", "type", "object", "True", "False",
                       "None"})


