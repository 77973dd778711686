from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reviewbot import __version__
from tests.conftest import GitRepo, run_cli

EXAMPLE = Path(__file__).parent.parent / "examples" / "shop-change.patch"


def test_version_subprocess() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reviewbot", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("reviewbot ")


def test_example_patch_static_review(tmp_path: Path) -> None:
    res = run_cli(["diff", "--patch", str(EXAMPLE), "--format", "json"], tmp_path)
    assert res.code == 1, res.err
    data = json.loads(res.out)
    rules = {f["rule_id"] for f in data["findings"]}
    assert {"py.sql-injection", "ruff.B006", "js.eval", "js.inner-html"} <= rules
    sql = next(f for f in data["findings"] if f["rule_id"] == "py.sql-injection")
    assert (sql["path"], sql["line"], sql["side"]) == ("shop/orders.py", 17, "RIGHT")


def test_working_tree_review_finds_added_eval(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "def f(x):\n    return x\n")
    git_repo.commit("base")
    git_repo.write("a.py", "def f(x):\n    return eval(x)\n")
    res = run_cli(["diff", "--format", "json", "--fail-on", "none"], git_repo.root)
    assert res.code == 0, res.err
    data = json.loads(res.out)
    hits = [(f["path"], f["line"], f["rule_id"]) for f in data["findings"]]
    assert hits == [("a.py", 2, "py.eval")]


def test_malformed_patch_is_exit_2(tmp_path: Path) -> None:
    bad = b"--- a/x.py\n+++ b/x.py\n@@ -1,1 +1,1 @@\n-a\n+b\n+c\n"
    res = run_cli(["diff", "--patch", "-"], tmp_path, stdin=bad)
    assert res.code == 2
    assert "x.py" in res.err and "more lines than its header" in res.err


def test_start_up_imports_nothing_heavy() -> None:
    """`reviewbot --version` must start fast: the CLI module and the package import no
    parser, grammar, HTTP or YAML library, and --version builds no command parsers."""
    code = (
        "import sys; from reviewbot.cli import main; main(['--version']); "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'tree_sitter', 'unidiff', 'yaml', 'httpx', 'github', 'jsonschema'} "
        "or m.startswith('reviewbot.commands.') or m.startswith('reviewbot.engine'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [f"reviewbot {__version__}", ""]


def test_io_is_still_importable_from_the_cli_module() -> None:
    """``IO`` moved to ``reviewbot.io``; code that imports it from ``reviewbot.cli`` keeps
    working (the same class, not a copy)."""
    import reviewbot.cli
    import reviewbot.io

    assert reviewbot.cli.IO is reviewbot.io.IO
    assert reviewbot.cli.default_io is reviewbot.io.default_io
