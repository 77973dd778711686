"""Request data handed to a template as a link target (CWE-79).

Autoescaping does not help ``<a href="{{ next }}">``: ``javascript:alert(1)`` has nothing to
escape and runs when the link is followed. The rule looks for a request value given to a
template under a name that says it is a URL (``next``, ``back_link``, ``dest``,
``return_url``...): in a dict or keyword of a ``render`` call, or stored into the context of
Django's ``get_context_data``. A check of the value first (``is_safe_url(v)``, a test of the
parsed ``scheme``, ``check_redirect_url(v)`` on its own line) silences it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewbot.static.base import StaticHit
from reviewbot.static.py_sinks import REDIRECT
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import call_name, last_name, string_text, text, unparen, words
from reviewbot.static.sink_flow import SinkRow, flow_hit
from reviewbot.static.taint import Level, Scope, is_safe_call

if TYPE_CHECKING:
    from tree_sitter import Node

RENDER = frozenset(
    {
        "render",
        "render_to_response",
        "render_template",
        "TemplateResponse",
        "render_to_string",
        "direct_to_template",
    }
)
_URL_WORDS = frozenset(
    {
        "url",
        "uri",
        "link",
        "href",
        "dest",
        "destination",
        "next",
        "redirect",
        "back",
        "goto",
        "callback",
    }
)
_URL_NAMES = frozenset({"return_to", "returnto", "came_from", "continue", "redirect_to"})
_CONTEXT_METHODS = frozenset({"get_context_data", "get_context"})
_GUARD_WORDS = frozenset(
    {"valid", "validate", "check", "safe", "allowed", "verify", "scheme", "netloc"}
)
LINK = SinkRow(
    "py.xss-url-in-template",
    REDIRECT,
    fires=Level.SOURCE,
    anchor=Level.SOURCE,
    title="request data passed to a template as a link",
    message="{origin} goes to the template as `{name}`{note}. Autoescaping does not stop a "
    "javascript: URL in href/src, which runs when the link is followed (and any site can be "
    "linked). Accept only relative paths or allowed hosts (url_has_allowed_host_and_scheme) "
    "before passing it.",
    reaches="the template",
    origin="",
    grade=None,
    confidence=(0.6, 0.6),
)


def check_links(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for call in scope.select("call"):
        if last_name(call_name(call)) not in RENDER:
            continue
        argl = call.child_by_field_name("arguments")
        for a in argl.named_children if argl is not None else ():
            if a.type == "keyword_argument":
                key, value = a.child_by_field_name("name"), a.child_by_field_name("value")
                hits += _pair(ctx, scope, a, key, value, call)
            elif a.type == "dictionary":
                for p in a.named_children:
                    if p.type == "pair":
                        hits += _pair(
                            ctx,
                            scope,
                            p,
                            p.child_by_field_name("key"),
                            p.child_by_field_name("value"),
                            call,
                        )
    fn = scope.node
    name = fn.child_by_field_name("name") if fn.type == "function_definition" else None
    if name is not None and text(name) in _CONTEXT_METHODS:
        for stmt in scope.select("assignment"):
            left = stmt.child_by_field_name("left")
            if left is not None and left.type == "subscript":
                hits += _pair(
                    ctx,
                    scope,
                    stmt,
                    left.child_by_field_name("subscript"),
                    stmt.child_by_field_name("right"),
                    stmt,
                )
    return hits


def _key(key: Node | None) -> str | None:
    if key is None:
        return None
    key = unparen(key)
    if (
        key.type == "identifier"
        and key.parent is not None
        and key.parent.type == "keyword_argument"
    ):
        return text(key)
    return string_text(key) if key.type == "string" else None


def _pair(
    ctx: Ctx, scope: Scope, where: Node, key: Node | None, value: Node | None, sink: Node
) -> list[StaticHit]:
    name = _key(key)
    if (
        name is None
        or value is None
        or not (set(words(name)) & _URL_WORDS or name.lower() in _URL_NAMES)
    ):
        return []
    value = unparen(value)
    if value.type == "call" and is_safe_call(call_name(value), REDIRECT):
        return []
    taint = scope.level(value, REDIRECT)
    if taint.level >= Level.SOURCE and not taint.scalar and _guarded(scope, value, where):
        return []
    hit = flow_hit(ctx, scope, LINK, where, taint, [value], name)
    return [hit] if hit is not None else []


def _guarded(scope: Scope, value: Node, where: Node) -> bool:
    """An ``if`` around ``where`` or a statement before it in the same block that checks the
    value (or a name it was read into)."""
    names = {text(value)} if value.type == "identifier" else set()
    cur = where
    while cur.parent is not None and cur.id != scope.node.id:
        parent = cur.parent
        if parent.type in ("if_statement", "elif_clause"):
            cond = parent.child_by_field_name("condition")
            if cond is not None and _checks(cond, names):
                return True
        if parent.type == "block":
            for stmt in parent.named_children:
                if stmt.start_byte >= cur.start_byte:
                    break
                if (
                    stmt.type == "expression_statement"
                    and stmt.named_children
                    and stmt.named_children[0].type == "call"
                    and _checks(stmt.named_children[0], names)
                ):
                    return True
        cur = parent
    return any(scope.validated(n, where) for n in names)


def _checks(cond: Node, names: set[str]) -> bool:
    """A call or attribute test in ``cond`` named like a check (``is_safe_url(x)``,
    ``parsed.scheme == ""``) that mentions one of ``names`` (any, when ``names`` is empty)."""
    stack = [cond]
    while stack:
        n = stack.pop()
        if n.type == "call":
            callee = call_name(n)
            argl = n.child_by_field_name("arguments")
            mentions = not names or (
                argl is not None and any(text(i) in names for i in _identifiers(argl))
            )
            if mentions and set(words(last_name(callee))) & _GUARD_WORDS:
                return True
        elif n.type == "attribute":
            attr = n.child_by_field_name("attribute")
            if attr is not None and text(attr) in ("scheme", "netloc"):
                return True
        stack.extend(n.named_children)
    return False


def _identifiers(n: Node) -> list[Node]:
    out: list[Node] = []
    stack = [n]
    while stack:
        c = stack.pop()
        if c.type == "identifier":
            out.append(c)
        stack.extend(c.named_children)
    return out
