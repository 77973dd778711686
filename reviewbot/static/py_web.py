"""Web rules: cross-site scripting (CWE-79). Path traversal is in :mod:`py_paths`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.py_links import RENDER, check_links
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import (
    args,
    call_name,
    end_line,
    kwarg,
    last_name,
    line,
    text,
    unparen,
    words,
)
from reviewbot.static.rules import RULES
from reviewbot.static.sink_flow import Grade, SinkRow, first_arg_row, flow_hit, named, sink_hit
from reviewbot.static.strings import SLOT, built, outermost_builds, risky_span, slot_taint
from reviewbot.static.taint import Level, Scope, Sink, is_safe_call, source_of

if TYPE_CHECKING:
    from tree_sitter import Node

HTML = Sink(
    "html",
    frozenset(
        {
            "format_html",
            "strip_tags",
            "urlencode",
            "dumps",
            "jsonify",
            "json_script",
            "linebreaks",
            "Markup.escape",
            "e",
        }
    ),
)

_MARK_SAFE = frozenset(
    {
        "Markup",
        "markupsafe.Markup",
        "mark_safe",
        "SafeString",
        "SafeText",
        "SafeUnicode",
        "jinja2.Markup",
        "flask.Markup",
    }
)
_TEMPLATE_FROM_STRING = frozenset(
    {
        "render_template_string",
        "flask.render_template_string",
        "jinja2.Template",
        "Template.from_string",
        "from_string",
    }
)
_RESPONSE = re.compile(
    r"(?:^|\.)(?:HttpResponse|Response|make_response|HTMLResponse)$"
    r"|(?:^|\.)(?:response|out|request|resp|wfile)\.write$|^self\.write$"
)
_MARKDOWN = re.compile(
    r"^(?:markdown|markdown\.markdown|markdown2\.markdown|md\.markdown)$"
    r"|Markdown\(.*\)\.convert$"
)
_RENDER = RENDER
_TAGS = (
    "a|abbr|article|aside|audio|b|blockquote|body|br|button|canvas|caption|code|dd|details|"
    "div|dl|dt|em|embed|fieldset|figure|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|"
    "input|label|legend|li|link|main|meta|nav|object|ol|optgroup|option|p|pre|script|section|"
    "select|small|source|span|strong|style|sub|summary|sup|svg|table|tbody|td|textarea|tfoot|"
    "th|thead|title|tr|u|ul|video"
)
_HTML_TAG = re.compile(
    rf"<\s*/?\s*(?:{_TAGS})(?:\s[^<>]*)?/?\s*>|<(?:{_TAGS})\s+[a-zA-Z-]+\s*=", re.IGNORECASE
)


def check_xss(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for n in scope.select("call", "return_statement"):
        if n.type == "call":
            hits += _xss_call(ctx, scope, n)
        elif n.type == "return_statement" and scope.is_view and n.named_children:
            hits += _view_return(ctx, scope, n, n.named_children[0])
    hits += _html_builds(ctx, scope)
    hits += check_links(ctx, scope)
    return hits


def _view_return(ctx: Ctx, scope: Scope, stmt: Node, value: Node) -> list[StaticHit]:
    """``return "Hello " + request.args["name"]`` from a view: Flask, Bottle and friends
    send a returned str as text/html."""
    value = unparen(value)
    b = built(value, scope)
    if b is None:
        # the request value itself, directly or through a variable (not redirect(x) and
        # other calls that turn it into something else)
        if value.type == "identifier":
            direct = any(
                d.value is not None
                and (built(d.value, scope) is not None or _is_request_read(d.value))
                for d in scope.reaching(text(value), value)
            )
        else:
            direct = _is_request_read(value)
        if not direct:
            return []
    taint = b.taint(scope, HTML) if b is not None else scope.level(value, HTML)
    hit = flow_hit(ctx, scope, VIEW_RETURN, stmt, taint, [value])
    return [hit] if hit is not None else []


def _is_request_read(n: Node) -> bool:
    """``request.args["x"]``, ``request.form.get("x")``, ``self.request.get("x")``."""
    n = unparen(n)
    while n.type == "subscript":
        inner = n.child_by_field_name("value")
        if inner is None:
            break
        n = inner
    if n.type == "call":
        name = call_name(n)
        receiver = name.rsplit(".", 1)[0] if "." in name else ""
        return source_of(name, call=True) is not None or (
            bool(receiver) and source_of(receiver) is not None
        )
    return n.type == "attribute" and source_of(re.sub(r"\s+", "", text(n))) is not None


def _rendered(value: Node) -> bool:
    """``mark_safe(render_to_string(...))``: the output of a template is HTML already."""
    value = unparen(value)
    return value.type == "call" and bool(
        set(words(last_name(call_name(value)))) & {"render", "template", "html"}
    )


def _template_from_string(name: str) -> bool:
    return "Sandbox" not in name and (
        name in _TEMPLATE_FROM_STRING or (last_name(name) == "from_string" and _jinja_env(name))
    )


XSS_ROWS: tuple[SinkRow, ...] = (
    first_arg_row(
        HTML,
        "py.xss-mark-safe",
        Level.LOCAL,
        "format_html() on an already formatted string",
        "format_html escapes only its arguments; here the format string itself is built with "
        "{how} from {origin}{note} and is marked safe unescaped. Pass the values as "
        'format_html arguments: format_html("<b>{{}}</b>", value).',
        "a value",
        shape="built",
        match=lambda name: last_name(name) == "format_html",
    ),
    first_arg_row(
        HTML,
        "py.xss-mark-safe",
        Level.LOCAL,
        "{last}() on a non-constant value",
        "`{name}` marks its argument as safe HTML, so it is never escaped; the value comes "
        "from {origin}{note}. Escape the parts (markupsafe.escape / format_html) instead.",
        "outside this literal",
        callees=_MARK_SAFE,
        safe=_rendered,
        grade=Grade(Level.PARAM, Severity.ERROR),
    ),
    first_arg_row(
        HTML,
        "py.xss-template-string",
        Level.PARAM,
        "template compiled from a non-constant string",
        "The template text comes from {origin}{note}: template syntax in it runs on the "
        "server (SSTI) and HTML in it is not escaped. Keep the template constant and pass "
        "values as context variables.",
        "",
        match=_template_from_string,
    ),
    first_arg_row(
        HTML,
        "py.xss-response",
        Level.SOURCE,
        "request data written to the response",
        "{origin} is written to the response by `{name}`{note} without escaping. Escape it "
        "(html.escape / markupsafe.escape) or render a template with autoescaping.",
        "",
        match=lambda name: bool(_RESPONSE.search(name)),
    ),
    first_arg_row(
        HTML,
        "py.xss-markdown",
        Level.LOCAL,
        "Markdown rendered without sanitising",
        "`{name}` keeps raw HTML from its input (here {origin}{note}), so <script> or "
        "onerror= in the text reaches the page. Sanitise the output (bleach.clean / "
        "nh3.clean) or escape the input.",
        "a computed value",
        match=lambda name: bool(_MARKDOWN.search(name)),
        quiet=lambda call: _sanitised_by_parent(call, HTML),
        confidence=0.6,
    ),
)
"""Calls whose first argument is HTML (or a template) taken as it is."""
VIEW_RETURN = SinkRow(
    "py.xss-response",
    HTML,
    fires=Level.SOURCE,
    scalars=True,
    anchor=Level.SOURCE,
    title="request data returned as the response",
    message="The view returns {origin} unescaped{note}; a returned str is sent as text/html, "
    "so markup in the value runs in the browser. Escape it (markupsafe.escape) or render a "
    "template with autoescaping.",
    reaches="the response",
    origin="",
    grade=None,
    confidence=(0.9, 0.9),
)
HTML_BUILD = SinkRow(
    "py.xss-html-format",
    HTML,
    anchor=Level.PARAM,
    title="HTML built from unescaped values",
    message="HTML is built with {how} from {origin}{note} without escaping; markup in the "
    "value becomes part of the page (XSS). Use format_html / markupsafe.escape on each value, "
    "or a template with autoescaping.",
    reaches="the HTML",
    origin="a parameter",
    grade=Grade(Level.SOURCE, Severity.ERROR),
    confidence=(0.9, 0.9),
)
""":func:`_html_builds`' row: a string with HTML tags built from a parameter or request data."""


def _xss_call(ctx: Ctx, scope: Scope, n: Node) -> list[StaticHit]:
    name = call_name(n)
    positional = args(n)
    first = positional[0] if positional else None
    if first is not None and _RESPONSE.search(name):
        caught = _exception_response(ctx, n, name, first)
        if caught is not None:
            return [caught]
    for row in named(XSS_ROWS, name):
        hit = sink_hit(ctx, scope, n, name, row)
        if hit is not None:
            return [hit]
    if last_name(name) == "Environment" and ctx.touched(n) and _jinja(ctx):
        autoescape = kwarg(n, "autoescape")
        if autoescape is None or autoescape.type == "false":
            return [
                RULES["py.xss-autoescape-off"].hit(
                    line(n),
                    end_line(n),
                    "jinja2 Environment without autoescaping",
                    "jinja2 does not escape by default, so every {{ value }} in an HTML template "
                    "is inserted raw (XSS). Pass autoescape=select_autoescape() (or True).",
                )
            ]
    elif name == "json.dumps" and first is not None and kwarg(n, "cls") is None:
        return _json_in_template(ctx, scope, n, first)
    return []


def _exception_response(ctx: Ctx, n: Node, name: str, first: Node) -> StaticHit | None:
    """``self.response.write(ex.message)`` in an ``except ... as ex`` block."""
    caught = _exception_text(first, n)
    if caught is None or not ctx.touched(n) or _plain_text(ctx, n, name):
        return None
    return RULES["py.xss-response"].hit(
        line(n),
        end_line(n),
        "exception text written to the response",
        f"`{name}` writes the text of the caught exception `{caught}` into the "
        "response unescaped. Exception messages often quote the input that caused "
        "them (int('<script>...') raises \"invalid literal ... '<script>...'\"), so "
        "this reflects request data as HTML, and it shows internals (CWE-209). Write "
        "a fixed message and log the exception.",
        confidence=0.7,
    )


_EXC_PATH = frozenset(
    {
        "attribute",
        "subscript",
        "binary_operator",
        "string",
        "interpolation",
        "argument_list",
        "parenthesized_expression",
        "tuple",
        "call",
        "string_content",
        "format_expression",
    }
)
_EXC_CALLS = frozenset({"str", "repr", "unicode", "format"})
_EXCEPT_AS = re.compile(r"\bas\s+([A-Za-z_]\w*)\s*:?\s*$")


def _exception_text(value: Node, at: Node) -> str | None:
    """The name of an ``except ... as e`` variable whose text ``value`` is: ``e.message``,
    ``str(e)``, ``e.args[0]``, ``"failed: %s" % e``, ``f"{e}"`` (not ``escape(e)`` or
    ``json.dumps(...)``)."""
    bound: set[str] = set()
    cur = at.parent
    while cur is not None and cur.type not in ("function_definition", "module"):
        if cur.type == "except_clause":
            body = cur.child_by_field_name("body") or cur.named_children[-1]
            head = text(cur)[: body.start_byte - cur.start_byte]
            m = _EXCEPT_AS.search(head.rstrip().rstrip(":"))
            if m is not None:
                bound.add(m.group(1))
        cur = cur.parent
    if not bound:
        return None
    return _carries(unparen(value), bound)


def _carries(n: Node, bound: set[str]) -> str | None:
    if n.type == "identifier":
        return text(n) if text(n) in bound else None
    if n.type not in _EXC_PATH:
        return None
    if n.type == "call" and last_name(call_name(n)) not in _EXC_CALLS:
        return None
    if n.type == "attribute":
        obj = n.child_by_field_name("object")
        attr = n.child_by_field_name("attribute")
        if obj is None or attr is None or text(attr) not in ("message", "msg", "args", "format"):
            return None
        return _carries(unparen(obj), bound)
    for c in n.named_children:
        got = _carries(unparen(c), bound)
        if got is not None:
            return got
    return None


def _plain_text(ctx: Ctx, n: Node, name: str) -> bool:
    """A response declared as text/plain or JSON, or DRF's Response (it encodes JSON)."""
    for key in ("content_type", "mimetype", "media_type"):
        kw = kwarg(n, key)
        if kw is not None and ("plain" in text(kw) or "json" in text(kw)):
            return True
    return name == "Response" and b"rest_framework" in ctx.src.data


def _jinja_env(callee: str) -> bool:
    receiver = callee.rsplit(".", 1)[0] if "." in callee else ""
    return bool(set(words(receiver.rsplit(".", 1)[-1])) & {"env", "environment", "jinja", "jinja2"})


def _jinja(ctx: Ctx) -> bool:
    if "jinja" not in ctx.cache:
        ctx.cache["jinja"] = b"jinja2" in ctx.src.data
    return bool(ctx.cache["jinja"])


def _sanitised_by_parent(n: Node, sink: Sink) -> bool:
    cur = n.parent
    while cur is not None and cur.type in ("parenthesized_expression", "argument_list"):
        if cur.type == "argument_list" and cur.parent is not None:
            return is_safe_call(call_name(cur.parent), sink)
        cur = cur.parent
    return False


def _json_in_template(ctx: Ctx, scope: Scope, n: Node, first: Node) -> list[StaticHit]:
    pair = n.parent
    if pair is None or pair.type != "pair" or pair.child_by_field_name("value") != n:
        return []
    dictionary = pair.parent
    argl = dictionary.parent if dictionary is not None else None
    render = argl.parent if argl is not None and argl.type == "argument_list" else None
    if render is None or last_name(call_name(render)) not in _RENDER:
        return []
    if scope.level(first, HTML).level < Level.LOCAL or not ctx.touched(n):
        return []
    return [
        RULES["py.xss-json-in-template"].hit(
            line(n),
            line(n),
            "json.dumps() output passed to a template",
            "json.dumps does not escape <, > or &; a template that puts this into a <script> block "
            "(the usual reason to pass JSON) lets a value containing </script> break out. Use an "
            "HTML-safe encoder (e.g. cls=DjangoJSONEncoder plus escaping, JSONEncoderForHTML) or "
            "Django's json_script / Jinja's tojson.",
            confidence=0.6,
        )
    ]


def _html_builds(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for b in outermost_builds(scope):
        if not b.known or not _HTML_TAG.search(b.text.replace(SLOT, "x")):
            continue
        parent = b.node.parent
        if (
            parent is not None
            and parent.type == "argument_list"
            and parent.parent is not None
            and (
                call_name(parent.parent) in _MARK_SAFE
                or is_safe_call(call_name(parent.parent), HTML)
            )
        ):
            continue
        risky = [(s, slot_taint(scope, b, s, HTML)) for s in b.slots]
        risky = [(s, t) for s, t in risky if t.level >= Level.PARAM and not t.scalar]
        if not risky:
            continue
        taint = max((t for _, t in risky), key=lambda t: t.level)
        hit = flow_hit(
            ctx,
            scope,
            HTML_BUILD,
            b.node,
            taint,
            [s.expr for s, _ in risky if s.expr is not None],
            span=risky_span(b, [s for s, _ in risky]),
            how=b.how,
        )
        if hit is not None:
            hits.append(hit)
    return hits
