"""The intra-function taint view: sources, propagation, sanitisers, guards, reaching defs."""

from __future__ import annotations

import textwrap
import time

import pytest

from reviewbot.context.extract import SourceFile
from reviewbot.static.pynodes import walk
from reviewbot.static.taint import Level, Scope, Sink, Taint

SINK = Sink("test")


def level_at_sink(code: str) -> Level:
    """The taint of the argument of the (last) call to ``sink(...)`` in the first function."""
    src = SourceFile.from_bytes("m.py", textwrap.dedent(code).lstrip("\n").encode())
    assert src.tree is not None
    module = Scope(src.tree.root_node)
    fn = next(n for n in walk(src.tree.root_node) if n.type == "function_definition")
    scope = Scope(fn, module)
    calls = [
        n
        for n in walk(fn)
        if n.type == "call" and n.child_by_field_name("function").text == b"sink"
    ]
    arg = calls[-1].child_by_field_name("arguments").named_children[0]
    return scope.level(arg, SINK).level


@pytest.mark.parametrize(
    ("code", "expected"),
    [
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
    ],
)
def test_sources(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # through assignment, formatting, concatenation, methods and containers
        ("def f(a):\n    b = 'x' + a\n    c = f'{b}!'\n    sink(c.strip())\n", Level.PARAM),
        (
            "def f(a):\n    parts = []\n    parts.append(a)\n    sink(' '.join(parts))\n",
            Level.PARAM,
        ),
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
    ],
)
def test_propagation_and_sanitisers(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # a later plain assignment in the same block replaces the earlier value
        ("def f(a):\n    q = a\n    q = 'const'\n    sink(q)\n", Level.CONST),
        # either branch may reach the use
        (
            "def f(a, c):\n    if c:\n        q = a\n    else:\n        q = 'x'\n    sink(q)\n",
            Level.PARAM,
        ),
        # an assignment after the use does not reach it
        ("def f(a):\n    q = 'x'\n    sink(q)\n    q = a\n", Level.CONST),
        # ... unless a loop carries it round
        (
            "def f(a, xs):\n    q = ''\n    for x in xs:\n        sink(q)\n        q += a\n",
            Level.PARAM,
        ),
    ],
)
def test_reaching_definitions(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def f(a):\n    if a.isdigit():\n        sink(a)\n", Level.CONST),
        ("def f(a):\n    if a in ('x', 'y'):\n        sink(a)\n", Level.CONST),
        (
            "def f(a):\n    if not re.match('^[a-z]+$', a):\n        raise ValueError(a)\n"
            "    sink(a)\n",
            Level.CONST,
        ),
        (
            "def f(a):\n    if not is_valid(a):\n        return\n    else:\n        sink(a)\n",
            Level.CONST,
        ),
        # near misses: the check is the wrong way round, or against data, or a substring test
        ("def f(a):\n    if not a.isdigit():\n        sink(a)\n", Level.PARAM),
        ("def f(a, known):\n    if a not in known:\n        sink(a)\n", Level.PARAM),
        ("def f(a):\n    if '/' not in a:\n        sink(a)\n", Level.PARAM),
        ("def f(a):\n    if a.isdigit():\n        pass\n    else:\n        sink(a)\n", Level.PARAM),
    ],
)
def test_validating_guards(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # containment checks on the normalised path count as validation
        (
            "def f(base, a):\n    p = os.path.join(base, a)\n"
            "    if not os.path.realpath(p).startswith(base):\n        raise ValueError(a)\n"
            "    sink(p)\n",
            Level.CONST,
        ),
        (
            "def f(base, a):\n    p = base / a\n    if Path(p).resolve().is_relative_to(base):\n"
            "        sink(p)\n",
            Level.CONST,
        ),
        (
            "def f(base, a):\n    p = os.path.realpath(os.path.join(base, a))\n"
            "    if os.path.commonpath([base, p]) != base:\n        abort(400)\n    sink(p)\n",
            Level.CONST,
        ),
        # near miss: normalising alone is no check
        (
            "def f(base, a):\n    p = os.path.realpath(os.path.join(base, a))\n    sink(p)\n",
            Level.PARAM,
        ),
    ],
)
def test_containment_checks(code: str, expected: Level) -> None:
    assert level_at_sink(code) is expected


def taint_at_sink(code: str, budget_s: float = 0.5) -> Taint:
    """Like :func:`level_at_sink`, with the whole taint and a chosen summary budget."""
    src = SourceFile.from_bytes("m.py", textwrap.dedent(code).lstrip("\n").encode())
    assert src.tree is not None
    module = Scope(src.tree.root_node, budget_s=budget_s)
    fn = next(n for n in walk(src.tree.root_node) if n.type == "function_definition")
    scope = Scope(fn, module)
    calls = [
        n
        for n in walk(fn)
        if n.type == "call" and n.child_by_field_name("function").text == b"sink"
    ]
    return scope.level(calls[-1].child_by_field_name("arguments").named_children[0], SINK)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # a helper of the same file passes its parameter through ...
        (
            "def f(request):\n    sink(tidy(request.args['x']))\n\ndef tidy(v):\n"
            "    return v.strip().lower()\n",
            Level.SOURCE,
        ),
        # ... or sanitises it, or returns another parameter, or a constant
        (
            "def f(request):\n    sink(as_id(request.args['x']))\n\ndef as_id(v):\n"
            "    return int(v)\n",
            Level.CONST,
        ),
        (
            "def f(request):\n    sink(pick(request.args['x'], 'a'))\n\ndef pick(a, b):\n"
            "    return b\n",
            Level.CONST,
        ),
        (
            "def f(request):\n    sink(pick(b=request.args['x'], a='a'))\n\ndef pick(a, b):\n"
            "    return b\n",
            Level.SOURCE,
        ),
        ("def f():\n    sink(table())\n\ndef table():\n    return 'users'\n", Level.CONST),
        # a helper that reads the request itself
        (
            "def f():\n    sink(query())\n\ndef query():\n    return request.args['q']\n",
            Level.SOURCE,
        ),
        # methods called on self resolve within the class
        (
            "class C:\n    def f(self, request):\n        sink(self.path_of(request.args['k']))\n"
            "    def path_of(self, key):\n        return os.path.join(self.root, key)\n",
            Level.SOURCE,
        ),
        (
            "class C:\n    def f(self, request):\n        sink(self.n(request.args['k']))\n"
            "    def n(self, key):\n        return len(key)\n",
            Level.CONST,
        ),
        # a generator's summary is what it yields
        (
            "def f(request):\n    sink(list(tokens(request.args['x'])))\n\ndef tokens(v):\n"
            "    for part in v.split():\n        yield part\n",
            Level.SOURCE,
        ),
        (
            "def f(request):\n    sink(list(tokens(request.args['x'])))\n\ndef tokens(v):\n"
            "    yield from (int(p) for p in v.split())\n",
            Level.CONST,
        ),
        # recursion gets no summary: the call passes its arguments on (the fallback)
        (
            "def f(request):\n    sink(loop(request.args['x']))\n\ndef loop(v):\n"
            "    return loop(v)\n",
            Level.SOURCE,
        ),
    ],
)
def test_summaries_of_helpers(code: str, expected: Level) -> None:
    assert taint_at_sink(code).level is expected


def test_depth_is_bounded_and_deeper_calls_fall_back() -> None:
    # f -> a -> b -> c is summarised; d, a fourth call deep, is not, so c passes v on
    chain = (
        "def f(request):\n    sink(a(request.args['x']))\n\ndef a(v):\n    return b(v)\n\n"
        "def b(v):\n    return c(v)\n\ndef c(v):\n    return d(v)\n\ndef d(v):\n"
        "    return 'k'\n"
    )
    assert taint_at_sink(chain).level is Level.SOURCE
    short = chain.replace("return b(v)", "return d(v)")
    assert taint_at_sink(short).level is Level.CONST


def test_expired_budget_falls_back_to_intra_procedural() -> None:
    code = (
        "def f(request):\n    sink(as_id(request.args['x']))\n\ndef as_id(v):\n    return int(v)\n"
    )
    assert taint_at_sink(code, budget_s=0.5).level is Level.CONST
    assert taint_at_sink(code, budget_s=-1.0).level is Level.SOURCE


@pytest.mark.parametrize(
    ("code", "joined"),
    [
        ("def f(base, a):\n    sink(os.path.join(base, a))\n", True),
        ("def f(base, a):\n    sink(f'{base}/{a}.txt')\n", True),
        ("def f(base, a):\n    sink(base + '/' + a)\n", True),
        ("def f(base, a):\n    sink('%s/%s' % (base, a))\n", True),
        ("def f(base, a):\n    sink(Path(base) / a)\n", True),
        ("def f(base, a):\n    sink(Path(base).joinpath('x', a))\n", True),
        # near misses: the parameter is the base, the joined part is constant, a URL, a number
        ("def f(root):\n    sink(os.path.join(root, 'etc', 'passwd'))\n", False),
        ("def f(host, a):\n    sink(f'https://{host}/{a}')\n", False),
        ("def f(base, n: int):\n    sink(os.path.join(base, n))\n", False),
        ("def f(a, b):\n    sink(a + b)\n", False),
    ],
)
def test_joined_components(code: str, joined: bool) -> None:
    taint = taint_at_sink(code)
    assert taint.level >= Level.PARAM and taint.joined is joined


def test_pathological_file_runs_out_of_budget_and_falls_back_quickly() -> None:
    n = 2000
    code = "".join(
        f"def h{i}(a, b=None):\n    x = h{(i + 1) % n}(a) + h{(i * 7 + 3) % n}(b, a)\n"
        f"    sink(x)\n    return h{(i - 1) % n}(x, a)\n\n"
        for i in range(n)
    )
    src = SourceFile.from_bytes("m.py", code.encode())
    assert src.tree is not None
    module = Scope(src.tree.root_node, budget_s=0.2)
    started = time.monotonic()
    levels = []
    for fn in (n for n in walk(src.tree.root_node) if n.type == "function_definition"):
        scope = Scope(fn, module)
        call = next(
            c for c in scope.select("call") if c.child_by_field_name("function").text == b"sink"
        )
        levels.append(
            scope.level(call.child_by_field_name("arguments").named_children[0], SINK).level
        )
    assert module.program is not None and module.program.expired
    assert time.monotonic() - started < 20
    assert set(levels) == {Level.PARAM}  # with or without summaries, a passes through
