"""Small helpers over tree-sitter Python nodes shared by the Python rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

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


_SCOPE_OR_DECORATED = SCOPE_TYPES | {"decorated_definition"}


def walk_scope(node: Node) -> list[Node]:
    """Descendants of a scope's body in pre-order, not entering nested functions, classes
    or lambdas."""
    out: list[Node] = []
    append = out.append
    stack = node.children[::-1]
    pop, extend = stack.pop, stack.extend
    skip = _SCOPE_OR_DECORATED
    while stack:
        n = pop()
        append(n)
        if n.type in skip:
            continue
        children = n.children
        if children:
            extend(children[::-1])
    return out


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


def call_name(call: Node) -> str:
    """Dotted callee text without whitespace, e.g. ``self.cursor.execute``."""
    fn = call.child_by_field_name("function")
    return re.sub(r"\s+", "", text(fn)) if fn is not None else ""


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
    if n.type == "concatenated_string":
        return any(has_interpolation(c) for c in n.named_children)
    return n.type == "string" and any(c.type == "interpolation" for c in n.children)


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
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]
