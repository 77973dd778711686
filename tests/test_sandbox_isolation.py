"""Sandbox honesty: the isolation used is recorded and said, a fork bomb is contained and
rejected, reviewbot's own environment is unreadable from a test, sandbox text is redacted.
Real subprocesses and a real pytest in the sandbox throughout."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.config import TestsConfig as SuggestConfig
from reviewbot.reporters import FORMATS
from reviewbot.result import CheckLevel, TestSuggestion
from reviewbot.suggest.check import PASSES, Candidate, check_candidates
from reviewbot.suggest.sandbox import (
    NAMESPACES,
    PROCESS,
    RunReport,
    describe,
    namespaces_available,
)
from reviewbot.suggest.sandbox_cgroup import PidsCgroup
from reviewbot.suggest.targets import HeadFiles, Target
from tests.conftest import GitRepo
from tests.suggest_support import calc_repo, config, head_targets, review

REPO_ROOT = Path(__file__).resolve().parents[1]
MODES = ["process", "namespaces"]


@pytest.fixture
def calc(git_repo: GitRepo) -> tuple[dict[str, Target], HeadFiles]:
    targets, head = head_targets(calc_repo(git_repo))
    return {t.name: t for t in targets}, head


def need(mode: str) -> None:
    if mode == "namespaces" and not namespaces_available(sys.executable):
        pytest.skip("unprivileged user namespaces are not available here")


def check(
    calc: tuple[dict[str, Target], HeadFiles], code: str, mode: str, timeout: float = 20
) -> tuple[TestSuggestion, list[RunReport]]:
    targets, head = calc
    (result,), reports = check_candidates(
        [Candidate("tests/test_divide.py", targets["divide"], code, "model:test")],
        head.read,
        frozenset(),
        SuggestConfig(run=True, timeout=timeout),
        run=True,
        base_env={"PATH": os.environ.get("PATH", os.defpath)},
        isolation=mode,
        execute=True,
    )
    return result, reports


@pytest.mark.parametrize("mode", MODES)
def test_isolation_used_is_recorded_on_each_executed_suggestion(
    calc: tuple[dict[str, Target], HeadFiles], mode: str
) -> None:
    need(mode)
    result, reports = check(
        calc, "from calc.ops import divide\n\ndef test_d():\n    assert divide(4, 2) == 2.0\n", mode
    )
    assert (result.level, result.outcome) == (CheckLevel.RAN, PASSES)
    iso = result.isolation
    assert iso.startswith(NAMESPACES if mode == "namespaces" else PROCESS), iso
    assert iso == reports[-1].isolation_detail
    assert "process" in iso.split("; ", 1)[1]


def test_describe_says_when_there_is_no_process_limit() -> None:
    assert describe(False, cgroup=False, rlimit_holds=False, processes=64) == (
        "rlimits only: no namespaces (unshare unavailable); no process limit (RLIMIT_NPROC "
        "does not bind root and no pids cgroup could be made)"
    )
    assert describe(True, cgroup=True, rlimit_holds=False, processes=64) == (
        "namespaces (user+pid+net+mount); at most 64 processes (pids cgroup)"
    )
    assert describe(False, cgroup=False, rlimit_holds=True, processes=8).endswith(
        "at most 8 processes more than the user's (RLIMIT_NPROC)"
    )


def test_weak_mode_is_in_the_reports(git_repo: GitRepo) -> None:
    repo = calc_repo(git_repo)
    result = review(repo, config(**{"tests.run": True}), isolation="process")
    executed = [t for t in result.tests if t.isolation]
    assert executed and all(t.isolation.startswith(PROCESS) for t in executed)
    assert result.weak_test_isolation and result.test_isolation == executed[0].isolation
    data = json.loads(FORMATS["json"](result, False))
    assert data["test_isolation"] == result.test_isolation
    assert {t["isolation"] for t in data["tests"]} <= {"", result.test_isolation}
    assert f"  sandbox: {result.test_isolation}\n" in FORMATS["text"](result, False)


def test_reviewbot_diff_says_on_stderr_when_namespaces_are_missing(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    repo = calc_repo(git_repo)
    bin_dir = tmp_path / "bin"  # PATH with git and python but no unshare
    bin_dir.mkdir()
    for tool in ("git", "python3"):
        found = shutil.which(tool) if tool == "git" else sys.executable
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO_ROOT),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewbot",
            "diff",
            "HEAD~1..HEAD",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["test_isolation"].startswith(PROCESS)
    line = f"reviewbot: suggested tests ran without namespace isolation: {data['test_isolation']}"
    assert done.stderr.splitlines().count(line) == 1, done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_test_cannot_read_reviewbots_environment(
    calc: tuple[dict[str, Target], HeadFiles], mode: str
) -> None:
    need(mode)
    code = f"""\
import os
import pytest
from calc.ops import divide

def test_parent_environ():
    assert divide(1, 1) == 1.0
    with pytest.raises({"PermissionError" if mode == "process" else "OSError"}):
        open("/proc/{os.getpid()}/environ", "rb").read()
    with pytest.raises(OSError):
        open("/proc/{os.getpid()}/mem", "rb").read(1)
"""
    result, _ = check(calc, code, mode)
    assert (result.level, result.outcome) == (CheckLevel.RAN, PASSES), result.reason


def test_token_in_a_test_id_is_redacted(calc: tuple[dict[str, Target], HeadFiles]) -> None:
    token = "ghp_" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3"
    code = (
        "import pytest\nfrom calc.ops import divide\n\n"
        f"@pytest.mark.parametrize('x', [{token!r}])\ndef test_d(x):\n"
        "    assert divide(1, 1) == 2\n"
    )
    result, _ = check(calc, code, "process")
    reason = result.reason
    assert "test_d[" in reason and token not in reason and "[redacted]" in reason, reason


BOMB = """\
import os
from calc.ops import divide

def test_bomb():
    assert divide(1, 1) == 1.0
    while True:
        os.fork()
"""

HARNESS = """\
import json, os, sys, time
from pathlib import Path
from reviewbot.config import TestsConfig
from reviewbot.suggest.check import Candidate, check_candidates
from reviewbot.suggest.sandbox import process_limit_enforced
from reviewbot.suggest.sandbox_cgroup import PidsCgroup
from tests.conftest import GitRepo
from tests.suggest_support import calc_repo, head_targets

mode, root, code = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
probe = PidsCgroup.create(4)
if probe is None and not process_limit_enforced(sys.executable, mode == "namespaces"):
    print(json.dumps({"skip": "reviewbot can set no process limit here"}))
    sys.exit(0)
probe.close() if probe is not None else None
root.mkdir()
repo = GitRepo(root)
repo.git("init", "-q", "-b", "main")
targets, head = head_targets(calc_repo(repo))
t = {x.name: x for x in targets}["divide"]
t0 = time.monotonic()
(r,), reports = check_candidates(
    [Candidate("tests/test_divide.py", t, code, "model:test")], head.read, frozenset(),
    TestsConfig(run=True, timeout=20), run=True, base_env={"PATH": os.environ["PATH"]},
    isolation=mode, execute=True)
print(json.dumps({"level": int(r.level), "outcome": r.outcome, "reason": r.reason,
                  "isolation": r.isolation, "seconds": time.monotonic() - t0}))
"""


@pytest.fixture
def hard_limit() -> Iterator[tuple[PidsCgroup | None, int | None]]:
    """A process limit on the whole fork-bomb run, set here, not by the code under test:
    a pids cgroup (works for root), else RLIMIT_NPROC (binds everyone else)."""
    outer = PidsCgroup.create(400)
    if outer is None and os.geteuid() == 0:
        pytest.skip(
            "no hard process limit can be set for this test here: running as root "
            "(RLIMIT_NPROC does not bind root) and no pids cgroup can be made"
        )
    nproc = None
    if outer is None:
        nproc = len([p for p in os.listdir("/proc") if p.isdigit()]) + 400
    try:
        yield outer, nproc
    finally:
        if outer is not None:
            outer.close()


@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb_is_contained_and_rejected(
    hard_limit: tuple[PidsCgroup | None, int | None], tmp_path: Path, mode: str
) -> None:
    need(mode)
    outer, nproc = hard_limit

    def contain() -> None:
        if outer is not None:
            os.write(outer.procs_fd, b"0")
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": str(REPO_ROOT),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", HARNESS, mode, str(tmp_path / "repo"), BOMB],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=contain,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    assert proc.returncode == 0, err[-2000:]
    got = json.loads(out.strip().splitlines()[-1])
    if "skip" in got:
        pytest.skip(got["skip"])
    assert (got["level"], got["outcome"]) == (int(CheckLevel.COLLECTED), "rejected"), got
    assert got["reason"] == "the test process was killed: process limit", got
    assert "no process limit" not in got["isolation"], got
    assert got["seconds"] < 20, got
    if outer is not None:
        assert outer.kill_all(rounds=1), "fork-bomb processes outlived the run"
