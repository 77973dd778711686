"""The intra-function taint view: sources, propagation, sanitisers, guards, reaching defs."""

from __future__ import annotations

import textwrap

import pytest

from reviewbot.context.extract import SourceFile
from reviewbot.static.pynodes import walk
from reviewbot.static.taint import Level, Scope, Sink

SINK = Sink("test")


def level_at_sink(code: str) -> Level:
    """The taint of the argument of the (last) call to ``sink(...)`` in the first function."""
    src = SourceFile.from_bytes("m.py", textwrap.dedent(code).lstrip("\n").encode())
    assert src.tree is not None
    module = Scope(src.tree.root_node)
    fn = next(n for n in walk(src.tree.root_node) if n.type == "function_definition")
    scope = Scope(fn, module)
    calls = [n for n in walk(fn) if n.type == "call"
             and n.child_by_field_name("function").text == b"sink"]
    arg = calls[-1].child_by_field_name("arguments").named_children[0]
    return scope.level(arg, SINK).level


@pytest.mark.parametrize(("code", "expected"), [
    ("def f():\n    sink('x')\n", Level.CONST),
    ("def f():\n    sink(LIMIT)\n", Level.CONST),
    ("def f(a):\n    sink(a)\n", Level.PARAM),
    ("def f(self):\n    sink(self.name)\n", Level.LOCAL),
    ("def f(request):\n    sink(request.GET['q'])\n", Level.SOURCE),
    ("def f(self):\n    sink(self.request.get('dest'))\n", Level.SOURCE),
    ("def f():\n    sink(flask.request.form.get('x'))\n", Level.SOURCE),
    ("def f():\n    sink(input())\n", Level.PARAM),
    ("def f():\n    sink(sys.argv[1])\n", Level.PARAM),
    ("def f(n: int):\n    sink(n)\n", Level.PARAM),
    ("@app.route('/u/<uid>')\ndef f(uid):\n    sink(uid)\n", Level.SOURCE),
    ("def view(request, slug):\n    sink(slug)\n", Level.SOURCE),
])
def test_sources(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected


@pytest.mark.parametrize(("code", "expected"), [
    # through assignment, formatting, concatenation, methods and containers
    ("def f(a):\n    b = 'x' + a\n    c = f'{b}!'\n    sink(c.strip())\n", Level.PARAM),
    ("def f(a):\n    parts = []\n    parts.append(a)\n    sink(' '.join(parts))\n",
     Level.PARAM),
    ("def f(a):\n    d = {'k': a}\n    sink('%(k)s' % d)\n", Level.PARAM),
    ("def f(xs):\n    sink([x.upper() for x in xs])\n", Level.PARAM),
    ("def f(xs):\n    for x in xs:\n        sink(x)\n", Level.PARAM),
    # sanitisers
    ("def f(a):\n    sink(int(a))\n", Level.CONST),
    ("def f(a):\n    sink(shlex.quote(a))\n", Level.CONST),
    ("def f(a):\n    sink(escape(a))\n", Level.CONST),
    ("def f(a):\n    sink(my_sanitize_name(a))\n", Level.CONST),
    ("def f(a):\n    sink(len(a))\n", Level.CONST),
    # an unknown call on constants is LOCAL, on a parameter it passes the taint on
    ("def f():\n    sink(config('table'))\n", Level.LOCAL),
    ("def f(a):\n    sink(lookup(a))\n", Level.PARAM),
])
def test_propagation_and_sanitisers(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected


@pytest.mark.parametrize(("code", "expected"), [
    # a later plain assignment in the same block replaces the earlier value
    ("def f(a):\n    q = a\n    q = 'const'\n    sink(q)\n", Level.CONST),
    # either branch may reach the use
    ("def f(a, c):\n    if c:\n        q = a\n    else:\n        q = 'x'\n    sink(q)\n",
     Level.PARAM),
    # an assignment after the use does not reach it
    ("def f(a):\n    q = 'x'\n    sink(q)\n    q = a\n", Level.CONST),
    # ... unless a loop carries it round
    ("def f(a, xs):\n    q = ''\n    for x in xs:\n        sink(q)\n        q += a\n",
     Level.PARAM),
])
def test_reaching_definitions(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected


@pytest.mark.parametrize(("code", "expected"), [
    ("def f(a):\n    if a.isdigit():\n        sink(a)\n", Level.CONST),
    ("def f(a):\n    if a in ('x', 'y'):\n        sink(a)\n", Level.CONST),
    ("def f(a):\n    if not re.match('^[a-z]+$', a):\n        raise ValueError(a)\n"
     "    sink(a)\n", Level.CONST),
    ("def f(a):\n    if not is_valid(a):\n        return\n    else:\n        sink(a)\n",
     Level.CONST),
    # near misses: the check is the wrong way round, or against data, or a substring test
    ("def f(a):\n    if not a.isdigit():\n        sink(a)\n", Level.PARAM),
    ("def f(a, known):\n    if a not in known:\n        sink(a)\n", Level.PARAM),
    ("def f(a):\n    if '/' not in a:\n        sink(a)\n", Level.PARAM),
    ("def f(a):\n    if a.isdigit():\n        pass\n    else:\n        sink(a)\n", Level.PARAM),
])
def test_validating_guards(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected
