"""Small helpers over tree-sitter Python nodes shared by the Python rules."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Query

SCOPE_TYPES = frozenset({"function_definition", "class_definition", "lambda"})
LOOP_TYPES = frozenset({"for_statement", "while_statement"})
CONSTANT_TYPES = frozenset({"integer", "float", "true", "false", "none", "ellipsis"})
CONSTANT_NAME = re.compile(r"^_?[A-Z][A-Z0-9_]*$")
"""ALL_CAPS names are constants by convention (PEP 8)."""


def walk(node: Node) -> Iterator[Node]:
    """Pre-order walk of ``node`` and its descendants."""
    stack = [node]
    pop, extend = stack.pop, stack.extend
    while stack:
        n = pop()
        yield n
        children = n.children
        if children:
            extend(children[::-1])


@cache
def _function_query() -> Query:
    from tree_sitter import Query

    from reviewbot.context.languages import grammar

    lang = grammar("python")
    if lang is None:  # pragma: no cover - a Python tree exists only with the grammar
        raise RuntimeError("the tree-sitter Python grammar is not installed")
    return Query(lang, "(function_definition) @fn")


def function_definitions(root: Node, rows: list[tuple[int, int]] | None = None) -> list[Node]:
    """The ``def``s under ``root`` (nested ones included), in document order, found by a
    tree-sitter query in C rather than a walk in Python. With ``rows`` (0-based, end
    exclusive), only those whose text meets one of the row ranges: the query then visits
    only the subtrees that reach them."""
    from tree_sitter import QueryCursor

    if rows is None:
        found: list[Node] = QueryCursor(_function_query()).captures(root).get("fn", [])
    else:
        seen: dict[tuple[int, int], Node] = {}
        for lo, hi in rows:
            cursor = QueryCursor(_function_query())
            cursor.set_point_range((lo, 0), (hi, 0))
            for n in cursor.captures(root).get("fn", ()):
                seen.setdefault((n.start_byte, n.end_byte), n)
        found = list(seen.values())
    found.sort(key=lambda n: n.start_byte)
    return found


_SCOPE_OR_DECORATED = SCOPE_TYPES | {"decorated_definition"}


_PLAIN_TYPES = (
    "assignment",
    "augmented_assignment",
    "for_statement",
    "as_pattern",
    "named_expression",
    "except_clause",
    "call",
    "default_parameter",
    "typed_default_parameter",
    "comparison_operator",
    "block",
    "assert_statement",
    "expression_statement",
    "keyword_argument",
    "pair",
    "return_statement",
    "concatenated_string",
    "binary_operator",
)
_NARROW_PATTERNS = {
    # the only strings that can build a value at run time (most are plain literals)
    "fstring": "(string (interpolation)) @fstring",
    # the only attribute a rule looks at by itself
    "cert_none": '((attribute) @cert_none (#eq? @cert_none "ssl.CERT_NONE"))',
}
INDEXED_TYPES = (*_PLAIN_TYPES, *_NARROW_PATTERNS)
"""What a scope indexes (:func:`index_scope`) and rules select: node types, plus
``fstring`` (strings with an interpolation) and ``cert_none`` (``ssl.CERT_NONE``)."""

# Same span, parent first: a block of one statement, a statement of one expression.
_TIE_RANK = {"block": 0, "expression_statement": 1}


@cache
def _scope_query() -> Query:
    from tree_sitter import Query

    from reviewbot.context.languages import grammar

    lang = grammar("python")
    if lang is None:  # pragma: no cover - a Python tree exists only with the grammar
        raise RuntimeError("the tree-sitter Python grammar is not installed")
    # One capture per type, named after it: the node's type comes with it for free.
    wanted = " ".join([*(f"({t}) @{t}" for t in _PLAIN_TYPES), *_NARROW_PATTERNS.values()])
    nested = " ".join(f"({t})" for t in sorted(_SCOPE_OR_DECORATED))
    return Query(lang, f"{wanted} [{nested}] @nested")


def index_scope(scope: Node) -> dict[str, list[tuple[int, Node]]]:
    """The nodes of :data:`INDEXED_TYPES` in a scope's body, by type, each with its
    position in the body's pre-order; nested functions, classes and lambdas are not
    entered (their definitions belong to their own scopes).

    A tree-sitter query finds the candidates in C; Python then drops those inside nested
    definitions and orders the rest: by start, the longer (enclosing) node first, and for
    equal spans the parent first. Rules select the few types they need instead of testing
    every node of the function (reading ``Node.type`` crosses into C each time)."""
    from tree_sitter import QueryCursor

    query = _scope_query()
    found: list[tuple[str, list[Node]]] = []
    spans: list[tuple[int, int]] = []
    own = (scope.start_byte, scope.end_byte)
    for lo, hi in _body_ranges(scope):
        cursor = QueryCursor(query)
        if lo >= 0:
            cursor.set_byte_range(lo, hi)
        caps = cursor.captures(scope)
        for name, nodes in caps.items():
            if name == "nested":
                spans += [(n.start_byte, n.end_byte) for n in nodes]
            elif name == "fstring":  # one match per interpolation
                found.append((name, list({n.start_byte: n for n in nodes}.values())))
            else:
                found.append((name, nodes))
    # Outermost nested definitions, as sorted disjoint spans.
    spans.sort(key=lambda r: (r[0], -r[1]))
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in spans:
        if (lo, hi) == own or (ends and hi <= ends[-1]):
            continue
        starts.append(lo)
        ends.append(hi)
    keyed: list[tuple[int, int, int, str, Node]] = []
    for t, nodes in found:
        rank = _TIE_RANK.get(t, 2)
        for n in nodes:
            lo, hi = n.start_byte, n.end_byte
            if starts:
                i = bisect_right(starts, lo) - 1
                # Inside a nested definition; a node with exactly its span encloses it
                # instead (`lambda: x` as a statement).
                if i >= 0 and hi <= ends[i] and (lo != starts[i] or hi != ends[i]):
                    continue
            keyed.append((lo, -hi, rank, t, n))
    keyed.sort(key=itemgetter(0, 1, 2))
    by_type: dict[str, list[tuple[int, Node]]] = {}
    for pos, k in enumerate(keyed):
        slot = by_type.get(k[3])
        if slot is None:
            by_type[k[3]] = [(pos, k[4])]
        else:
            slot.append((pos, k[4]))
    return by_type


def _body_ranges(scope: Node) -> list[tuple[int, int]]:
    """Byte ranges to query for a scope's body: the whole node (-1, -1) for a function;
    for a module, each run of top-level statements between its definitions."""
    if scope.type != "module":
        return [(-1, -1)]
    ranges: list[tuple[int, int]] = []
    open_run = False
    for child in scope.named_children:
        if child.type in _SCOPE_OR_DECORATED:
            open_run = False
        elif open_run:
            ranges[-1] = (ranges[-1][0], child.end_byte)
        else:
            ranges.append((child.start_byte, child.end_byte))
            open_run = True
    return ranges


def line(n: Node) -> int:
    return n.start_point[0] + 1


def end_line(n: Node) -> int:
    return n.end_point[0] + 1


def text(n: Node | None) -> str:
    if n is None or n.text is None:
        return ""
    return n.text.decode("utf-8", "replace")


def unparen(n: Node) -> Node:
    while n.type == "parenthesized_expression" and n.named_child_count == 1:
        n = n.named_children[0]
    return n


_CALL_NAMES: ContextVar[dict[Node, str] | None] = ContextVar("call_names", default=None)


@contextmanager
def call_name_cache() -> Iterator[None]:
    """Memoise :func:`call_name` while the analysis of one file runs, and drop the memo
    after it: a cached node keeps its whole syntax tree alive, so a process-wide cache
    would hold thousands of old trees in a long-running server."""
    token = _CALL_NAMES.set({})
    try:
        yield
    finally:
        _CALL_NAMES.reset(token)


def call_name(call: Node) -> str:
    """Dotted callee text without whitespace, e.g. ``self.cursor.execute``.

    Memoised inside :func:`call_name_cache` (every rule asks it of every call)."""
    memo = _CALL_NAMES.get()
    if memo is not None:
        name = memo.get(call)
        if name is None:
            name = memo[call] = _call_name(call)
        return name
    return _call_name(call)


def _call_name(call: Node) -> str:
    fn = call.child_by_field_name("function")
    if fn is None:
        return ""
    name = text(fn)
    return "".join(name.split()) if " " in name or "\n" in name or "\t" in name else name


def last_name(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def args(call: Node) -> list[Node]:
    """Positional arguments (splats included), comments dropped."""
    a = call.child_by_field_name("arguments")
    if a is None:
        return []
    if a.type == "generator_expression":
        return [a]  # f(x for x in xs)
    return [c for c in a.named_children if c.type not in ("comment", "keyword_argument")]


def kwarg(call: Node, name: str) -> Node | None:
    a = call.child_by_field_name("arguments")
    if a is None:
        return None
    for c in a.named_children:
        if c.type == "keyword_argument":
            key = c.child_by_field_name("name")
            if key is not None and text(key) == name:
                return c.child_by_field_name("value")
    return None


def is_string(n: Node) -> bool:
    return n.type in ("string", "concatenated_string")


def has_interpolation(n: Node) -> bool:
    t = n.type
    if t == "concatenated_string":
        return any(has_interpolation(c) for c in n.named_children)
    if t != "string":
        return False
    start = n.child(0)
    if (
        start is not None
        and start.type == "string_start"
        and start.text is not None
        and not _FORMAT_PREFIX.intersection(start.text)
    ):
        return False  # only f-strings (and t-strings) hold {interpolations}
    return any(c.type == "interpolation" for c in n.children)


_FORMAT_PREFIX = frozenset(b"fFtT")


def is_constant(n: Node) -> bool:
    """A literal whose value is fixed in the source (no interpolation)."""
    n = unparen(n)
    if n.type in CONSTANT_TYPES:
        return True
    if is_string(n):
        return not has_interpolation(n)
    if n.type == "unary_operator":
        operand = n.child_by_field_name("argument")
        return operand is not None and is_constant(operand)
    return False


def string_text(n: Node) -> str:
    """The literal text of a string node as written (escapes kept), interpolations as {}."""
    if n.type == "concatenated_string":
        return "".join(string_text(c) for c in n.named_children if c.type == "string")
    out: list[str] = []
    for c in n.children:
        if c.type == "string_content":
            out.append(text(c))
        elif c.type == "interpolation":
            out.append("{}")
    return "".join(out)


def enclosing(n: Node, types: frozenset[str] | set[str]) -> Node | None:
    p = n.parent
    while p is not None:
        if p.type in types:
            return p
        p = p.parent
    return None


def contains(outer: Node, inner: Node) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def touches(n: Node, changed: frozenset[int]) -> bool:
    return any(ln in changed for ln in range(line(n), end_line(n) + 1))


def statement_of(n: Node) -> Node:
    """The innermost statement (child of a block or module) containing ``n``."""
    cur = n
    while cur.parent is not None and cur.parent.type not in ("block", "module"):
        cur = cur.parent
    return cur


def words(name: str) -> list[str]:
    """``_runSshCmd`` -> ['run', 'ssh', 'cmd']."""
    return list(_words(name))


_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")


@lru_cache(maxsize=8192)
def _words(name: str) -> tuple[str, ...]:
    spaced = _CAMEL.sub(r"\1 \2", name)
    return tuple(w.lower() for w in _NON_WORD.split(spaced) if w)
