"""Every diff source of `reviewbot diff`, run through the real CLI on real repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GitRepo, run_cli

BASE = "def f(x):\n    return x\n"


def _json(args: list[str], cwd: Path, stdin: bytes = b"") -> dict[str, Any]:
    res = run_cli(
        ["diff", *args, "--format", "json", "--fail-on", "none", "--no-tests"], cwd, stdin=stdin
    )
    assert res.code == 0, res.err
    data: dict[str, Any] = json.loads(res.out)
    return data


def _hits(data: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(f["path"], f["line"], f["rule_id"]) for f in data["findings"]]


@pytest.fixture
def history(git_repo: GitRepo) -> dict[str, str]:
    """main: c1 (base) -> c2 (eval in a.py) ; feature from c1: c3 (yaml.load in b.py).
    Working tree on main: a bare except in a.py (unstaged) and c.py staged."""
    git_repo.write("a.py", BASE)
    c1 = git_repo.commit("c1")
    git_repo.git("checkout", "-q", "-b", "feature")
    git_repo.write("b.py", "import yaml\n\n\ndef load(s):\n    return yaml.load(s)\n")
    c3 = git_repo.commit("c3")
    git_repo.git("checkout", "-q", "main")
    git_repo.write("a.py", "def f(x):\n    return eval(x)\n")
    c2 = git_repo.commit("c2")
    git_repo.write("c.py", "def g(items=[]):\n    return items\n")
    git_repo.git("add", "c.py")
    git_repo.write(
        "a.py", "def f(x):\n    try:\n        return eval(x)\n    except:\n        pass\n"
    )
    return {"c1": c1, "c2": c2, "c3": c3}


def test_default_is_working_tree_vs_head(git_repo: GitRepo, history: dict[str, str]) -> None:
    data = _json([], git_repo.root)
    assert data["label"] == "working tree vs HEAD"
    # the staged c.py is part of the working tree too; the re-indented eval is a new line
    assert _hits(data) == [
        ("a.py", 3, "py.eval"),
        ("a.py", 4, "ruff.E722"),
        ("c.py", 1, "ruff.B006"),
    ]


def test_staged_reviews_only_the_index(git_repo: GitRepo, history: dict[str, str]) -> None:
    data = _json(["--staged"], git_repo.root)
    assert data["label"] == "staged changes"
    assert _hits(data) == [("c.py", 1, "ruff.B006")]


def test_single_rev_is_working_tree_vs_rev(git_repo: GitRepo, history: dict[str, str]) -> None:
    data = _json([history["c1"]], git_repo.root)
    assert data["label"] == f"working tree vs {history['c1']}"
    assert _hits(data) == [
        ("a.py", 3, "py.eval"),
        ("a.py", 4, "ruff.E722"),
        ("c.py", 1, "ruff.B006"),
    ]


def test_two_dot_range(git_repo: GitRepo, history: dict[str, str]) -> None:
    data = _json(["HEAD~1..HEAD"], git_repo.root)
    assert (data["label"], data["head_sha"]) == ("HEAD~1..HEAD", history["c2"])
    assert _hits(data) == [("a.py", 2, "py.eval")]
    # A..B between branches includes both sides' differences (B's view)
    data = _json(["main..feature"], git_repo.root)
    assert _hits(data) == [("b.py", 5, "py.yaml-load")]
    assert [s["path"] for s in data["coverage"]["skipped"]] == []
    assert data["coverage"]["files_total"] == 2  # a.py differs too (eval removed on feature)


def test_three_dot_range_uses_merge_base(git_repo: GitRepo, history: dict[str, str]) -> None:
    data = _json(["main...feature"], git_repo.root)
    assert (data["label"], data["head_sha"]) == ("main...feature", history["c3"])
    assert data["coverage"]["files_total"] == 1
    assert _hits(data) == [("b.py", 5, "py.yaml-load")]
    # the head is read from git objects, not from the (different) working tree
    assert not (git_repo.root / "b.py").exists()


def test_patch_file_and_stdin(git_repo: GitRepo, history: dict[str, str], tmp_path: Path) -> None:
    patch = git_repo.git("diff", "HEAD~1", "HEAD").encode()
    path = tmp_path / "change.patch"
    path.write_bytes(patch)
    from_file = _json(["--patch", str(path)], git_repo.root)
    from_stdin = _json(["--patch", "-"], git_repo.root, stdin=patch)
    assert from_file["label"] == f"patch {path}" and from_stdin["label"] == "patch from stdin"
    assert _hits(from_file) == _hits(from_stdin) == [("a.py", 2, "py.eval")]
    # outside any repository a patch is still reviewed (head synthesized from the diff)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert _hits(_json(["--patch", str(path)], outside)) == [("a.py", 2, "py.eval")]


def test_patch_via_real_stdin_subprocess(git_repo: GitRepo, history: dict[str, str]) -> None:
    patch = git_repo.git("diff", "HEAD~1", "HEAD").encode()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewbot",
            "diff",
            "--patch",
            "-",
            "--format",
            "json",
            "--no-tests",
        ],
        input=patch,
        capture_output=True,
        cwd=git_repo.root,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # py.eval is an error; fail_on defaults to error
    assert _hits(json.loads(proc.stdout)) == [("a.py", 2, "py.eval")]


def test_repository_without_commits(git_repo: GitRepo) -> None:
    git_repo.write("new.py", "def f(x):\n    return eval(x)\n")
    git_repo.git("add", "new.py")
    data = _json([], git_repo.root)
    assert data["label"] == "working tree (no commits yet)"
    assert _hits(data) == [("new.py", 2, "py.eval")]
    staged = _json(["--staged"], git_repo.root)
    assert _hits(staged) == [("new.py", 2, "py.eval")]


def test_outside_a_repository_is_exit_2(tmp_path: Path) -> None:
    res = run_cli(["diff"], tmp_path)
    assert res.code == 2
    assert "not inside a git repository" in res.err and "--patch" in res.err
    assert "Traceback" not in res.err


@pytest.mark.parametrize(
    "args, needle",
    [
        (["no-such-rev"], "unknown revision 'no-such-rev'"),
        (["main..nope"], "unknown revision 'nope'"),
        (["nope...main"], "unknown revision 'nope'"),
        (["--patch", "/no/such/file.patch"], "cannot read patch file"),
        (["--patch", "x.patch", "HEAD"], "cannot be combined"),
        (["--staged", "--patch", "-"], "not allowed with argument"),
    ],
)
def test_bad_sources_are_exit_2(
    git_repo: GitRepo, history: dict[str, str], args: list[str], needle: str
) -> None:
    res = run_cli(["diff", *args], git_repo.root)
    assert res.code == 2, res.err
    assert "Traceback" not in res.err
    if needle == "not allowed with argument":
        return  # argparse prints its usage error to the real stderr
    assert needle in res.err


def test_empty_change_is_clean(git_repo: GitRepo) -> None:
    git_repo.write("a.py", BASE)
    git_repo.commit()
    res = run_cli(["diff", "--no-tests"], git_repo.root)
    assert res.code == 0
    assert "no findings; reviewed 0 of 0 files (0 of 0 changed lines)" in res.out


def test_three_dot_range_without_common_ancestor(git_repo: GitRepo) -> None:
    git_repo.write("a.py", BASE)
    git_repo.commit()
    git_repo.git("checkout", "-q", "--orphan", "other")
    git_repo.git("rm", "-rqf", ".")
    git_repo.write("b.py", "import os\n\nprint(os.sep)\n")
    git_repo.commit()
    res = run_cli(["diff", "main...other", "--no-tests"], git_repo.root)
    assert res.code == 2 and "no common ancestor" in res.err and "main..other" in res.err
    assert _json(["main..other"], git_repo.root)["coverage"]["files_total"] == 2


def test_patch_stdin_from_a_terminal_is_refused(tmp_path: Path) -> None:
    import io

    from reviewbot.cli import main
    from reviewbot.io import IO

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = io.StringIO()
    code = main(["diff", "--patch", "-"], IO(io.StringIO(), err, Tty(), {}, tmp_path))
    assert code == 2 and "pipe a diff in" in err.getvalue()


def test_untracked_files_are_reviewed_as_new_files(git_repo: GitRepo) -> None:
    git_repo.write("README.md", "x\n")
    git_repo.commit("base")
    git_repo.write("new.py", "def f(x):\n    return eval(x)\n")
    git_repo.write(".gitignore", "ignored.py\n")
    git_repo.write("ignored.py", "eval(input())\n")
    index = git_repo.root / ".git" / "index"
    before = index.read_bytes()
    res = run_cli(["diff", "--format", "json", "--no-tests"], git_repo.root)
    data = json.loads(res.out)
    assert {f["path"] for f in data["findings"]} == {"new.py"}, res.err
    assert "untracked" in data["label"]
    assert index.read_bytes() == before, "the real index is never written"
    res = run_cli(["diff", "--format", "json", "--no-tests", "--no-untracked"], git_repo.root)
    assert json.loads(res.out)["findings"] == []


def test_empty_tree_constant_is_gits_empty_tree(git_repo: GitRepo) -> None:
    """The one EMPTY_TREE (sources.py; the hook's whole-branch plan uses it too) is the id
    git itself computes for an empty tree."""
    from reviewbot import hook_sources, sources

    assert git_repo.git("hash-object", "-t", "tree", "/dev/null").strip() == sources.EMPTY_TREE
    assert hook_sources.EMPTY_TREE is sources.EMPTY_TREE
