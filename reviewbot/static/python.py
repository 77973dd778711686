"""Python rules (a first handful; see the static analyzers issue for the full set)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reviewbot.context.extract import SourceFile
from reviewbot.findings import Category, Severity
from reviewbot.static.base import StaticHit

if TYPE_CHECKING:
    from tree_sitter import Node

_CONSTANT_TYPES = {"string", "integer", "float", "true", "false", "none", "concatenated_string"}


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _line(n: Node) -> int:
    return n.start_point[0] + 1


def _end(n: Node) -> int:
    return n.end_point[0] + 1


def _is_constant(n: Node) -> bool:
    if n.type == "string":
        return not any(c.type == "interpolation" for c in n.children)
    return n.type in _CONSTANT_TYPES


def _call_name(src: SourceFile, call: Node) -> str:
    fn = call.child_by_field_name("function")
    return src.text(fn) if fn is not None else ""


def _args(call: Node) -> list[Node]:
    a = call.child_by_field_name("arguments")
    return [c for c in a.named_children if c.type != "comment"] if a is not None else []


def _is_dynamic_string(n: Node) -> bool:
    """A string built at run time: f-string, %-format, .format(), or concatenation."""
    if n.type == "string":
        return any(c.type == "interpolation" for c in n.children)
    if n.type == "binary_operator":
        op = n.child_by_field_name("operator")
        left = n.child_by_field_name("left")
        right = n.child_by_field_name("right")
        if op is not None and op.type in ("%", "+") and left is not None and right is not None:
            return left.type == "string" or right.type == "string" or _is_dynamic_string(left)
    if n.type == "call":
        fn = n.child_by_field_name("function")
        if fn is not None and fn.type == "attribute":
            attr = fn.child_by_field_name("attribute")
            obj = fn.child_by_field_name("object")
            return attr is not None and obj is not None and obj.type == "string" and (
                attr.type == "identifier" and attr.text == b"format"
            )
    return False


def analyze(src: SourceFile, changed: frozenset[int]) -> list[StaticHit]:
    tree = src.tree
    assert tree is not None
    hits: list[StaticHit] = []
    for n in _walk(tree.root_node):
        if _end(n) < min(changed) or _line(n) > max(changed):
            continue
        if n.type == "call":
            hits.extend(_check_call(src, n))
        elif n.type in ("function_definition",):
            hits.extend(_check_defaults(src, n))
        elif n.type == "except_clause":
            hits.extend(_check_bare_except(src, n))
        elif n.type == "comparison_operator":
            hits.extend(_check_is_literal(src, n))
    return hits


def _check_call(src: SourceFile, call: Node) -> list[StaticHit]:
    name = _call_name(src, call)
    args = _args(call)
    line, end = _line(call), _end(call)
    out: list[StaticHit] = []
    if name in ("eval", "exec") and args and not _is_constant(args[0]):
        out.append(StaticHit(
            "py.eval", line, end, Category.SECURITY, Severity.ERROR,
            f"{name}() on a non-constant value",
            f"`{name}` executes arbitrary code; a value that reaches it from input is code "
            "injection. Use ast.literal_eval for data, or a dispatch table.", cwe="CWE-95"))
    if name.endswith((".execute", ".executemany", ".executescript")) and args and (
        _is_dynamic_string(args[0])
    ):
        out.append(StaticHit(
            "py.sql-injection", line, end, Category.SECURITY, Severity.ERROR,
            "SQL built from a formatted string",
            "The query text is built with formatting or concatenation, so input can change "
            "the SQL (injection). Pass values as parameters: cursor.execute(sql, params).",
            cwe="CWE-89"))
    if name == "yaml.load" and not any(
        a.type == "keyword_argument" and src.text(a).replace(" ", "").startswith("Loader=")
        and "Safe" in src.text(a) for a in args
    ) and len(args) < 2:
        out.append(StaticHit(
            "py.yaml-load", line, end, Category.SECURITY, Severity.ERROR,
            "yaml.load without a safe loader",
            "yaml.load can construct arbitrary Python objects. Use yaml.safe_load.",
            suggestion=None, cwe="CWE-502"))
    return out


def _check_defaults(src: SourceFile, fn: Node) -> list[StaticHit]:
    params = fn.child_by_field_name("parameters")
    out: list[StaticHit] = []
    if params is None:
        return out
    for p in params.named_children:
        if p.type in ("default_parameter", "typed_default_parameter"):
            value = p.child_by_field_name("value")
            if value is not None and value.type in ("list", "dictionary", "set"):
                out.append(StaticHit(
                    "py.mutable-default", _line(p), _end(p), Category.BUG, Severity.WARNING,
                    "mutable default argument",
                    "The default is created once and shared by every call; changes leak "
                    "between calls. Default to None and create the value inside.",
                ))
    return out


def _check_bare_except(src: SourceFile, clause: Node) -> list[StaticHit]:
    if any(c.type not in ("except", ":", "block", "comment") for c in clause.children):
        return []
    block = next((c for c in clause.children if c.type == "block"), None)
    body = [c for c in block.named_children if c.type != "comment"] if block is not None else []
    swallows = all(c.type == "pass_statement" or (
        c.type == "expression_statement" and src.text(c).strip() in ("...", "None")
    ) for c in body) or (len(body) == 1 and body[0].type == "continue_statement")
    if not swallows:
        return []
    line = _line(clause)
    return [StaticHit(
        "py.bare-except", line, line, Category.BUG, Severity.WARNING,
        "bare except that swallows every error",
        "`except:` also catches KeyboardInterrupt and SystemExit and hides real failures. "
        "Catch the specific exception and handle or log it.")]


def _check_is_literal(src: SourceFile, cmp: Node) -> list[StaticHit]:
    ops = [c for c in cmp.children if c.type in ("is", "is not")]
    if not ops:
        return []
    operands = [c for c in cmp.named_children]
    for o in operands:
        if o.type in ("string", "integer", "float") and not (
            o.type == "string" and any(c.type == "interpolation" for c in o.children)
        ):
            line = _line(cmp)
            return [StaticHit(
                "py.is-literal", line, _end(cmp), Category.BUG, Severity.WARNING,
                "`is` comparison with a literal",
                "`is` compares identity, not value; with str/int literals the result depends "
                "on interning. Use `==`.",
                suggestion=None)]
    return []
