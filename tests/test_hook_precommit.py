"""The hook driven by the real pre-commit framework and real `git commit` / `git push`.

The repository under test uses a `repo: local` hook built from this project's
.pre-commit-hooks.yaml (same types, pass_filenames, require_serial), with `language: system`
and the entry pointing at this venv's `reviewbot`, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import GitRepo

PROJECT = Path(__file__).resolve().parent.parent
MANIFEST = PROJECT / ".pre-commit-hooks.yaml"
REVIEWBOT = Path(sys.executable).with_name("reviewbot")
BAD = "def run(user_input):\n    return eval(user_input)\n"
CLEAN = "def add(a, b):\n    return a + b\n"
EVAL_TITLE = "eval() on a non-constant value"


def manifest_hook() -> dict[str, object]:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return next(h for h in hooks if h["id"] == "reviewbot")


class Hooked:
    """A repository with pre-commit installed for the pre-commit and pre-push stages."""

    def __init__(
        self,
        repo: GitRepo,
        home: Path,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.repo = repo
        self.root = repo.root
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GIT_", "REVIEWBOT_", "PRE_COMMIT"))
        }
        self.env = {
            **base,
            "PRE_COMMIT_HOME": str(home),
            "NO_COLOR": "1",
            "GIT_AUTHOR_NAME": "T",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "T",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            **(env or {}),
        }
        hook = {
            **manifest_hook(),
            "language": "system",
            "entry": f"{shlex.quote(str(REVIEWBOT))} hook",
            "stages": ["pre-commit", "pre-push", "manual"],
            "verbose": True,
        }  # show the report when the hook passes too
        if args:
            hook["args"] = args
        repo.write(
            ".pre-commit-config.yaml",
            yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]}),
        )
        repo.write("README.md", "hello\n")
        repo.write("app.py", CLEAN)
        repo.commit("init")
        self.run(
            "-m",
            "pre_commit",
            "install",
            "--hook-type",
            "pre-commit",
            "--hook-type",
            "pre-push",
            check=True,
        )

    def run(
        self, *argv: str, check: bool = False, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, *argv], check, env)

    def git(
        self, *argv: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self._run(["git", *argv], False, env)

    def pre_commit(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "pre_commit", "run", *argv)

    def _run(
        self, cmd: list[str], check: bool, env: dict[str, str] | None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            cmd,
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()


@pytest.fixture
def hooked(git_repo: GitRepo, tmp_path: Path) -> Hooked:
    return Hooked(git_repo, tmp_path / "pre-commit-home")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_manifest_is_valid_and_defaults_to_push_and_manual() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hook = manifest_hook()
    assert hook["entry"] == "reviewbot hook" and hook["language"] == "python"
    assert hook["require_serial"] is True and hook["pass_filenames"] is True
    assert hook["stages"] == ["pre-push", "manual"]


def test_commit_with_a_static_finding_is_blocked(hooked: Hooked) -> None:
    before = hooked.head()
    hooked.repo.write("bad.py", BAD)
    hooked.git("add", "bad.py")
    proc = hooked.git("commit", "-m", "add eval")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "reviewbot hook: reviewing staged changes: 1 file (of 1 file given)" in out
    assert "bad.py" in out and EVAL_TITLE in out and "| return eval(user_input)" in out
    assert "reviewbot: 1 finding (1 error)" in out
    assert hooked.head() == before
    # The staged change is still staged, untouched.
    assert hooked.git("diff", "--cached", "--name-only").stdout.split() == ["bad.py"]


def test_clean_commit_passes(hooked: Hooked) -> None:
    hooked.repo.write("lib.py", CLEAN)
    hooked.git("add", "lib.py")
    proc = hooked.git("commit", "-m", "clean")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert hooked.git("log", "-1", "--format=%s").stdout.strip() == "clean"


def test_commit_all_and_commit_path_review_gits_temporary_index(hooked: Hooked) -> None:
    """The change is only in the working tree: `git commit -a` / `git commit PATH` stage it
    into a temporary index (GIT_INDEX_FILE); .git/index never sees it."""
    before = hooked.head()
    hooked.repo.write("app.py", CLEAN + BAD)
    for argv in (["commit", "-a", "-m", "all"], ["commit", "-m", "path", "app.py"]):
        proc = hooked.git(*argv)
        out = proc.stdout + proc.stderr  # git hooks write to stderr
        assert proc.returncode != 0 and EVAL_TITLE in out, out
        assert "reviewing staged changes: 1 file" in out
    assert hooked.head() == before


def test_closed_llm_port_does_not_block_unless_strict(git_repo: GitRepo, tmp_path: Path) -> None:
    llm = {"REVIEWBOT_LLM_URL": f"http://127.0.0.1:{closed_port()}/v1", "REVIEWBOT_MODEL": "m"}
    hooked = Hooked(git_repo, tmp_path / "home", env=llm)
    hooked.repo.write("lib.py", CLEAN)
    hooked.git("add", "lib.py")
    proc = hooked.git("commit", "-m", "clean")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert len([ln for ln in out.splitlines() if "model skipped" in ln]) == 1, out
    hooked.repo.write("lib.py", CLEAN + "\n\ndef sub(a, b):\n    return a - b\n")
    hooked.git("add", "lib.py")
    proc = hooked.git("commit", "-m", "strict", env={"REVIEWBOT_REQUIRE_MODEL": "1"})
    assert proc.returncode != 0 and "127.0.0.1" in proc.stdout + proc.stderr


def test_strict_flag_in_the_hook_args(git_repo: GitRepo, tmp_path: Path) -> None:
    llm = {"REVIEWBOT_LLM_URL": f"http://127.0.0.1:{closed_port()}/v1", "REVIEWBOT_MODEL": "m"}
    hooked = Hooked(git_repo, tmp_path / "home", args=["--strict"], env=llm)
    hooked.repo.write("lib.py", CLEAN)
    hooked.git("add", "lib.py")
    proc = hooked.git("commit", "-m", "clean")
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "reviewbot: error:" in proc.stdout + proc.stderr


def test_pre_push_stage_reviews_from_ref_to_ref(hooked: Hooked) -> None:
    base = hooked.head()
    hooked.repo.write("bad.py", BAD)
    hooked.git("add", "bad.py")
    hooked.git("commit", "--no-verify", "-m", "eval")
    bad = hooked.head()
    hooked.repo.write("lib.py", CLEAN)
    hooked.git("add", "lib.py")
    hooked.git("commit", "--no-verify", "-m", "clean")
    tip = hooked.head()
    proc = hooked.pre_commit("--hook-stage", "pre-push", "--from-ref", bad, "--to-ref", tip)
    assert proc.returncode == 0, proc.stdout
    proc = hooked.pre_commit(
        "--hook-stage", "pre-push", "--from-ref", base, "--to-ref", tip, "--verbose"
    )
    assert proc.returncode == 1, proc.stdout
    assert f"reviewing commits {base[:10]}..{tip[:10]}, diffed from their merge base" in proc.stdout
    assert EVAL_TITLE in proc.stdout


def test_git_push_is_blocked_by_a_finding_in_the_pushed_commits(
    hooked: Hooked, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    hooked.git("remote", "add", "origin", str(remote))
    first = hooked.git("push", "-q", "origin", "main")  # new branch: whole history reviewed
    assert first.returncode == 0, first.stdout + first.stderr
    assert "reviewing all of refs/heads/main" in first.stdout + first.stderr
    pushed = hooked.head()
    hooked.repo.write("bad.py", BAD)
    hooked.git("add", "bad.py")
    hooked.git("commit", "--no-verify", "-m", "eval")
    proc = hooked.git("push", "-q", "origin", "main")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and EVAL_TITLE in out, out
    assert "(push to origin refs/heads/main)" in out
    remote_head = subprocess.run(
        ["git", "--git-dir", str(remote), "rev-parse", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert remote_head == pushed


def test_all_files_reviews_uncommitted_changes_or_says_nothing_changed(hooked: Hooked) -> None:
    proc = hooked.pre_commit("--all-files", "--verbose")
    assert proc.returncode == 0, proc.stdout
    assert "nothing to review: nothing is staged, and the 3 files given have no changes" in (
        proc.stdout
    )
    hooked.repo.write("app.py", CLEAN + BAD)  # modified, not staged
    proc = hooked.pre_commit("--all-files")
    assert proc.returncode == 1, proc.stdout
    assert "uncommitted changes (nothing is staged), working tree vs HEAD: 1 file" in proc.stdout
    assert EVAL_TITLE in proc.stdout


def test_only_the_files_pre_commit_selects_are_reviewed(hooked: Hooked) -> None:
    hooked.repo.write("one.py", BAD)
    hooked.repo.write("two.py", BAD)
    hooked.git("add", "one.py", "two.py")
    proc = hooked.pre_commit("--files", "one.py")
    assert proc.returncode == 1, proc.stdout
    assert "one.py" in proc.stdout and "two.py" not in proc.stdout
