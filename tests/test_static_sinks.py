"""Sink-table rules (open redirect, SSRF, XML, LDAP, XPath) and the command rules."""

from __future__ import annotations

import importlib
import pkgutil
import string

import pytest

from reviewbot import static
from reviewbot.findings import Severity
from reviewbot.static.py_sinks import SINK_ROWS, fixed_destination
from reviewbot.static.rules import RULES
from reviewbot.static.sink_flow import FIELDS, SinkRow
from tests.static_cases import run

POSITIVE: list[tuple[str, str]] = [
    (
        "py.open-redirect",
        """
        from flask import redirect, request
        def go():
            return redirect(request.args["next"])
    """,
    ),
    (
        "py.open-redirect",
        """
        from django.http import HttpResponseRedirect
        def done(request):
            target = request.GET.get("next", "/")
            return HttpResponseRedirect(target)
    """,
    ),
    # "/" + value: "//evil.example" is another host
    (
        "py.open-redirect",
        """
        from flask import redirect, request
        def go():
            return redirect("/" + request.args.get("to", ""))
    """,
    ),
    (
        "py.ssrf",
        """
        import requests
        from flask import request
        def proxy():
            return requests.get(request.args["url"]).text
    """,
    ),
    (
        "py.ssrf",
        """
        import httpx
        def status(host):
            return httpx.get(f"http://{host}:8080/status").json()
    """,
    ),
    (
        "py.ssrf",
        """
        import urllib.request
        from flask import request
        def fetch():
            url = "https://" + request.form["host"] + "/feed"
            return urllib.request.urlopen(url).read()
    """,
    ),
    (
        "py.ssrf",
        """
        import aiohttp
        async def fetch(request):
            async with aiohttp.ClientSession() as session:
                async with session.get(request.query["url"]) as resp:
                    return await resp.text()
    """,
    ),
    (
        "py.xml-untrusted",
        """
        import xml.etree.ElementTree as ET
        from flask import request
        def upload():
            return ET.fromstring(request.data).tag
    """,
    ),
    (
        "py.ssrf",
        """
        from requests import get
        def proxy(request):
            return get(request.GET["url"]).text
    """,
    ),
    (
        "py.xml-untrusted",
        """
        from lxml import etree
        def upload(request):
            return etree.fromstring(request.body)
    """,
    ),
    (
        "py.ldap-injection",
        """
        import ldap
        def find(conn, user):
            return conn.search_s("dc=example,dc=com", ldap.SCOPE_SUBTREE, f"(uid={user})")
    """,
    ),
    (
        "py.ldap-injection",
        """
        def find(conn, request):
            flt = "(&(objectClass=person)(cn=%s))" % request.GET["name"]
            conn.search("dc=example,dc=com", flt)
    """,
    ),
    (
        "py.xpath-injection",
        """
        def find(tree, name):
            return tree.xpath("//user[@name='" + name + "']")
    """,
    ),
    (
        "py.xpath-injection",
        """
        from lxml import etree
        def finder(request):
            return etree.XPath("//book[author='%s']" % request.args["author"])
    """,
    ),
    (
        "py.command-split",
        """
        import subprocess
        def run_tool(cmd):
            return subprocess.run(cmd.split(), capture_output=True)
    """,
    ),
    (
        "py.command-split",
        """
        import shlex, subprocess
        def run_tool(request):
            argv = shlex.split(request.POST["cmd"])
            subprocess.Popen(argv)
    """,
    ),
    (
        "py.shell-injection",
        """
        import subprocess
        def run_tool(tool, arg):
            subprocess.call([tool, arg], shell=True)
    """,
    ),
    (
        "py.sql-injection",
        """
        def count(cur, table):
            cur.execute("SELECT COUNT(*) FROM " + table)
    """,
    ),
    (
        "py.sql-injection",
        """
        from flask import request
        def add(cur, value):
            cur.execute("INSERT INTO " + request.args["t"] + " VALUES (%s)", (value,))
    """,
    ),
]

NEGATIVE: list[tuple[str, str]] = [
    (
        "py.open-redirect",
        """
        from flask import redirect, url_for, request
        def go():
            return redirect(url_for("item", id=request.args["id"]))
    """,
    ),
    # near miss: a constant path pins the host
    (
        "py.open-redirect",
        """
        from flask import redirect, request
        def go():
            return redirect("/items/" + request.args["id"])
    """,
    ),
    (
        "py.open-redirect",
        """
        from django.utils.http import url_has_allowed_host_and_scheme
        from django.shortcuts import redirect
        def done(request):
            target = request.GET.get("next", "/")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
                raise ValueError(target)
            return redirect(target)
    """,
    ),
    (
        "py.ssrf",
        """
        import requests
        API = "https://api.example.com/v1/status"
        def status():
            return requests.get(API).json()
    """,
    ),
    # near misses: a wrapper that forwards its parameter; a value only in the path
    (
        "py.ssrf",
        """
        import requests
        def fetch(url, timeout=10):
            return requests.get(url, timeout=timeout)
        def user(uid):
            return requests.get(f"https://api.example.com/users/{uid}").json()
    """,
    ),
    # near miss: the host from the operator's environment, not from an outsider
    (
        "py.ssrf",
        """
        import os, requests
        def status():
            base = os.environ["API_URL"]
            return requests.get(f"{base}/status").json()
    """,
    ),
    # near miss: session.get on a Flask session, not an HTTP client
    (
        "py.ssrf",
        """
        from flask import session, request
        def show():
            return session.get(request.args["key"])
    """,
    ),
    (
        "py.xml-untrusted",
        """
        import defusedxml.ElementTree as ET
        from flask import request
        def upload():
            return ET.fromstring(request.data).tag
    """,
    ),
    (
        "py.xml-untrusted",
        """
        from defusedxml.ElementTree import fromstring
        def upload(request):
            return fromstring(request.body)
    """,
    ),
    (
        "py.xml-untrusted",
        """
        import xml.etree.ElementTree as ET
        def load(path):
            return ET.parse(path).getroot()
    """,
    ),
    (
        "py.ldap-injection",
        """
        from ldap.filter import escape_filter_chars
        def find(conn, user):
            return conn.search_s("dc=x", 2, "(uid=%s)" % escape_filter_chars(user))
    """,
    ),
    (
        "py.ldap-injection",
        """
        import re
        def find(user):
            return re.search(f"(uid={user})", "text")
    """,
    ),
    (
        "py.xpath-injection",
        """
        def find(tree, name):
            return tree.xpath("//user[@name=$name]", name=name)
    """,
    ),
    (
        "py.command-split",
        """
        import shlex, subprocess
        def listing():
            return subprocess.run(shlex.split("ls -l /tmp"))
    """,
    ),
    (
        "py.command-split",
        """
        import subprocess
        def listing(path):
            return subprocess.run(["ls", "-l", path])
    """,
    ),
    (
        "py.shell-injection",
        """
        import subprocess
        def run_tool(arg):
            subprocess.call(["ls", arg], shell=True)
    """,
    ),
    # near miss: the identifier checked against an allow-list
    (
        "py.sql-injection",
        """
        TABLES = {"users", "groups"}
        def count(cur, table):
            if table not in TABLES:
                raise ValueError(table)
            cur.execute("SELECT COUNT(*) FROM " + table)
    """,
    ),
    # near miss: values bound, the table from the caller (the dynamic-table idiom)
    (
        "py.sql-injection",
        """
        def add(cur, table, value):
            cur.execute("INSERT INTO " + table + " VALUES (%s)", (value,))
    """,
    ),
]


def test_request_data_is_an_error_and_a_parameter_a_warning() -> None:
    source = run("""
        import requests
        from flask import request
        def proxy():
            return requests.get("http://" + request.args["host"] + "/x")
    """)
    param = run("""
        import requests
        def proxy(host):
            return requests.get("http://" + host + "/x")
    """)
    assert [h.severity for h in source if h.rule_id == "py.ssrf"] == [Severity.ERROR]
    assert [h.severity for h in param if h.rule_id == "py.ssrf"] == [Severity.WARNING]
    xml = run("""
        import xml.etree.ElementTree as ET
        from flask import request
        def upload():
            return ET.fromstring(request.data)
    """)
    assert [h.severity for h in xml if h.rule_id == "py.xml-untrusted"] == [Severity.WARNING]


def test_unchanged_sink_is_reported_at_the_changed_assignment() -> None:
    code = """
        from flask import redirect, request
        def go():
            target = request.args["next"]
            return redirect(target)
    """
    hits = [h for h in run(code, changed={3}) if h.rule_id == "py.open-redirect"]
    assert [(h.line, "line 4" in h.message) for h in hits] == [(3, True)]
    assert run(code, changed={1}) == []


def test_every_sink_row_names_a_catalogued_rule() -> None:
    assert {row.rule for row in SINK_ROWS} <= set(RULES)
    assert all(row.callees or row.methods for row in SINK_ROWS)


@pytest.mark.parametrize(
    ("prefix", "fixed"),
    [
        ("/items/", True),
        ("https://api.example.com/", True),
        ("http://h?x=", True),
        ("/", False),
        ("//", False),
        ("https://", False),
        ("https://example.com", False),
        ("https://user@", False),
        ("", False),
        ("/\\", False),
    ],
)
def test_fixed_destination(prefix: str, fixed: bool) -> None:
    assert fixed_destination(prefix) is fixed


def _all_rows() -> list[tuple[str, SinkRow]]:
    """Every SinkRow the Python rule modules define, by module attribute."""
    out: list[tuple[str, SinkRow]] = []
    for info in pkgutil.iter_modules(static.__path__):
        module = importlib.import_module(f"reviewbot.static.{info.name}")
        for attr, value in vars(module).items():
            rows = value if isinstance(value, tuple) else (value,)
            out += [(f"{info.name}.{attr}", r) for r in rows if isinstance(r, SinkRow)]
    return out


_CALLER_FIELDS = {"runs", "split", "where", "line", "via"}
"""Fields the rules that call flow_hit themselves add to the standard ones."""


def test_every_row_names_a_catalogued_rule_and_fills_known_fields() -> None:
    rows = _all_rows()
    assert len({id(r) for _, r in rows}) >= 25  # SINK_ROWS, XSS_ROWS, CODE_ROWS and the rest
    for where, row in rows:
        assert row.rule in RULES, where
        for template in (row.title, row.message, row.reaches):
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
            assert fields <= FIELDS | _CALLER_FIELDS, (where, fields - FIELDS - _CALLER_FIELDS)


def test_braces_in_pr_code_are_text_in_the_message_not_template_fields() -> None:
    """Row templates are filled once: a PR's own ``{...}`` (here in the callee as written)
    reaches the message as written, never as a template field (a second format pass would
    raise KeyError on ``{next}`` or expand ``{advice}``)."""
    hits = run("""
        from flask import request
        def find(trees):
            return trees["{next}{advice}"].xpath("//u[@n='" + request.args["n"] + "']")
    """)
    found = [h for h in hits if h.rule_id == "py.xpath-injection"]
    assert len(found) == 1
    assert '`trees["{next}{advice}"].xpath`' in found[0].message
    assert found[0].message.count("XPath variables") == 1  # the advice once, from the row
