"""The data-flow sinks of APIs, as rows: open redirect, SSRF, XML, LDAP, XPath.

Each :class:`~reviewbot.static.sink_flow.SinkRow` of :data:`SINK_ROWS` names the callees
(dotted names as written, or method names on any receiver, or methods on a receiver built
by a known constructor), which arguments are dangerous, the rule, and how the argument is
judged (``value``, ``url``, ``text``: see :mod:`reviewbot.static.sink_flow`, which holds
the row model and the loop). :func:`rows_for` finds a call's rows through the file's import
aliases (``ET.fromstring`` after ``import defusedxml.ElementTree as ET`` is no sink). Request
data is an error, anything weaker a warning (unless the row's ``grade`` is None). A new sink
class is a catalogue row, a sink row and a test case.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import call_name, last_name, text, unparen
from reviewbot.static.sink_flow import SinkRow, builds_of, fixed_destination, judge, sink_hit
from reviewbot.static.strings import SLOT
from reviewbot.static.taint import Level, Scope, Sink

if TYPE_CHECKING:
    from tree_sitter import Node

REDIRECT = Sink("redirect", frozenset({"url_for", "reverse", "reverse_lazy", "url_path_for"}))
URL = Sink("url", frozenset({"url_for", "reverse", "urlencode", "quote_plus"}))
LDAP = Sink(
    "ldap", frozenset({"escape_filter_chars", "escape_dn_chars", "filter_format", "escape_rdn"})
)
XPATH = Sink("xpath")
XML = Sink("xml")


_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
_HTTP_CLIENTS = frozenset(
    {
        "requests.Session",
        "requests.session",
        "httpx.Client",
        "httpx.AsyncClient",
        "aiohttp.ClientSession",
        "ClientSession",
        "Session",
    }
)
_SSRF_ADVICE = (
    "A server that fetches a URL an outsider chooses can be made to reach "
    "internal services (cloud metadata, admin ports). Take the host from "
    "configuration, or check the parsed host against an allow-list before the "
    "request."
)

SINK_ROWS: tuple[SinkRow, ...] = (
    SinkRow(
        "py.open-redirect",
        REDIRECT,
        what="redirect target",
        advice=(
            "An outsider can send users to any site through this link (phishing). Redirect "
            "to url_for()/reverse() names, or check the target with "
            "url_has_allowed_host_and_scheme() first."
        ),
        callees=frozenset(
            {
                "redirect",
                "flask.redirect",
                "django.shortcuts.redirect",
                "shortcuts.redirect",
                "HttpResponseRedirect",
                "HttpResponsePermanentRedirect",
                "http.HttpResponseRedirect",
                "RedirectResponse",
                "responses.RedirectResponse",
                "web.HTTPFound",
                "HTTPFound",
                "self.redirect",
            }
        ),
        keywords=("url", "to", "location", "redirect_to"),
        shape="url",
        threshold=Level.SOURCE,
    ),
    SinkRow(
        "py.ssrf",
        URL,
        what="request URL",
        advice=_SSRF_ADVICE,
        callees=frozenset(
            {
                *(f"{m}.{v}" for m in ("requests", "httpx") for v in (*_HTTP_VERBS, "stream")),
                "urllib.request.urlopen",
                "request.urlopen",
                "urlopen",
                "urllib2.urlopen",
                "urllib.urlopen",
                "urllib.request.Request",
                "urllib2.Request",
            }
        ),
        keywords=("url",),
        shape="url",
    ),
    SinkRow(
        "py.ssrf",
        URL,
        what="request URL",
        advice=_SSRF_ADVICE,
        callees=frozenset({"requests.request", "httpx.request", "aiohttp.request"}),
        positions=(1,),
        keywords=("url",),
        shape="url",
    ),
    SinkRow(
        "py.ssrf",
        URL,
        what="request URL",
        advice=_SSRF_ADVICE,
        methods=frozenset({*_HTTP_VERBS, "stream", "ws_connect"}),
        clients=_HTTP_CLIENTS,
        keywords=("url",),
        shape="url",
    ),
    SinkRow(
        "py.xml-untrusted",
        XML,
        what="XML document",
        advice=(
            "The standard library and lxml parsers expand entities (billion laughs) and lxml "
            "resolves external ones (file and network reads). Parse untrusted XML with "
            "defusedxml (defusedxml.ElementTree.fromstring and friends)."
        ),
        callees=frozenset(
            {
                f"{m}.{f}"
                for m in (
                    "xml.etree.ElementTree",
                    "ElementTree",
                    "ET",
                    "etree",
                    "lxml.etree",
                    "cElementTree",
                    "xml.etree.cElementTree",
                )
                for f in ("parse", "fromstring", "XML", "iterparse", "fromstringlist")
            }
            | {
                f"{m}.{f}"
                for m in (
                    "xml.dom.minidom",
                    "minidom",
                    "xml.dom.pulldom",
                    "pulldom",
                    "xml.sax",
                    "sax",
                )
                for f in ("parse", "parseString")
            }
        ),
        whole=Level.SOURCE,
        threshold=Level.SOURCE,
        grade=None,
    ),
    SinkRow(
        "py.ldap-injection",
        LDAP,
        what="LDAP filter",
        advice=(
            "Characters such as * ( ) \\ in the value change the filter (authentication "
            "bypass, data disclosure). Escape each value with "
            "ldap.filter.escape_filter_chars (ldap3: escape_filter_chars) or build the "
            "filter with ldap.filter.filter_format."
        ),
        methods=frozenset(
            {"search", "search_s", "search_st", "search_ext", "search_ext_s", "paged_search"}
        ),
        positions=(0, 1, 2),
        keywords=("filterstr", "search_filter"),
        shape="text",
        pattern=re.compile(r"\(\s*[\w.;-]+\s*[~<>]?=[^()]*\x00"),
    ),
    SinkRow(
        "py.xpath-injection",
        XPATH,
        what="XPath expression",
        advice=(
            "Quotes in the value change the query. Pass values as XPath variables: "
            'tree.xpath("//user[@name=$name]", name=value).'
        ),
        callees=frozenset(
            {f"{m}.{f}" for m in ("etree", "lxml.etree") for f in ("XPath", "ETXPath")}
        ),
        methods=frozenset({"xpath"}),
        shape="text",
        pattern=re.compile(r"[/\[@][\s\S]*\x00"),
    ),
)

_BY_NAME: dict[str, list[SinkRow]] = {}
_BY_METHOD: dict[str, list[SinkRow]] = {}
for _row in SINK_ROWS:
    for _name in _row.callees:
        _BY_NAME.setdefault(_name, []).append(_row)
    for _name in _row.methods:
        _BY_METHOD.setdefault(_name, []).append(_row)


def rows_for(scope: Scope, call: Node, name: str, aliases: dict[str, str]) -> list[SinkRow]:
    """The rows that apply to this call. ``aliases`` maps the file's imported names to
    their modules: ``ET.fromstring`` after ``import defusedxml.ElementTree as ET`` is not
    ``xml.etree``'s, and ``re.search`` is a module function, not an LDAP connection's
    method."""
    head, _, rest = name.partition(".")
    module = aliases.get(head)
    if module is not None and module.split(".")[0] in _SAFE_MODULES:
        return []
    resolved = name if module is None else f"{module}.{rest}" if rest else module
    out = list(_BY_NAME.get(name, ()))
    out += [r for r in _BY_NAME.get(resolved, ()) if r not in out]
    if rest and module is None:
        for row in _BY_METHOD.get(last_name(name), ()):
            if row not in out and (not row.clients or _receiver_from(scope, call, row.clients)):
                out.append(row)
    return out


_SAFE_MODULES = frozenset({"defusedxml"})


def imported_names(root: Node) -> dict[str, str]:
    """Names bound by the module's top-level imports -> the dotted name they stand for."""
    out: dict[str, str] = {}
    for stmt in root.named_children:
        if stmt.type == "import_statement":
            for c in stmt.named_children:
                if c.type == "aliased_import":
                    full, alias = c.child_by_field_name("name"), c.child_by_field_name("alias")
                    out[text(alias)] = text(full)
                elif c.type == "dotted_name":
                    first = text(c).split(".")[0]
                    out[first] = first
        elif stmt.type == "import_from_statement":
            base = text(stmt.child_by_field_name("module_name"))
            for c in stmt.children_by_field_name("name"):
                if c.type == "aliased_import":
                    orig, alias = c.child_by_field_name("name"), c.child_by_field_name("alias")
                    out[text(alias)] = f"{base}.{text(orig)}"
                else:
                    out[text(c)] = f"{base}.{text(c)}"
    return out


def check_sinks(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    aliases: dict[str, str] | None = ctx.cache.get("imports")
    if aliases is None:
        aliases = ctx.cache["imports"] = imported_names(ctx.module.node)
    for n in scope.select("call"):
        name = call_name(n)
        for row in rows_for(scope, n, name, aliases):
            hit = sink_hit(ctx, scope, n, name, row)
            if hit is not None:
                hits.append(hit)
    return hits


def _receiver_from(scope: Scope, call: Node, ctors: frozenset[str]) -> bool:
    """Is the receiver of ``call`` bound to an object one of ``ctors`` made?"""
    fn = call.child_by_field_name("function")
    obj = fn.child_by_field_name("object") if fn is not None else None
    if obj is None:
        return False
    obj = unparen(obj)
    if obj.type == "call":
        return call_name(obj) in ctors
    if obj.type != "identifier":
        return False
    for d in scope.reaching(text(obj), obj):
        v = unparen(d.value) if d.value is not None else None
        if v is not None and v.type == "call" and call_name(v) in ctors:
            return True
    return False


__all__ = [
    "SINK_ROWS",
    "SLOT",
    "SinkRow",
    "builds_of",
    "check_sinks",
    "fixed_destination",
    "judge",
    "rows_for",
]
