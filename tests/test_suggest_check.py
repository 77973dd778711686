"""The three checking levels, and the sandbox that runs levels 2 and 3 (real subprocesses)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from reviewbot.config import TestsConfig as SuggestConfig
from reviewbot.result import CheckLevel
from reviewbot.sources import MappingReader
from reviewbot.suggest.check import (
    FAILS,
    PASSES,
    Candidate,
    check_candidates,
    level1_reason,
)
from reviewbot.suggest.imports import ImportPolicy, declared_imports, head_closure
from reviewbot.suggest.runs import clean_message
from reviewbot.suggest.sandbox import namespaces_available
from reviewbot.suggest.targets import HeadFiles, Target
from tests.conftest import GitRepo
from tests.suggest_support import calc_repo, head_targets

TOKEN = "ghs_" + "A1b2C3d4E5f6G7h8I9j0"


@pytest.fixture
def calc(git_repo: GitRepo) -> tuple[dict[str, Target], HeadFiles, GitRepo]:
    targets, head = head_targets(calc_repo(git_repo))
    return {t.name: t for t in targets}, head, git_repo


def cand(t: Target, code: str, source: str = "model:test") -> Candidate:
    return Candidate(f"tests/test_{t.name}.py", t, code, source)


GOOD = """\
import pytest
from calc.ops import divide

def test_divide():
    assert divide(1, 4) == 0.25

def test_divide_by_zero():
    with pytest.raises(ZeroDivisionError):
        divide(1, 0)
"""


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("def test_x(:\n", "does not parse: invalid syntax (line 1)"),
        (
            "import numpy_not_here\nfrom calc.ops import divide\ndef test_x():\n    divide(1, 2)\n",
            "imports numpy_not_here, which is neither the module under test (calc.ops), "
            "pytest, the standard library nor a declared dependency",
        ),
        (
            "from calc.rounding import round_to\nfrom calc.ops import divide\n"
            "def test_x():\n    divide(1, 2)\n",
            "imports calc.rounding",
        ),
        ("from . import ops\ndef test_x():\n    ops.divide(1, 2)\n", "uses a relative import"),
        ("from calc.ops import divide\nX = divide(1, 2)\n", "has no test function"),
        ("from calc.ops import add\ndef test_x():\n    add(1, 2)\n", "never refers to divide"),
    ],
)
def test_level1_rejects(
    calc: tuple[dict[str, Target], HeadFiles, GitRepo], code: str, reason: str
) -> None:
    targets, _, _ = calc
    got = level1_reason(cand(targets["divide"], code), ImportPolicy(frozenset()))
    assert got is not None and got.startswith(reason)


def test_level1_accepts_stdlib_pytest_parent_package_and_declared(
    calc: tuple[dict[str, Target], HeadFiles, GitRepo],
) -> None:
    targets, _, _ = calc
    code = (
        "import json, os.path\nimport pytest\nimport calc\nimport yaml\n"
        "from calc.ops import divide\n\nclass TestDivide:\n    def test_it(self):\n"
        "        assert calc.ops.divide(4, 2) == divide(4, 2)\n"
    )
    assert level1_reason(cand(targets["divide"], code), ImportPolicy(frozenset({"yaml"}))) is None
    assert "imports yaml" in str(
        level1_reason(cand(targets["divide"], code), ImportPolicy(frozenset()))
    )


def test_declared_dependencies_from_pyproject_and_requirements() -> None:
    files = {
        "pyproject.toml": b'[project]\ndependencies = ["PyYAML>=6", "httpx[http2]; python_version'
        b'>\'3\'"]\n[project.optional-dependencies]\nfast = ["ujson"]\n'
        b'[dependency-groups]\ndev = ["hypothesis"]\n'
        b'[tool.poetry.dependencies]\npython = "^3.11"\nrich = "*"\n',
        "requirements-dev.txt": b"# tools\n-r requirements.txt\nattrs==23.1 # pinned\n"
        b"--index-url x\nPython-Dateutil\n",
    }
    names = declared_imports(MappingReader(files).read)
    assert {"yaml", "httpx", "ujson", "hypothesis", "rich", "attrs", "python_dateutil"} <= names
    assert "python" not in names and "tools" not in names


def test_head_closure_takes_packages_and_project_imports() -> None:
    files = {
        "src/app/__init__.py": b"from .util import helper\n",
        "src/app/util.py": b"import json\nfrom app.deep import x\n",
        "src/app/deep/__init__.py": b"x = 1\n",
        "src/app/api.py": b"import os\nfrom . import util\nimport yaml\n",
        "src/app/unused.py": b"",
    }
    got, error = head_closure(
        "src",
        "app.api",
        "src/app/api.py",
        MappingReader(files).read,
        frozenset(sys.stdlib_module_names) | {"yaml"},
    )
    assert error is None
    assert set(got) == {
        "src/app/api.py",
        "src/app/__init__.py",
        "src/app/util.py",
        "src/app/deep/__init__.py",
    }
    _, error = head_closure(
        "src", "app.gone", "src/app/gone.py", MappingReader(files).read, frozenset()
    )
    assert error is not None and "head version of src/app/gone.py is unavailable" in error


def test_clean_message_keeps_one_line_and_redacts_tokens() -> None:
    msg = f"\n\nAssertionError: assert '{TOKEN}' == ''\nmore\n"
    assert clean_message(msg) == "AssertionError: assert '[redacted]' == ''"
    assert len(clean_message("x" * 1000)) == 240


def test_one_pytest_process_for_all_suggestions(
    calc: tuple[dict[str, Target], HeadFiles, GitRepo],
) -> None:
    targets, head, _ = calc
    failing = GOOD.replace("== 0.25", "== 0.3")
    cands = [
        cand(targets["divide"], GOOD),
        cand(targets["divide"], failing),
        cand(
            targets["add"],
            "from calc.ops import add\n\ndef test_add():\n    assert add(0.1, 0.2) == 0.3\n",
        ),
        cand(targets["push"], "def test_x(:\n"),
    ]
    cfg = SuggestConfig(run=True, timeout=30)
    collected, reports = check_candidates(
        cands,
        head.read,
        frozenset(),
        cfg,
        run=False,
        base_env={"PATH": "/usr/bin:/bin"},
        execute=True,
    )
    assert len(reports) == 1
    assert [(t.level, t.outcome) for t in collected] == [
        (CheckLevel.COLLECTED, "collected")
    ] * 3 + [(CheckLevel.UNCHECKED, "rejected")]
    assert [t.shown for t in collected] == [True, True, True, False]

    ran, reports = check_candidates(
        cands,
        head.read,
        frozenset(),
        cfg,
        run=True,
        base_env={"PATH": "/usr/bin:/bin"},
        execute=True,
    )
    assert len(reports) == 1
    assert [(t.level, t.outcome) for t in ran[:3]] == [
        (CheckLevel.RAN, PASSES),
        (CheckLevel.RAN, FAILS),
        (CheckLevel.RAN, PASSES),
    ]
    assert ran[1].reason.startswith("test_divide: assert 0.25 == 0.3")
    assert ran[1].shown  # shown, as a possible bug

    dropped, _ = check_candidates(
        cands[1:2],
        head.read,
        frozenset(),
        replace(cfg, on_fail="drop"),
        run=True,
        base_env={},
        execute=True,
    )
    assert (dropped[0].level, dropped[0].outcome, dropped[0].shown) == (
        CheckLevel.RAN,
        "rejected",
        False,
    )
    assert "tests.on_fail: drop" in dropped[0].reason


@pytest.fixture
def host_server() -> Iterator[int]:
    """A TCP server of the host on 127.0.0.1: sandboxed tests must not reach it."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(srv.getsockname()[1])
    stop.set()
    thread.join(2)
    srv.close()


def hostile(t: Target, port: int, repo: Path, isolation: str) -> list[tuple[str, Candidate]]:
    env = f"""\
import os
from calc.ops import divide

def test_env_holds_no_token():
    assert divide(2, 1) == 2.0
    assert "{TOKEN}" not in repr(dict(os.environ))
    assert os.environ.get("GITHUB_TOKEN") is None
    assert set(os.environ) <= {{"PATH", "LANG", "HOME", "TMPDIR", "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE", "PYTHONNOUSERSITE", "PYTHONHASHSEED",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "REVIEWBOT_SANDBOX_DIR", "REVIEWBOT_REPORT_FD",
        "NO_PROXY", "no_proxy", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
        "all_proxy", "ALL_PROXY", "PYTEST_CURRENT_TEST", "PYTEST_VERSION"}}
    assert os.environ["HOME"].startswith(os.environ["REVIEWBOT_SANDBOX_DIR"])
    assert not os.getcwd().startswith({str(repo)!r})
"""
    net = f"""\
import socket
import pytest
from calc.ops import divide

def test_no_network():
    assert divide(1, 1) == 1.0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", {port}), timeout=2)
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 80), timeout=2)
    with pytest.raises(OSError):
        socket.getaddrinfo("example.com", 80)

def test_own_loopback_server_works():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    socket.create_connection(srv.getsockname(), timeout=2).close()
    srv.close()
"""
    out = [
        ("env", cand(t, env)),
        ("net", cand(t, net)),
        (
            "hang_collect",
            cand(
                t,
                "import time\nfrom calc.ops import divide\n"
                "time.sleep(600)\n\ndef test_x():\n    divide(1, 2)\n",
            ),
        ),
        (
            "hang_test",
            cand(
                t,
                "import time\nfrom calc.ops import divide\n\ndef test_first():"
                "\n    divide(1, 2)\n\ndef test_slow():\n    time.sleep(600)\n",
            ),
        ),
        (
            "exit",
            cand(
                t,
                "import os\nfrom calc.ops import divide\n\ndef test_exit():\n"
                "    divide(1, 2)\n    os._exit(3)\n",
            ),
        ),
        ("good", cand(t, GOOD)),
    ]
    if isolation == "namespaces":
        out.append(
            (
                "readonly",
                cand(
                    t,
                    f"""\
import pathlib
import pytest
from calc.ops import divide

def test_repository_and_home_are_read_only(tmp_path):
    assert divide(1, 1) == 1.0
    (tmp_path / "ok").write_text("inside the sandbox")
    for where in ({str(repo)!r}, "/tmp", str(pathlib.Path.home().parent.parent)):
        with pytest.raises(OSError):
            (pathlib.Path(where) / "written-by-a-test").write_text("x")
""",
                ),
            )
        )
    return out


@pytest.mark.parametrize("isolation", ["process", "namespaces"])
def test_sandbox_limits_and_watchdog(
    calc: tuple[dict[str, Target], HeadFiles, GitRepo],
    host_server: int,
    isolation: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if isolation == "namespaces" and not namespaces_available(sys.executable):
        pytest.skip("unprivileged user namespaces are not available here")
    targets, head, repo = calc
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    named = hostile(targets["divide"], host_server, repo.root, isolation)
    cfg = SuggestConfig(run=True, timeout=3)
    t0 = time.monotonic()
    results, reports = check_candidates(
        [c for _, c in named],
        head.read,
        frozenset(),
        cfg,
        run=True,
        base_env=dict(__import__("os").environ),
        isolation=isolation,
        execute=True,
    )
    elapsed = time.monotonic() - t0
    got = {name: r for (name, _), r in zip(named, results, strict=True)}
    assert {r.isolation for r in reports} == {isolation}
    for name in ("env", "net", "good", *(["readonly"] if isolation == "namespaces" else [])):
        assert (got[name].level, got[name].outcome) == (CheckLevel.RAN, PASSES), (
            name,
            got[name].reason,
        )
    hc = got["hang_collect"]
    assert (hc.level, hc.outcome, hc.shown) == (CheckLevel.PARSED, "rejected", False)
    assert hc.reason == "collecting it did not finish within 3s; killed"
    ht = got["hang_test"]
    assert (ht.level, ht.outcome, ht.shown) == (CheckLevel.COLLECTED, "rejected", False)
    assert ht.reason == "test_slow did not finish within 3s; killed"
    ex = got["exit"]
    assert (ex.level, ex.outcome, ex.shown) == (CheckLevel.COLLECTED, "rejected", False)
    assert ex.reason.startswith("the test process ended while running test_exit")
    # two hangs killed at ~3 s each, one crash, then the rest: four pytest processes
    assert len(reports) == 4
    assert all(r.killed_after is None or r.killed_after < 5 for r in reports)
    assert elapsed < 40


def test_without_pytest_nothing_passes_level_two(
    calc: tuple[dict[str, Target], HeadFiles, GitRepo], tmp_path: Path
) -> None:
    venv = tmp_path / "bare"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    targets, head, _ = calc
    results, reports = check_candidates(
        [cand(targets["divide"], GOOD)],
        head.read,
        frozenset(),
        SuggestConfig(timeout=10),
        run=True,
        base_env={"PATH": "/usr/bin:/bin"},
        python=str(venv / "bin" / "python"),
        execute=True,
    )
    assert len(reports) == 1 and not reports[0].events
    (only,) = results
    assert (only.level, only.outcome, only.shown) == (CheckLevel.PARSED, "rejected", False)
    assert only.reason.startswith("pytest did not start: ")
    assert only.reason.endswith("No module named pytest")
