"""Insecure configuration: cleartext transport (CWE-319), debug mode (CWE-489), ``mktemp``
(CWE-377) and XML parsers told to resolve external entities (CWE-611).

API rules: the call or the assignment is the weakness; each is reported where the change
touches it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import (
    args,
    call_name,
    is_string,
    kwarg,
    last_name,
    line,
    string_text,
    text,
    unparen,
    words,
)
from reviewbot.static.rules import RULES
from reviewbot.static.strings import template_of
from reviewbot.static.taint import Scope

if TYPE_CHECKING:
    from tree_sitter import Node

_MKTEMP = frozenset({"tempfile.mktemp", "mktemp", "os.tempnam", "os.tmpnam"})
_FTP = frozenset({"ftplib.FTP", "FTP"})
_SMTP = frozenset({"smtplib.SMTP", "SMTP"})
_TELNET = frozenset({"telnetlib.Telnet", "Telnet", "telnetlib3.open_connection"})
_HTTP = frozenset(
    {
        f"{m}.{v}"
        for m in ("requests", "httpx")
        for v in ("get", "post", "put", "patch", "delete", "head", "options")
    }
)
_CRED_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "token",
        "secret",
        "authorization",
        "apikey",
        "credentials",
        "credential",
    }
)
_LOCAL_HOST = re.compile(
    r"^http://(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\]|[^/:]*"
    r"\.local|[^/:]*\.internal|[^/:]*\.test|[^/:]*\.example)(?:[:/]|$)"
)
_SETTINGS_PATH = re.compile(r"(?:^|/)(?:settings|config|conf|production|prod)(?:[^/]*\.py|/)")
_DEV_PATH = re.compile(
    r"(?:^|/|_)(?:dev|devel|development|local|test|tests|testing|example|"
    r"examples|docs?)(?:[/_.]|$)"
)
_APP_WORDS = frozenset(
    {"app", "application", "socketio", "flask", "server", "api", "web", "wsgi", "site"}
)
_EXTERNAL_FEATURES = re.compile(
    r"(?:feature_external_[gp]es|external-(?:general|parameter)-"
    r"entities)"
)


def check_config(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    dev = bool(_DEV_PATH.search(ctx.src.path))  # debug mode is what dev and test code is for
    for n in scope.select("call"):
        if not ctx.touched(n):
            continue
        name = call_name(n)
        hit = (
            _mktemp(n, name)
            or (None if dev else _debug_run(n, name))
            or _cleartext(scope, n, name)
            or _xml_parser(n, name)
        )
        if hit is not None:
            hits.append(hit)
    for n in scope.select("assignment"):
        if ctx.touched(n) and not dev:
            hit = _debug_setting(ctx, scope, n)
            if hit is not None:
                hits.append(hit)
    return hits


def _mktemp(n: Node, name: str) -> StaticHit | None:
    if name not in _MKTEMP:
        return None
    return RULES["py.insecure-tempfile"].hit(
        line(n),
        line(n),
        f"`{name}` returns a name, not a file",
        "Between choosing the name and opening it, another process can create the file or a "
        "symlink there (a race that can overwrite files). Use tempfile.mkstemp(), "
        "NamedTemporaryFile() or TemporaryDirectory(), which create it atomically.",
    )


def _debug_run(n: Node, name: str) -> StaticHit | None:
    if (
        last_name(name) != "run"
        or "." not in name
        or not (set(words(name.rsplit(".", 1)[0])) & _APP_WORDS)
    ):
        return None
    debug = kwarg(n, "debug")
    if debug is None or debug.type != "true":
        return None
    return _debug(n, f"`{name}(debug=True)` starts the debugger")


def _debug(n: Node, what: str) -> StaticHit:
    return RULES["py.debug-mode"].hit(
        line(n),
        line(n),
        "debug mode enabled",
        f"{what}: tracebacks, settings and (with Werkzeug's debugger) a Python console are "
        "served to whoever can reach the app. Read the flag from the environment and keep "
        "it off in production.",
    )


def _debug_setting(ctx: Ctx, scope: Scope, n: Node) -> StaticHit | None:
    left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
    if left is None or right is None or right.type != "true":
        return None
    target = text(left)
    if target in ("app.debug", "application.debug") or re.fullmatch(
        r"\w+\.config\[\s*['\"]DEBUG['\"]\s*\]", target
    ):
        return _debug(n, f"`{target} = True` turns on debug mode")
    path = ctx.src.path
    if target == "DEBUG" and scope.module is None and _SETTINGS_PATH.search(path):
        return _debug(n, "`DEBUG = True` in a settings module turns on debug pages")
    return None


def _cleartext(scope: Scope, n: Node, name: str) -> StaticHit | None:
    positional = args(n)
    if name in _TELNET:
        return _plain(
            n,
            "Telnet sends everything, the login included, unencrypted",
            "Use SSH (paramiko, asyncssh).",
        )
    if name in _FTP and (
        len(positional) >= 2
        or kwarg(n, "user") is not None
        or _calls_method(scope, "login", with_args=True)
    ):
        return _plain(
            n,
            "FTP sends the user name and password unencrypted",
            "Use ftplib.FTP_TLS (and call prot_p()) or SFTP.",
        )
    if (
        name in _SMTP
        and _calls_method(scope, "login", with_args=True)
        and not (_calls_method(scope, "starttls", with_args=False))
    ):
        return _plain(
            n,
            "this SMTP connection logs in without STARTTLS, so the password "
            "crosses the network unencrypted",
            "Call smtp.starttls() before login(), or use smtplib.SMTP_SSL.",
        )
    if name in _HTTP and positional:
        got = template_of(positional[0], scope)
        url = got[0] if got is not None else ""
        if url.startswith("http://") and not _LOCAL_HOST.match(url) and _sends_credentials(n):
            return _plain(n, "credentials are sent to an http:// URL", "Use https://.")
    return None


def _plain(n: Node, what: str, fix: str) -> StaticHit:
    return RULES["py.cleartext-transport"].hit(
        line(n),
        line(n),
        "credentials sent in cleartext",
        f"{what}; anyone on the network path can read them. {fix}",
    )


def _sends_credentials(n: Node) -> bool:
    if kwarg(n, "auth") is not None:
        return True
    for kw in ("headers", "data", "json", "params", "cookies"):
        v = kwarg(n, kw)
        if v is not None and _mentions(v, _CRED_WORDS):
            return True
    return False


def _mentions(n: Node, vocabulary: frozenset[str]) -> bool:
    stack = [n]
    while stack:
        cur = stack.pop()
        if cur.type == "identifier" and set(words(text(cur))) & vocabulary:
            return True
        if is_string(cur) and set(words(string_text(cur))) & vocabulary:
            return True
        stack.extend(cur.named_children)
    return False


def _calls_method(scope: Scope, method: str, with_args: bool) -> bool:
    for c in scope.select("call"):
        name = call_name(c)
        if "." in name and last_name(name) == method and (not with_args or args(c)):
            return True
    return False


def _xml_parser(n: Node, name: str) -> StaticHit | None:
    if last_name(name) == "XMLParser":
        for kw, bad in (
            ("resolve_entities", "true"),
            ("load_dtd", "true"),
            ("no_network", "false"),
        ):
            v = kwarg(n, kw)
            if v is not None and v.type == bad:
                return _xxe(n, f"`XMLParser({kw}={bad.capitalize()})`")
        return None
    if last_name(name) == "setFeature":
        positional = args(n)
        if (
            len(positional) >= 2
            and _EXTERNAL_FEATURES.search(text(positional[0]))
            and (
                unparen(positional[1]).type in ("true", "integer")
                and text(unparen(positional[1])) not in ("0",)
            )
        ):
            return _xxe(n, f"`{name}({text(positional[0])}, True)`")
    return None


def _xxe(n: Node, what: str) -> StaticHit:
    return RULES["py.xml-external-entities"].hit(
        line(n),
        line(n),
        "XML parser resolves external entities",
        f"{what} lets a document read local files or make network requests through "
        '<!ENTITY x SYSTEM "file:///etc/passwd"> (XXE). Leave entity resolution and DTD '
        "loading off, or parse with defusedxml.",
    )
