"""ruff as a built-in static source: the real ruff binary on real files and git repositories.

The cases of the hand-written rules ruff replaced (py.mutable-default, py.is-literal,
py.bare-except, py.eq-none, py.assert-tuple) live here now, under their ruff codes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from reviewbot.backends.static import StaticBackend
from reviewbot.config import Config, RuffConfig, load_config
from reviewbot.engine import run_review
from reviewbot.errors import ConfigError
from reviewbot.result import ReviewResult
from reviewbot.sources import git_source, patch_source
from reviewbot.static.ruff_rules import ALIASES, PARTIAL_UNSAFE, RUFF_RULES
from reviewbot.static.ruff_run import MAX_SHM_BYTES, RuffJob, locate_ruff, scratch_root, to_hits
from tests.conftest import GitRepo, run_cli
from tests.docs_support import docs_text

RUFF = locate_ruff()
pytestmark = pytest.mark.skipif(RUFF is None, reason="ruff is a runtime dependency")


def ruff_ids(code: str, config: RuffConfig | None = None, whole: bool = True) -> set[str]:
    data = textwrap.dedent(code).lstrip("\n").encode()
    with RuffJob([("app.py", data, whole)], config or RuffConfig(), RUFF) as job:
        outcome = job.collect()
    assert outcome.note is None
    lines = data.decode().split("\n")
    return {h.rule_id for h in to_hits(outcome.hits.get("app.py", []), lines)}


POSITIVE: list[tuple[str, str]] = [
    (
        "ruff.B006",
        """
        def add(item, items=[]):
            items.append(item)
            return items
    """,
    ),
    (
        "ruff.B006",
        """
        def add(item, seen=dict()):
            return seen
    """,
    ),
    (
        "ruff.F632",
        """
        def check(x):
            return x is "yes"
    """,
    ),
    (
        "ruff.F632",
        """
        def check(x):
            if x is not 3:
                return 1
    """,
    ),
    (
        "ruff.E722",
        """
        def load():
            try:
                return read()
            except:
                pass
    """,
    ),
    (
        "ruff.E711",
        """
        def check(x):
            if x == None:
                return 0
    """,
    ),
    (
        "ruff.F631",
        """
        def f(x):
            assert (x > 0, "x must be positive")
    """,
    ),
    (
        "ruff.F821",
        """
        def f(x):
            return x + offest
    """,
    ),
    (
        "ruff.F841",
        """
        def f(x):
            result = x * 2
            return x
    """,
    ),
    (
        "ruff.F811",
        """
        def f():
            return 1

        def f():
            return 2
    """,
    ),
]

NEGATIVE: list[tuple[str, str]] = [
    (
        "ruff.B006",
        """
        def add(item, items=None):
            items = [] if items is None else items
            return items
    """,
    ),
    (
        "ruff.B006",
        """
        def add(item, items=()):
            return items
    """,
    ),
    (
        "ruff.F632",
        """
        def check(x):
            return x is None or x is True
    """,
    ),
    (
        "ruff.E722",
        """
        def load():
            try:
                return read()
            except OSError:
                pass
    """,
    ),
    (
        "ruff.E711",
        """
        def check(x):
            return x is None
    """,
    ),
    (
        "ruff.F631",
        """
        def f(x):
            assert x > 0, "x must be positive"
    """,
    ),
    (
        "ruff.F821",
        """
        import os

        def f(x):
            return os.path.join(x, "a")
    """,
    ),
    # the selection is reviewbot's: line length, quotes and imports order are not reported
    ("ruff.E501", "def f(x):\n    return '" + "." * 120 + "'\n"),
]


@pytest.mark.parametrize(("rule", "code"), POSITIVE)
def test_ruff_rule_fires(rule: str, code: str) -> None:
    assert rule in ruff_ids(code)


@pytest.mark.parametrize(("rule", "code"), NEGATIVE)
def test_ruff_rule_stays_quiet(rule: str, code: str) -> None:
    assert rule not in ruff_ids(code)


def test_noqa_comments_are_honoured() -> None:
    code = """
        def a(items=[]):  # noqa: B006
            return items

        def b(items=[]):  # noqa
            return items

        def c(items=[]):  # noqa: E501
            return items
    """
    data = textwrap.dedent(code).lstrip("\n").encode()
    with RuffJob([("app.py", data, True)], RuffConfig(), RUFF) as job:
        hits = job.collect().hits["app.py"]
    assert [(h.code, h.line) for h in hits] == [("B006", 7)]


def test_syntax_errors_are_not_findings() -> None:
    # ruff reports "invalid-syntax" (and lints nothing else in the file): not a finding,
    # not a failure; the tree-sitter rules still check what they can parse
    code = """
        def f(x, items=[]):
            return (x = 1)
    """
    assert ruff_ids(code) == set()


def test_a_file_rebuilt_from_the_diff_skips_whole_file_checks() -> None:
    code = """
        def f(x, items=[]):
            return helper(x)
    """
    assert {"ruff.B006", "ruff.F821"} <= ruff_ids(code, whole=True)
    assert ruff_ids(code, whole=False) == {"ruff.B006"}


def test_extend_select_and_ignore() -> None:
    code = """
        def f(x, items=[]):
            if x:
                if items:
                    return 1
    """
    assert "ruff.SIM102" not in ruff_ids(code)
    ids = ruff_ids(code, RuffConfig(extend_select=("SIM102",), ignore=("B",)))
    assert "ruff.SIM102" in ids
    assert "ruff.B006" not in ids


def test_safe_one_line_fix_becomes_the_suggestion() -> None:
    data = b'def check(x):\n    return x is "yes"\n'
    with RuffJob([("app.py", data, True)], RuffConfig(), RUFF) as job:
        found = job.collect().hits["app.py"]
    (hit,) = to_hits(found, data.decode().split("\n"))
    assert (hit.rule_id, hit.line, hit.suggestion) == ("ruff.F632", 2, '    return x == "yes"')
    # an unsafe fix (B006 rewrites the body too) is no suggestion
    data = b"def add(items=[]):\n    return items\n"
    with RuffJob([("app.py", data, True)], RuffConfig(), RUFF) as job:
        found = job.collect().hits["app.py"]
    assert [h.suggestion for h in to_hits(found, data.decode().split("\n"))] == [None]


def test_the_rule_table_is_ruffs_stable_rules_and_documented() -> None:
    assert RUFF is not None
    out = subprocess.run(
        [RUFF, "rule", "--all", "--output-format", "json"], capture_output=True, check=True
    ).stdout
    known = {r["code"]: r for r in json.loads(out)}
    readme = docs_text()
    for code, rule in RUFF_RULES.items():
        assert code in known, code
        assert not known[code].get("preview"), code
        assert "Removed" not in known[code].get("status", {}), code
        assert f"| `{code}` |" in readme, code
        assert rule.reason and rule.reason == rule.reason.strip()
        assert rule.cwe is None or re.fullmatch(r"CWE-\d+", rule.cwe)
    assert set(RUFF_RULES) >= PARTIAL_UNSAFE
    assert {a.removeprefix("ruff.") for a in ALIASES.values()} <= set(RUFF_RULES)
    # reviewbot's taint rules report these; ruff's pattern versions are not selected
    assert not {"S608", "S602", "S605", "S307", "S301", "S506"} & set(RUFF_RULES)


# --- through the engine, on real git repositories -------------------------------------

BASE = "import os\n\n\ndef keep(x):\n    return os.path.join(x, 'a')\n"


def _review(repo: GitRepo, config: Config | None = None, **kw: object) -> ReviewResult:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    source = git_source(repo.root, env=env, untracked=True)
    return run_review(source, config or Config(), StaticBackend(), **kw)  # type: ignore[arg-type]


def _ids(result: ReviewResult) -> list[tuple[str, int, str]]:
    return [(f.path, f.line, f.rule_id or "") for f in result.findings]


@pytest.fixture
def changed(git_repo: GitRepo) -> GitRepo:
    """A committed base, then a working-tree change adding a mutable default and an eval
    (the existing `keep` has a mutable default too, on a line the change does not touch)."""
    git_repo.write("app.py", BASE + "\n\ndef old(items=[]):\n    return items\n")
    git_repo.commit("base")
    git_repo.write(
        "app.py",
        BASE + "\n\ndef old(items=[]):\n    return items\n"
        "\n\ndef new(x, seen=[]):\n    return eval(x)\n",
    )
    return git_repo


def test_findings_only_on_changed_lines(changed: GitRepo) -> None:
    result = _review(changed)
    assert _ids(result) == [("app.py", 12, "ruff.B006"), ("app.py", 13, "py.eval")]
    b006 = result.findings[0]
    assert (b006.category.value, b006.severity.value, b006.source) == (
        "bug",
        "warning",
        "ruff.B006",
    )
    assert b006.title == "a mutable default argument is shared by every call"
    assert b006.message == (
        "Do not use mutable data structures for argument defaults "
        "(ruff B006 mutable-argument-default)."
    )
    assert result.coverage.notes == ()


def test_repository_ruff_config_is_not_applied(changed: GitRepo) -> None:
    before = _ids(_review(changed))
    changed.write(
        "pyproject.toml",
        '[tool.ruff]\nselect = []\nextend-exclude = ["*.py"]\n'
        '[tool.ruff.lint]\nselect = ["E501"]\nignore = ["B"]\n',
    )
    changed.write("ruff.toml", 'exclude = ["app.py"]\n[lint]\nignore = ["ALL"]\n')
    changed.write(".ruff.toml", '[lint]\nignore = ["B006"]\n')
    assert _ids(_review(changed)) == before


def test_missing_ruff_is_a_note_and_the_other_checks_go_on(changed: GitRepo) -> None:
    result = _review(changed, find_ruff=lambda: None)
    assert _ids(result) == [("app.py", 13, "py.eval")]
    note = "ruff is not installed (pip install ruff): its checks were skipped"
    assert note in result.coverage.notes
    assert note in result.problems


def _fake_ruff(tmp_path: Path, body: str) -> str:
    exe = tmp_path / "fake-ruff"
    exe.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n", encoding="utf-8")
    exe.chmod(0o755)
    return str(exe)


def test_ruff_timeout_is_a_note(changed: GitRepo, tmp_path: Path) -> None:
    exe = _fake_ruff(tmp_path, "time.sleep(30)")
    t = time.monotonic()
    result = _review(changed, Config(ruff=RuffConfig(timeout=0.5)), find_ruff=lambda: exe)
    assert time.monotonic() - t < 20
    assert _ids(result) == [("app.py", 13, "py.eval")]
    assert any("ruff took longer than 0.5s" in n for n in result.coverage.notes)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (
            "sys.stderr.write('ruff: error: boom\\n'); sys.exit(2)",
            "ruff failed (ruff: error: boom)",
        ),
        ("print('this is not json')", "ruff's output was not understood"),
        ('print(\'[{"code": "B006"}]\')', "ruff's output was not understood"),
        ("print('{\"a\": 1}')", "ruff's output was not understood"),
    ],
)
def test_ruff_failure_is_a_note(changed: GitRepo, tmp_path: Path, body: str, why: str) -> None:
    exe = _fake_ruff(tmp_path, body)
    result = _review(changed, find_ruff=lambda: exe)
    assert _ids(result) == [("app.py", 13, "py.eval")]
    assert any(n.startswith(why) for n in result.coverage.notes), result.coverage.notes


def test_disabled_rules_take_ruff_ids_and_old_ids(changed: GitRepo) -> None:
    assert _ids(_review(changed, Config(disabled_rules=("ruff.B006",)))) == [
        ("app.py", 13, "py.eval")
    ]
    changed.write(
        "app.py", BASE + "\n\ndef f():\n    try:\n        return 1\n    except:\n        pass\n"
    )
    assert ("app.py", 11, "ruff.E722") in _ids(_review(changed))
    assert _ids(_review(changed, Config(disabled_rules=("py.bare-except",)))) == []


def test_ruff_can_be_turned_off(changed: GitRepo) -> None:
    assert load_config(None, None, {"REVIEWBOT_RUFF": "0"}).ruff.enabled is False
    off = Config(ruff=RuffConfig(enabled=False))
    assert _ids(_review(changed, off, find_ruff=lambda: None)) == [("app.py", 13, "py.eval")]
    assert _review(changed, off, find_ruff=lambda: None).coverage.notes == ()


def test_odd_file_names_map_back(git_repo: GitRepo) -> None:
    git_repo.write("keep.txt", "x\n")
    git_repo.commit("base")
    names = [
        "we ird$(x).py",
        "pkg/__init__.py",
        "a/b/c/-n.py",
        "ünï.py",
        "..py",
        "one/dup.py",
        "two/dup.py",
        "three/dup.py",
    ]
    for name in names:
        git_repo.write(name, "def f(items=[]):\n    return items\n")
    git_repo.write("stub.pyi", "def f(x: Missing) -> None: ...\n")  # checked as a stub
    found = {(f.path, f.rule_id) for f in _review(git_repo).findings}
    assert found == {(n, "ruff.B006") for n in names} | {("stub.pyi", "ruff.F821")}


def test_patch_without_files_keeps_local_checks() -> None:
    patch = (
        b"diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -10,2 +10,3 @@\n"
        b" def f(x):\n-    return x\n+    y = helper(x)\n+    return x is 'a'\n"
    )
    result = run_review(patch_source(patch, "patch"), Config(), StaticBackend())
    # F632 is local; F821 (helper is defined in lines the patch does not show) and F841
    # would be guesses on a file rebuilt from the diff
    assert _ids(result) == [("m.py", 12, "ruff.F632")]


def test_reviewbot_diff_end_to_end_shows_ruff(changed: GitRepo) -> None:
    res = run_cli(["diff", "--format", "json", "--fail-on", "none", "--no-tests"], changed.root)
    assert res.code == 0, res.err
    data = json.loads(res.out)
    hits = [(f["path"], f["line"], f["rule_id"], f["severity"]) for f in data["findings"]]
    assert ("app.py", 12, "ruff.B006", "warning") in hits
    res = run_cli(
        ["diff", "--format", "json", "--fail-on", "none", "--no-tests"],
        changed.root,
        env={"REVIEWBOT_RUFF": "0"},
    )
    assert [f["rule_id"] for f in json.loads(res.out)["findings"]] == ["py.eval"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ruff:\n  extend_select: [b006]\n", "'ruff.extend_select' entry 1 must be a ruff code"),
        ("ruff:\n  ignore: ['B006,E501']\n", "'ruff.ignore' entry 1 must be a ruff code"),
        ("ruff:\n  ignore: B006\n", "'ruff.ignore' must be a list"),
        ("ruff:\n  timeout: 0\n", "'ruff.timeout' must be at least 0.1"),
        ("ruff:\n  timeout: 100000\n", "'ruff.timeout' must be at most 3600"),
        ("ruff:\n  enabled: 'yes'\n", "'ruff.enabled' must be true or false"),
        ("ruff:\n  select: [F]\n", "unknown key 'ruff.select'"),
    ],
)
def test_ruff_config_is_checked(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, None, {}, text=text)
    assert message in err.value.message


def test_ruff_config_reads_codes() -> None:
    cfg = load_config(
        None,
        None,
        {},
        text="ruff:\n  extend_select: [PLR1704, SIM]\n  ignore: [B905]\n  timeout: 5\n",
    )
    assert cfg.ruff == RuffConfig(True, ("PLR1704", "SIM"), ("B905",), 5.0)


def test_scratch_copy_goes_to_a_ram_disk_when_small_and_is_removed(tmp_path: Path) -> None:
    assert scratch_root(10, str(tmp_path)) == str(tmp_path)
    assert scratch_root(10, str(tmp_path / "missing")) is None
    assert scratch_root(MAX_SHM_BYTES + 1, str(tmp_path)) is None
    root = Path(scratch_root(10) or tempfile.gettempdir())
    before = set(root.glob("reviewbot-ruff-*"))
    with RuffJob([("a.py", b"x = 1\n", True)], RuffConfig(), RUFF) as job:
        assert set(root.glob("reviewbot-ruff-*")) - before
        job.collect()
    assert set(root.glob("reviewbot-ruff-*")) == before


def test_files_are_not_siblings_of_each_other() -> None:
    # Each copy has a folder of its own: next to another file's __init__.py, ftplib.py
    # would become module `<folder>.ftplib`, and ruff would no longer see FTP() as
    # ftplib.FTP (S321).
    files = [
        ("pkg/__init__.py", b"X = 1\n", True),
        ("ftplib.py", b"class FTP:\n    pass\n\n\ndef connect():\n    return FTP('h')\n", True),
    ]
    with RuffJob(files, RuffConfig(), RUFF) as job:
        hits = job.collect().hits
    assert [(h.code, h.line) for h in hits["ftplib.py"]] == [("S321", 6)]
