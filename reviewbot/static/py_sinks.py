"""Data-flow sinks as data: one :class:`SinkRow` per dangerous argument of an API, one loop.

A row names the callees (dotted names as written, or method names on any receiver, or
methods on a receiver built by a known constructor), which arguments are dangerous
(positions and keywords), the rule, and how the argument is judged:

    value   the taint of the argument itself
    url     the taint of the destination: a value passed as is, or the slots of a string
            built in place that come before a constant ``/path`` or ``scheme://host/``
            (``"/items/" + id`` cannot change the host; ``"//" + x`` and
            ``"https://" + host`` can)
    text    only strings built by formatting whose literal text matches the row's pattern
            (an LDAP filter, an XPath expression); a value passed as is is not judged

``threshold`` is the weakest taint reported for a slot of a built string; ``whole`` the
weakest for a value passed as is (a function that forwards its parameter to
``requests.get`` is a wrapper, its caller chooses the URL). Request data is an error,
anything weaker a warning (unless the row is not ``graded``). Local input (``sys.argv``,
``os.environ``) does not count: the operator chooses it. A new sink class is a catalogue
row, a sink row and a test case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import args, call_name, kwarg, last_name, text, unparen
from reviewbot.static.rules import RULES
from reviewbot.static.strings import SLOT, Built, built
from reviewbot.static.taint import CONST, Level, Scope, Sink, Taint, strongest

if TYPE_CHECKING:
    from tree_sitter import Node

REDIRECT = Sink("redirect", frozenset({"url_for", "reverse", "reverse_lazy", "url_path_for"}))
URL = Sink("url", frozenset({"url_for", "reverse", "urlencode", "quote_plus"}))
LDAP = Sink("ldap", frozenset({"escape_filter_chars", "escape_dn_chars", "filter_format",
                               "escape_rdn"}))
XPATH = Sink("xpath")
XML = Sink("xml")


@dataclass(frozen=True, slots=True)
class SinkRow:
    rule: str
    """Catalogue id the hit carries."""
    what: str
    """What the argument is, for the title: "redirect target"."""
    advice: str
    """The fix, one or two sentences."""
    sink: Sink
    callees: frozenset[str] = frozenset()
    """Dotted callee names as written: ``flask.redirect``, ``redirect``."""
    methods: frozenset[str] = frozenset()
    """Method names on any receiver (``conn.search_s``)."""
    clients: frozenset[str] = frozenset()
    """With ``methods``: only on a receiver bound to one of these constructors."""
    positions: tuple[int, ...] = (0,)
    keywords: tuple[str, ...] = ()
    shape: str = "value"
    """value | url | text (see the module docstring)."""
    pattern: re.Pattern[str] | None = None
    """For ``text``: what the built literal must look like."""
    threshold: Level = Level.PARAM
    whole: Level = Level.SOURCE
    graded: bool = True
    """Request data an error, weaker taint a warning; else always the rule's severity."""


_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
_HTTP_CLIENTS = frozenset({"requests.Session", "requests.session", "httpx.Client",
                           "httpx.AsyncClient", "aiohttp.ClientSession", "ClientSession",
                           "Session"})
_SSRF_ADVICE = ("A server that fetches a URL an outsider chooses can be made to reach "
                "internal services (cloud metadata, admin ports). Take the host from "
                "configuration, or check the parsed host against an allow-list before the "
                "request.")

SINK_ROWS: tuple[SinkRow, ...] = (
    SinkRow("py.open-redirect", "redirect target",
            "An outsider can send users to any site through this link (phishing). Redirect "
            "to url_for()/reverse() names, or check the target with "
            "url_has_allowed_host_and_scheme() first.",
            REDIRECT, callees=frozenset({
                "redirect", "flask.redirect", "django.shortcuts.redirect", "shortcuts.redirect",
                "HttpResponseRedirect", "HttpResponsePermanentRedirect",
                "http.HttpResponseRedirect", "RedirectResponse", "responses.RedirectResponse",
                "web.HTTPFound", "HTTPFound", "self.redirect"}),
            keywords=("url", "to", "location", "redirect_to"), shape="url",
            threshold=Level.SOURCE),
    SinkRow("py.ssrf", "request URL", _SSRF_ADVICE, URL,
            callees=frozenset({
                *(f"{m}.{v}" for m in ("requests", "httpx") for v in (*_HTTP_VERBS, "stream")),
                "urllib.request.urlopen", "request.urlopen", "urlopen", "urllib2.urlopen",
                "urllib.urlopen", "urllib.request.Request", "urllib2.Request"}),
            keywords=("url",), shape="url"),
    SinkRow("py.ssrf", "request URL", _SSRF_ADVICE, URL,
            callees=frozenset({"requests.request", "httpx.request", "aiohttp.request"}),
            positions=(1,), keywords=("url",), shape="url"),
    SinkRow("py.ssrf", "request URL", _SSRF_ADVICE, URL,
            methods=frozenset({*_HTTP_VERBS, "stream", "ws_connect"}), clients=_HTTP_CLIENTS,
            keywords=("url",), shape="url"),
    SinkRow("py.xml-untrusted", "XML document",
            "The standard library and lxml parsers expand entities (billion laughs) and lxml "
            "resolves external ones (file and network reads). Parse untrusted XML with "
            "defusedxml (defusedxml.ElementTree.fromstring and friends).",
            XML, callees=frozenset({
                f"{m}.{f}" for m in ("xml.etree.ElementTree", "ElementTree", "ET", "etree",
                                     "lxml.etree", "cElementTree", "xml.etree.cElementTree")
                for f in ("parse", "fromstring", "XML", "iterparse", "fromstringlist")} | {
                f"{m}.{f}" for m in ("xml.dom.minidom", "minidom", "xml.dom.pulldom",
                                     "pulldom", "xml.sax", "sax")
                for f in ("parse", "parseString")}),
            whole=Level.SOURCE, threshold=Level.SOURCE, graded=False),
    SinkRow("py.ldap-injection", "LDAP filter",
            "Characters such as * ( ) \\ in the value change the filter (authentication "
            "bypass, data disclosure). Escape each value with "
            "ldap.filter.escape_filter_chars (ldap3: escape_filter_chars) or build the "
            "filter with ldap.filter.filter_format.",
            LDAP, methods=frozenset({"search", "search_s", "search_st", "search_ext",
                                     "search_ext_s", "paged_search"}),
            positions=(0, 1, 2), keywords=("filterstr", "search_filter"), shape="text",
            pattern=re.compile(r"\(\s*[\w.;-]+\s*[~<>]?=[^()]*\x00")),
    SinkRow("py.xpath-injection", "XPath expression",
            "Quotes in the value change the query. Pass values as XPath variables: "
            "tree.xpath(\"//user[@name=$name]\", name=value).",
            XPATH, callees=frozenset({f"{m}.{f}" for m in ("etree", "lxml.etree")
                                      for f in ("XPath", "ETXPath")}),
            methods=frozenset({"xpath"}), shape="text",
            pattern=re.compile(r"[/\[@][\s\S]*\x00")),
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
            hit = _flow(ctx, scope, n, name, row)
            if hit is not None:
                hits.append(hit)
    return hits


def _arguments(call: Node, row: SinkRow) -> list[Node]:
    positional = args(call)
    out = [positional[i] for i in row.positions if i < len(positional)
           and positional[i].type not in ("list_splat", "dictionary_splat")]
    for k in row.keywords:
        v = kwarg(call, k)
        if v is not None:
            out.append(v)
    return out


def _flow(ctx: Ctx, scope: Scope, call: Node, name: str, row: SinkRow) -> StaticHit | None:
    for arg in _arguments(call, row):
        taint, carriers = judge(scope, arg, row)
        if taint.level < Level.PARAM or taint.scalar:
            continue
        anchor = ctx.anchor(call, scope, [arg, *carriers], row.sink,
                            min(row.threshold, row.whole),
                            f"`{name}`")
        if anchor is None:
            continue
        origin = taint.origin or "a value from outside this function"
        source = taint.level >= Level.SOURCE
        return RULES[row.rule].hit(
            anchor.line, anchor.end, f"{row.what} from {_short(origin)}",
            f"The {row.what} passed to `{name}` comes from {origin}{anchor.note}. "
            f"{row.advice}",
            severity=None if not row.graded else Severity.ERROR if source
            else Severity.WARNING,
            confidence=0.9 if source else 0.6)
    return None


def _short(origin: str) -> str:
    return "request data" if origin.startswith("request data") else origin


def judge(scope: Scope, arg: Node, row: SinkRow) -> tuple[Taint, list[Node]]:
    """The taint that counts for this row, and the expressions that carry it."""
    builds = builds_of(scope, arg)
    if row.shape == "text":
        found = [(b, s) for b, s in builds if row.pattern is not None and b.known
                 and row.pattern.search(b.text)]
        return _slots_taint(scope, found, row, all_slots=True)
    if builds:
        return _slots_taint(scope, builds, row, all_slots=row.shape != "url")
    taint = scope.level(arg, row.sink)
    return (taint if taint.level >= row.whole else CONST), [arg]


def _slots_taint(scope: Scope, builds: list[tuple[Built, Node]], row: SinkRow,
                 all_slots: bool) -> tuple[Taint, list[Node]]:
    taints: list[Taint] = []
    carriers: list[Node] = []
    for b, _where in builds:
        for s in b.slots:
            if s.expr is None or (not all_slots and b.known and fixed_destination(
                    b.text[: s.offset])):
                continue
            t = scope.level(s.expr, row.sink)
            if t.level >= row.threshold and not t.origin.startswith(_LOCAL_INPUT):
                taints.append(t)
                carriers.append(s.expr)
    return strongest(taints), carriers


_LOCAL_INPUT = "local input"
"""The taint view's origin for sys.argv, os.environ, input(): the operator, not an outsider,
chooses those URLs, filters and expressions."""
_FIXED = re.compile(r"^\s*(?:/[^/\\\x00]|[a-zA-Z][\w+.-]*://[^/?#\\\x00@]+[/?#])")


def fixed_destination(prefix: str) -> bool:
    """Does this literal start pin the host: ``/path`` or ``scheme://host/``?"""
    return bool(_FIXED.match(prefix))


def builds_of(scope: Scope, arg: Node) -> list[tuple[Built, Node]]:
    """The strings built at run time that reach ``arg``: in place, or assigned to the name
    passed (every reaching assignment), each with the node that builds it."""
    a = unparen(arg)
    b = built(a, scope)
    if b is not None:
        return [(b, b.node)]
    out: list[tuple[Built, Node]] = []
    if a.type == "identifier":
        for d in scope.reaching(text(a), a):
            if d.kind not in ("assign", "aug") or d.value is None:
                continue
            db = built(d.value, scope)
            if db is not None:
                out.append((db, d.stmt))
    return out


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


__all__ = ["SINK_ROWS", "SLOT", "SinkRow", "builds_of", "check_sinks", "fixed_destination",
           "judge", "rows_for"]
