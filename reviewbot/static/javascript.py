"""JavaScript/TypeScript rules (a first handful)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewbot.context.extract import SourceFile
from reviewbot.findings import Category, Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.python import _end, _line, _walk

if TYPE_CHECKING:
    from tree_sitter import Node

_CONST = {"string", "number", "true", "false", "null", "undefined"}


def _constant(n: Node) -> bool:
    if n.type == "template_string":
        return not any(c.type == "template_substitution" for c in n.children)
    return n.type in _CONST


def analyze(src: SourceFile, changed: frozenset[int]) -> list[StaticHit]:
    tree = src.tree
    assert tree is not None
    hits: list[StaticHit] = []
    for n in _walk(tree.root_node):
        if _end(n) < min(changed) or _line(n) > max(changed):
            continue
        if n.type in ("call_expression", "new_expression"):
            fn = n.child_by_field_name("function") or n.child_by_field_name("constructor")
            args_node = n.child_by_field_name("arguments")
            args = [a for a in args_node.named_children] if args_node is not None else []
            name = src.text(fn) if fn is not None else ""
            if name == "eval" and args and not _constant(args[0]):
                hits.append(StaticHit(
                    "js.eval", _line(n), _end(n), Category.SECURITY, Severity.ERROR,
                    "eval() on a non-constant value",
                    "eval runs its argument as code; input that reaches it is code injection. "
                    "Parse data with JSON.parse instead.", cwe="CWE-95"))
            if n.type == "new_expression" and name == "Function" and args:
                hits.append(StaticHit(
                    "js.new-function", _line(n), _end(n), Category.SECURITY, Severity.ERROR,
                    "new Function() builds code from strings",
                    "new Function compiles its string arguments like eval does.", cwe="CWE-95"))
        elif n.type == "assignment_expression":
            left = n.child_by_field_name("left")
            right = n.child_by_field_name("right")
            if left is not None and right is not None and left.type == "member_expression":
                prop = left.child_by_field_name("property")
                if prop is not None and src.text(prop) in ("innerHTML", "outerHTML") and not (
                    _constant(right)
                ):
                    hits.append(StaticHit(
                        "js.inner-html", _line(n), _end(n), Category.SECURITY, Severity.ERROR,
                        f"{src.text(prop)} assigned a non-constant value",
                        "HTML built from data is cross-site scripting when the data comes from "
                        "a user. Use textContent, or sanitise with a vetted library.",
                        cwe="CWE-79"))
    return hits
