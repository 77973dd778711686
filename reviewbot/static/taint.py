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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from reviewbot.static.pynodes import (
    CONSTANT_NAME,
    CONSTANT_TYPES,
    LOOP_TYPES,
    call_name,
    contains,
    enclosing,
    has_interpolation,
    last_name,
    statement_of,
    text,
    unparen,
    walk_scope,
    words,
)

if TYPE_CHECKING:
    from tree_sitter import Node


class Level(IntEnum):
    CONST = 0
    LOCAL = 1
    PARAM = 2
    SOURCE = 3


@dataclass(frozen=True, slots=True)
class Taint:
    level: Level
    origin: str = ""
    """What the value comes from, for messages: "parameter `sid`", "request data ..."."""
    scalar: bool = False
    """A parameter annotated int/float/bool/...: not enforced, but it carries no text."""


CONST = Taint(Level.CONST)
LOCAL = Taint(Level.LOCAL)


def strongest(taints: Iterable[Taint]) -> Taint:
    """The most dangerous taint; among equals, a textual one over a scalar one."""
    best = CONST
    for t in taints:
        if t.level > best.level or (t.level == best.level and (
                (best.scalar and not t.scalar) or (not best.origin and t.origin))):
            best = t
    return best


@dataclass(frozen=True, slots=True)
class Sink:
    """A kind of sink: its own sanitiser names on top of the general ones."""

    name: str
    safe_calls: frozenset[str] = frozenset()


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
        return Taint(Level.PARAM, f"local input `{dotted}`")
    if _SOURCE_ATTR.search(dotted) or (call and _SOURCE_CALL.search(dotted)):
        return Taint(Level.SOURCE, f"request data `{dotted}`")
    return None


class Scope:
    """Definitions and parameters of one function (or of the module body)."""

    def __init__(self, node: Node, module: Scope | None = None) -> None:
        self.node = node
        self.module = module
        self.params: dict[str, Taint] = {}
        self.defs: dict[str, list[Def]] = {}
        self._memo: dict[tuple[int, str], Taint] = {}
        self._busy: set[int] = set()
        if node.type == "function_definition":
            self._collect_params(node)
        for n in walk_scope(node):
            self._collect(n)

    # -- collection -------------------------------------------------------------------

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
            if dec.type == "decorator" and call is not None and _ROUTE_DECORATOR.search(
                call_name(call)
            ):
                return True
        return False

    def _add(self, name: str, stmt: Node, value: Node | None, kind: str, pos: int) -> None:
        self.defs.setdefault(name, []).append(Def(name, stmt, value, kind, pos))

    def _targets(self, target: Node, stmt: Node, value: Node | None, kind: str, pos: int) -> None:
        target = unparen(target)
        if target.type == "identifier":
            self._add(text(target), stmt, value, kind, pos)
        elif target.type in ("pattern_list", "tuple_pattern", "list_pattern", "tuple",
                             "list", "list_splat_pattern", "expression_list"):
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
                if (obj is not None and obj.type == "identifier" and argl is not None
                        and text(attr) in ("append", "extend", "insert", "add", "update",
                                           "setdefault", "appendleft")):
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
            before += [d for d in defs if d.pos > use.start_byte and contains(loop, d.stmt)
                       and d.kind in ("aug", "mutate", "assign")]
        killer = None
        for d in before:
            block = statement_of(d.stmt).parent
            if d.kind in _KILLING and d.pos <= use.start_byte and block is not None \
                    and contains(block, use) and (killer is None or d.pos > killer.pos):
                killer = d
        if killer is not None:
            before = [d for d in before if d.pos >= killer.pos]
        return before

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
            return self._all((c.child_by_field_name("expression") or c for c in n.children
                              if c.type == "interpolation"), sink, env)
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
                    for ident in _identifiers(left):
                        inner[text(ident)] = taint
            body = n.child_by_field_name("body")
            return self.level(body, sink, inner) if body is not None else LOCAL
        if t == "conditional_expression":
            branches = [c for i, c in enumerate(n.named_children) if i != 1]
            return self._all(branches, sink, env)
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
        if is_safe_call(name, sink):
            return CONST
        fn = n.child_by_field_name("function")
        argl = n.child_by_field_name("arguments")
        parts: list[Node] = list(argl.named_children) if argl is not None else []
        obj = (fn.child_by_field_name("object") if fn is not None and fn.type == "attribute"
               else None)
        if obj is not None and not (obj.type == "identifier" and text(obj) in _MODULES):
            parts.append(obj)  # the receiver: "x".join(items), name.lower(), ...
        taint = self._all(parts, sink, env)
        if name in ("locals", "vars", "globals") and not parts:
            return LOCAL
        if last_name(name) in _PASSTHROUGH:
            return taint
        return taint if taint.level > Level.CONST else LOCAL

    def validated(self, name: str, use: Node) -> bool:
        """Is ``name`` checked by a condition that guards ``use``?

        ``if ok(x): use(x)``, ``if not ok(x): ... else: use(x)`` and
        ``if not ok(x): raise ...`` followed by ``use(x)`` all count."""
        cur = use
        while cur.parent is not None and cur.id != self.node.id:
            parent = cur.parent
            if parent.type in ("if_statement", "elif_clause", "while_statement"):
                cond = parent.child_by_field_name("condition")
                body = parent.child_by_field_name("consequence") or parent.child_by_field_name(
                    "body")
                if cond is not None and body is not None and body.id == cur.id and \
                        self._polarity(cond, name) > 0:
                    return True
            if parent.type == "else_clause" and parent.parent is not None:
                cond = parent.parent.child_by_field_name("condition")
                if cond is not None and self._polarity(cond, name) < 0:
                    return True
            if parent.type in ("block", "module"):
                for stmt in parent.named_children:
                    if stmt.start_byte >= cur.start_byte:
                        break
                    if stmt.type == "if_statement" and _exits(stmt):
                        cond = stmt.child_by_field_name("condition")
                        if cond is not None and self._polarity(cond, name) < 0:
                            return True
            cur = parent
        return False

    def _polarity(self, cond: Node, name: str) -> int:
        """+1 when ``cond`` being true means ``name`` passed a check, -1 when it being false
        does, 0 when it says nothing about ``name``."""
        cond = unparen(cond)
        if cond.type == "not_operator":
            arg = cond.child_by_field_name("argument")
            return -self._polarity(arg, name) if arg is not None else 0
        if cond.type == "boolean_operator":
            signs = [self._polarity(c, name) for c in (cond.child_by_field_name("left"),
                                                        cond.child_by_field_name("right"))
                     if c is not None]
            return 1 if 1 in signs else -1 if -1 in signs else 0
        if cond.type == "comparison_operator" and len(cond.named_children) == 2:
            first, other = (unparen(c) for c in cond.named_children)
            ops = [c.type for c in cond.children if c.id not in (first.id, other.id)
                   and c.type not in ("(", ")")]
            op = ops[0] if len(ops) == 1 else " ".join(ops)
            if text(first) == name:
                if op in ("in", "not in") and self._allow_list(other):
                    return 1 if op == "in" else -1
                if op in ("==", "!=") and other.type in CONSTANT_TYPES | {"string"}:
                    return 1 if op == "==" else -1
            for side in (first, other):
                sign = self._polarity(side, name) if side.type == "call" else 0
                if sign:  # re.match(p, x) is None / commonpath([base, x]) != base
                    return -sign if op in ("is", "!=") else sign
            return 0
        if cond.type == "call":
            callee = call_name(cond)
            argl = cond.child_by_field_name("arguments")
            mentioned = argl is not None and any(
                text(unparen(a)) == name for a in argl.named_children)
            receiver = callee.rsplit(".", 1)[0] if "." in callee else ""
            if (mentioned or receiver == name) and (callee == "isinstance" or any(
                    w in _VALIDATING_WORDS for w in words(last_name(callee)))):
                return 1
        return 0

    def _allow_list(self, n: Node) -> bool:
        """A collection fixed in the code: a literal, an ALL_CAPS name, or a local name
        only ever bound to a literal collection."""
        n = unparen(n)
        if n.type in ("list", "tuple", "set", "dictionary"):
            return all(c.type in CONSTANT_TYPES or c.type in ("string", "pair")
                       for c in n.named_children)
        if n.type in ("identifier", "attribute"):
            last = text(n).rsplit(".", 1)[-1]
            if CONSTANT_NAME.match(last):
                return True
            if n.type == "identifier":
                defs = self.reaching(text(n), n)
                return bool(defs) and all(
                    d.kind == "assign" and d.value is not None and self._allow_list(d.value)
                    for d in defs)
        return False

    def defs_carrying(self, node: Node, sink: Sink, threshold: Level) -> list[Node]:
        """Statements of definitions that carry a taint >= threshold into ``node``."""
        out: list[Node] = []
        seen: set[int] = set()
        stack = [node]
        while stack:
            cur = stack.pop()
            for ident in _identifiers(cur, deep=True):
                for d in self.reaching(text(ident), ident):
                    if d.stmt.id in seen or d.value is None:
                        continue
                    seen.add(d.stmt.id)
                    if self.level(d.value, sink).level >= threshold:
                        out.append(d.stmt)
                        stack.append(d.value)
        return sorted(out, key=lambda s: s.start_byte)


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


def _identifiers(node: Node | None, deep: bool = False) -> list[Node]:
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
            if parent is not None and parent.type == "attribute" and \
                    parent.child_by_field_name("attribute") == cur:
                continue
            if parent is not None and parent.type == "keyword_argument" and \
                    parent.child_by_field_name("name") == cur:
                continue
            out.append(cur)
        elif cur.type != "lambda" and (deep or cur.type in (
                "pattern_list", "tuple_pattern", "list_pattern", "tuple", "list",
                "parenthesized_expression")):
            stack.extend(cur.named_children)
    return out


def _exits(if_stmt: Node) -> bool:
    """An ``if`` whose body always leaves (raise/return/abort/continue/break)."""
    body = if_stmt.child_by_field_name("consequence")
    if body is None or not body.named_children:
        return False
    last = body.named_children[-1]
    if last.type in ("raise_statement", "return_statement", "continue_statement",
                     "break_statement"):
        return True
    if last.type == "expression_statement" and last.named_children:
        expr = last.named_children[0]
        return expr.type == "call" and last_name(call_name(expr)) in (
            "abort", "exit", "_exit", "fail", "error", "HttpResponseBadRequest")
    return False


def scopes_touching(root: Node, changed: frozenset[int]) -> list[Node]:
    """Function nodes (innermost) and the module, overlapping changed lines."""
    lo, hi = min(changed), max(changed)
    out: list[Node] = []
    stack = [root]
    while stack:
        n = stack.pop()
        if n.end_point[0] + 1 < lo or n.start_point[0] + 1 > hi:
            continue
        if n.type == "function_definition":
            out.append(n)
        stack.extend(n.children)
    return out
