"""``linters:`` in .reviewbot.yml: run by `reviewbot diff` and the hook on the changed files
(real shellcheck and ruff), bounded by a timeout, and never run by the Action."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reviewbot.config import load_config
from reviewbot.errors import ConfigError
from tests import linter_tools
from tests.conftest import GitRepo, run_cli
from tests.github_support import file_patches, shop_repo
from tests.test_action import NUMBER, REPO, Runner, fake, payload

__all__ = ["fake"]  # fixture used by name

SH = "#!/bin/sh\necho $1\nfor f in $(ls *.txt); do\n  cat $f\ndone\n"


def _yaml_list(argv: list[str]) -> str:
    return "[" + ", ".join(json.dumps(a) for a in argv) + "]"


def test_diff_runs_configured_linters_on_matching_changed_files(git_repo: GitRepo) -> None:
    sc = linter_tools.shellcheck()
    ruff = linter_tools.ruff() + ["--select", "F", "--output-format", "sarif"]
    git_repo.write(
        ".reviewbot.yml",
        (
            "linters:\n"
            f"  - name: shellcheck\n    command: {_yaml_list(sc + ['-f', 'checkstyle'])}\n"
            "    files: ['*.sh']\n"
            f"  - name: ruff\n    command: {_yaml_list(ruff)}\n"
            "    format: sarif\n    timeout: 60\n"
            "    files: ['*.py']\n"
        ),
    )
    git_repo.write("s.sh", "#!/bin/sh\necho $1\n")
    git_repo.commit("base")
    git_repo.write("s.sh", SH)
    git_repo.write("a.py", "import os\n")
    git_repo.write("notes.txt", "$(ls) $x\n")
    res = run_cli(["diff", "--format", "json", "--no-tests"], git_repo.root)
    assert res.code == 1, res.err
    data = json.loads(res.out)
    got = {(f["path"], f["line"], f["source"]) for f in data["findings"]}
    assert ("s.sh", 3, "shellcheck.SC2045") in got and ("s.sh", 4, "shellcheck.SC2086") in got
    assert ("a.py", 1, "ruff.F401") in got
    assert not any(p == "notes.txt" for p, _, _ in got)
    assert data["dropped"]["imported, not on an added line"] == 1  # SC2086 on old line 2
    notes = "\n".join(data["coverage"]["notes"])
    assert "linter shellcheck (checkstyle)" in notes and "linter ruff (sarif)" in notes


def test_a_linter_that_hangs_is_killed_and_the_review_goes_on(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    marker = tmp_path / "late"
    script = f"import time, pathlib; time.sleep(20); pathlib.Path({str(marker)!r}).touch()"
    git_repo.write(
        ".reviewbot.yml",
        (
            "linters:\n"
            f"  - name: slow\n    command: {_yaml_list([sys.executable, '-c', script])}\n"
            "    timeout: 0.5\n"
            "  - name: missing\n    command: [no-such-linter-here]\n"
        ),
    )
    git_repo.commit("base")
    git_repo.write("a.py", "def f(x=[]):\n    return x\n")
    res = run_cli(["diff", "--no-tests"], git_repo.root)
    assert res.code == 0, res.err
    assert "reviewbot: linter slow timed out after 0.5 s" in res.err
    assert "reviewbot: linter missing could not be started: no-such-linter-here" in res.err
    assert "ruff.B006" in res.out
    assert "note: linter slow timed out after 0.5 s" in res.out  # in the report too
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("linters:\n  - name: a\n    command: 'sh -c x'\n", r"command' must be a list"),
        ("linters:\n  - name: a\n    command: [a]\n    timeout: 99999\n", r"between 0\.1 and 3600"),
        ("linters:\n  - name: a\n    command: [a]\n    format: xml\n", r"'format' must be one of"),
        ("linters:\n  - name: a\n    command: []\n", r"has no command"),
        ("linters:\n  - name: a\n    command: [a]\n  - name: a\n    command: [b]\n", r"used twice"),
    ],
)
def test_bad_linter_entries_are_config_errors(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(text=text)


def test_action_never_runs_a_linter_from_the_config(
    fake: object, git_repo: GitRepo, tmp_path: Path
) -> None:
    """A linter in the base branch's config (and in the checked-out PR head's) would create
    a marker file: the Action runs neither, and says so in the report."""
    marker = tmp_path / "ran"
    script = f"import pathlib; pathlib.Path({str(marker)!r}).touch()"
    argv = _yaml_list([sys.executable, "-c", script])
    config = f"linters:\n  - name: evil\n    command: {argv}\n"
    base, head = shop_repo(git_repo, config=config)
    pr = payload("opened")["pull_request"]
    fake.open_pr(
        REPO,
        NUMBER,
        file_patches(git_repo, base, head),  # type: ignore[attr-defined]
        base_sha=pr["base"]["sha"],
        head_sha=pr["head"]["sha"],
        base_contents={".reviewbot.yml": config.encode()},
    )
    runner = Runner(fake, git_repo, tmp_path, base, head)  # type: ignore[arg-type]
    proc, _, summary = runner.run(payload("opened"))
    assert proc.returncode == 1, proc.stderr
    assert not marker.exists()
    assert "linters configured in .reviewbot.yml were not run" in summary
    assert "`import` input" in summary
    # the same config run locally does run it (so the test would see a linter that ran)
    run_cli(["diff", "--no-tests", f"{base}..{head}"], git_repo.root)
    assert marker.exists()
