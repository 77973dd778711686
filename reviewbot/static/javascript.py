"""JavaScript / TypeScript rules: code from strings, HTML sinks, child_process, `==`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.context.extract import SourceFile
from reviewbot.static.base import StaticHit
from reviewbot.static.pynodes import end_line, line, text, walk
from reviewbot.static.rules import RULES

if TYPE_CHECKING:
    from tree_sitter import Node

_CONST = frozenset({"string", "number", "true", "false", "null", "undefined", "regex"})
_HTML_PROPS = frozenset({"innerHTML", "outerHTML"})
_DOC_WRITE = frozenset({"document.write", "document.writeln"})
_EXEC = frozenset({"exec", "execSync"})
_CHILD_PROCESS = re.compile(
    r"""require\(\s*['"](?:node:)?child_process['"]\s*\)|from\s+['"](?:node:)?child_process['"]"""
)


def _constant(n: Node) -> bool:
    if n.type == "template_string":
        return not any(c.type == "template_substitution" for c in n.children)
    if n.type == "binary_expression":
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        return left is not None and right is not None and _constant(left) and _constant(right)
    if n.type == "parenthesized_expression" and n.named_child_count == 1:
        return _constant(n.named_children[0])
    return n.type in _CONST


def _args(call: Node) -> list[Node]:
    a = call.child_by_field_name("arguments")
    return [c for c in a.named_children if c.type != "comment"] if a is not None else []


def _callee(call: Node) -> str:
    fn = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    return re.sub(r"\s+", "", text(fn)) if fn is not None else ""


def analyze(src: SourceFile, changed: frozenset[int]) -> list[StaticHit]:
    tree = src.tree
    if tree is None or not changed:
        return []
    lo, hi = min(changed), max(changed)
    uses_child_process = bool(_CHILD_PROCESS.search(src.data.decode("utf-8", "replace")))
    hits: list[StaticHit] = []
    for n in walk(tree.root_node):
        if end_line(n) < lo or line(n) > hi:
            continue
        if n.type in ("call_expression", "new_expression"):
            hits += _call(n, uses_child_process)
        elif n.type in ("assignment_expression", "augmented_assignment_expression"):
            hits += _html_assignment(n)
        elif n.type == "jsx_attribute":
            hits += _dangerous_html(n)
        elif n.type == "binary_expression":
            hits += _loose_equality(n)
    return hits


def _call(n: Node, uses_child_process: bool) -> list[StaticHit]:
    name = _callee(n)
    args = _args(n)
    first = args[0] if args else None
    dynamic = first is not None and not _constant(first)
    if n.type == "call_expression" and name in ("eval", "window.eval") and dynamic:
        return [
            RULES["js.eval"].hit(
                line(n),
                end_line(n),
                "eval() on a non-constant value",
                "eval runs its argument as code; a value that reaches it from input is code "
                "injection. Parse data with JSON.parse, or look functions up in an object.",
            )
        ]
    if n.type == "new_expression" and name == "Function" and any(not _constant(a) for a in args):
        return [
            RULES["js.new-function"].hit(
                line(n),
                end_line(n),
                "new Function() builds code from strings",
                "new Function compiles its string arguments like eval does; build behaviour from "
                "data structures instead of source text.",
            )
        ]
    if name in _DOC_WRITE and dynamic:
        return [
            RULES["js.inner-html"].hit(
                line(n),
                end_line(n),
                f"{name}() with a non-constant value",
                "document.write parses its argument as HTML, so data in it can inject script. "
                "Create elements and set textContent instead.",
            )
        ]
    if name.endswith(".insertAdjacentHTML") and len(args) > 1 and not _constant(args[1]):
        return [
            RULES["js.inner-html"].hit(
                line(n),
                end_line(n),
                "insertAdjacentHTML with a non-constant value",
                "insertAdjacentHTML parses its argument as HTML; use insertAdjacentText or build "
                "elements, or sanitise with DOMPurify.",
            )
        ]
    last = name.rsplit(".", 1)[-1]
    is_cp = (
        "." in name and re.search(r"(?:child_process|\bcp|childProcess)\.", name + ".") is not None
    ) or ("." not in name and uses_child_process)
    if last in _EXEC and is_cp and dynamic:
        return [
            RULES["js.child-process-exec"].hit(
                line(n),
                end_line(n),
                f"{last}() with a non-constant command",
                f"child_process.{last} runs its command through a shell; values in it can add "
                "commands (; | $()). Use execFile/spawn with an argument array.",
            )
        ]
    return []


def _html_assignment(n: Node) -> list[StaticHit]:
    left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
    if left is None or right is None or left.type != "member_expression":
        return []
    prop = left.child_by_field_name("property")
    if prop is None or text(prop) not in _HTML_PROPS or _constant(right):
        return []
    return [
        RULES["js.inner-html"].hit(
            line(n),
            end_line(n),
            f"{text(prop)} assigned a non-constant value",
            "The value is parsed as HTML, so data in it can inject script (XSS). Use textContent, "
            "build elements, or sanitise with DOMPurify.",
        )
    ]


def _dangerous_html(n: Node) -> list[StaticHit]:
    name = n.named_children[0] if n.named_children else None
    if name is None or text(name) != "dangerouslySetInnerHTML":
        return []
    value = next((c for c in n.named_children[1:]), None)
    obj = value.named_children[0] if value is not None and value.named_children else None
    if obj is None or obj.type != "object":
        return []
    for pair in obj.named_children:
        v = pair.child_by_field_name("value")
        if pair.type == "pair" and v is not None and not _constant(v):
            return [
                RULES["js.dangerous-html"].hit(
                    line(n),
                    end_line(n),
                    "dangerouslySetInnerHTML with a non-constant value",
                    "React inserts __html without escaping; sanitise it (DOMPurify.sanitize) or "
                    "render the content as text.",
                    confidence=0.7,
                )
            ]
    return []


def _loose_equality(n: Node) -> list[StaticHit]:
    op = n.child_by_field_name("operator")
    if op is None or op.type not in ("==", "!="):
        return []
    left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
    if any(x is not None and x.type in ("null", "undefined") for x in (left, right)):
        return []  # `x == null` is the idiom for null-or-undefined
    strict = "===" if op.type == "==" else "!=="
    return [
        RULES["js.eqeqeq"].hit(
            line(n),
            end_line(n),
            f"`{op.type}` instead of `{strict}`",
            f"`{op.type}` converts types before comparing ('' == 0 is true). Prefer `{strict}`.",
            confidence=0.5,
        )
    ]
