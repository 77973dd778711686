"""`reviewbot hook` run in-process on real git repositories: what it reviews, and that it
only reads git (the pre-commit framework itself is driven in test_hook_precommit.py)."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
from pathlib import Path

import pytest

from reviewbot.cli import build_parser
from reviewbot.commands.hook import HOOK_CONNECT_TIMEOUT, hook_options
from reviewbot.commands.review_flow import local_config
from reviewbot.errors import ReviewbotError
from reviewbot.hook_sources import to_pathspecs
from reviewbot.io import IO
from tests.conftest import GitRepo, run_cli

BAD = "def run(user_input):\n    return eval(user_input)\n"
CLEAN = "def add(a, b):\n    return a + b\n"
EVAL_TITLE = "eval() on a non-constant value"


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("README.md", "hello\n")
    git_repo.write("app.py", CLEAN)
    git_repo.commit("init")
    return git_repo


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_staged_finding_fails_with_the_line_shown(repo: GitRepo) -> None:
    repo.write("bad.py", BAD)
    repo.git("add", "bad.py")
    r = run_cli(["hook"], repo.root)
    assert r.code == 1, r.out + r.err
    assert r.out.startswith("reviewbot hook: reviewing staged changes: 1 file\n")
    assert "bad.py\n" in r.out and EVAL_TITLE in r.out
    assert "| return eval(user_input)" in r.out
    assert r.out.rstrip().splitlines()[-1].startswith("reviewbot: 1 finding (1 error)")


def test_fail_on_none_reports_but_passes(repo: GitRepo) -> None:
    repo.write("bad.py", BAD)
    repo.git("add", "bad.py")
    r = run_cli(["hook", "--fail-on", "none"], repo.root)
    assert r.code == 0 and EVAL_TITLE in r.out


def test_only_the_given_files_are_reviewed_and_names_are_literal(repo: GitRepo) -> None:
    # As a glob, "[id].py" would also match i.py and d.py: pathspecs must be literal.
    for name in ("[id].py", "i.py", "d.py"):
        repo.write(name, BAD)
    repo.git("add", ".")
    r = run_cli(["hook", "[id].py"], repo.root)
    assert r.code == 1
    assert "staged changes: 1 file (of 1 file given)" in r.out
    assert "[id].py\n" in r.out and "\ni.py\n" not in r.out and "\nd.py\n" not in r.out


def test_filenames_are_relative_to_the_working_directory(repo: GitRepo) -> None:
    repo.write("pkg/mod.py", BAD)
    repo.write("other.py", BAD)
    repo.git("add", ".")
    r = run_cli(["hook", "mod.py"], repo.root / "pkg")
    assert r.code == 1 and "pkg/mod.py\n" in r.out and "other.py" not in r.out


def test_a_file_outside_the_repository_is_an_error(repo: GitRepo, tmp_path: Path) -> None:
    with pytest.raises(ReviewbotError, match="outside the repository"):
        to_pathspecs([str(tmp_path / "elsewhere.py")], repo.root, repo.root)
    r = run_cli(["hook", "../elsewhere.py"], repo.root)
    assert r.code == 2 and "outside the repository" in r.err


def test_nothing_staged_reviews_uncommitted_changes_of_the_given_files(repo: GitRepo) -> None:
    # `pre-commit run --all-files` passes every file and stashes nothing.
    repo.write("app.py", CLEAN + BAD)
    r = run_cli(["hook", "README.md", "app.py"], repo.root)
    assert r.code == 1
    assert (
        "reviewing uncommitted changes (nothing is staged), working tree vs HEAD: "
        "1 file (of 2 files given)"
    ) in r.out
    assert EVAL_TITLE in r.out


def test_nothing_changed_says_so_and_passes(repo: GitRepo) -> None:
    repo.write("new.py", BAD)  # untracked: not part of any commit yet
    r = run_cli(["hook", "README.md", "app.py"], repo.root)
    assert r.code == 0
    assert r.out == (
        "reviewbot hook: nothing to review: nothing is staged, and the 2 files "
        "given have no changes against HEAD\n"
    )
    r = run_cli(["hook", "new.py"], repo.root)
    assert r.code == 0 and "untracked, so not reviewed (`git add` them first): new.py" in r.out
    r = run_cli(["hook"], repo.root)
    assert r.code == 0 and "the working tree has no changes against HEAD" in r.out


def test_first_commit_in_an_empty_repository(git_repo: GitRepo) -> None:
    git_repo.write("bad.py", BAD)
    git_repo.git("add", "bad.py")
    r = run_cli(["hook", "bad.py"], git_repo.root)
    assert r.code == 1 and EVAL_TITLE in r.out


def test_reads_the_index_git_hands_the_hook(repo: GitRepo) -> None:
    """`git commit -a` / `git commit PATH` stage into a temporary GIT_INDEX_FILE; the review
    must read that index, not .git/index (which does not have the change yet)."""
    repo.write("app.py", CLEAN + BAD)
    tmp_index = repo.root / ".git" / "next-index-test.lock"
    env = dict(os.environ, GIT_INDEX_FILE=str(tmp_index))
    env = {k: v for k, v in env.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo.root, env=env, check=True)
    subprocess.run(["git", "add", "app.py"], cwd=repo.root, env=env, check=True)
    r = run_cli(["hook", "app.py"], repo.root)  # .git/index: the change is not staged there
    assert "nothing is staged" in r.out
    r = run_cli(["hook", "app.py"], repo.root, {"GIT_INDEX_FILE": str(tmp_index)})
    assert r.code == 1 and "staged changes: 1 file" in r.out and EVAL_TITLE in r.out
    # git gives a relative path for a plain commit; it is relative to the hook's directory.
    repo.git("add", "app.py")
    r = run_cli(["hook"], repo.root, {"GIT_INDEX_FILE": ".git/index"})
    assert r.code == 1 and EVAL_TITLE in r.out


def test_other_git_variables_are_scrubbed(repo: GitRepo, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    repo.write("bad.py", BAD)
    repo.git("add", "bad.py")
    r = run_cli(["hook"], repo.root, {"GIT_DIR": str(other), "GIT_WORK_TREE": str(other)})
    assert r.code == 1 and EVAL_TITLE in r.out


def _snapshot(repo: GitRepo) -> tuple[str, str, dict[str, bytes]]:
    index = hashlib.sha256((repo.root / ".git" / "index").read_bytes()).hexdigest()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    status = subprocess.run(  # GIT_OPTIONAL_LOCKS=0: status itself must not refresh the index
        ["git", "status", "--porcelain=v1", "--untracked-files=all"],
        cwd=repo.root,
        env={**env, "GIT_OPTIONAL_LOCKS": "0"},
        capture_output=True,
        check=True,
    ).stdout.decode()
    files = {
        str(p.relative_to(repo.root)): p.read_bytes()
        for p in repo.root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }
    return index, status, files


def test_never_touches_the_index_or_the_working_tree(repo: GitRepo) -> None:
    repo.write("app.py", CLEAN + BAD)
    repo.git("add", "app.py")
    repo.write("app.py", CLEAN + BAD + "# unstaged\n")  # partially staged
    repo.write("loose.py", BAD)
    # stat-dirty, content unchanged: a refreshing `git diff` would rewrite the index
    os.utime(repo.root / "README.md", (1_000_000_000, 1_000_000_000))
    before = _snapshot(repo)
    head = ["--from-ref", "HEAD", "--to-ref", "HEAD"]
    for argv in (["hook"], ["hook", "README.md"], ["hook", *head]):
        run_cli(argv, repo.root)
    assert _snapshot(repo) == before


def test_pre_push_refs_review_only_the_pushed_commits(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD").strip()
    repo.write("bad.py", BAD)
    bad = repo.commit("add eval")
    repo.write("ok.py", CLEAN)
    tip = repo.commit("clean")
    r = run_cli(
        ["hook"],
        repo.root,
        {
            "PRE_COMMIT_FROM_REF": bad,
            "PRE_COMMIT_TO_REF": tip,
            "PRE_COMMIT_REMOTE_NAME": "origin",
            "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main",
        },
    )
    assert r.code == 0, r.out
    assert r.out.startswith(
        f"reviewbot hook: reviewing commits {bad[:10]}..{tip[:10]} (push to origin "
        "refs/heads/main), diffed from their merge base: 1 file"
    )
    r = run_cli(["hook"], repo.root, {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": tip})
    assert r.code == 1 and "bad.py\n" in r.out and EVAL_TITLE in r.out
    r = run_cli(["hook", "--from-ref", base, "--to-ref", tip, "ok.py"], repo.root)
    assert r.code == 0 and "2 files" not in r.out


def test_pre_push_range_without_a_merge_base(repo: GitRepo) -> None:
    main = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "--orphan", "island")
    repo.git("rm", "-rq", "--cached", ".")
    repo.write("bad.py", BAD)
    repo.git("add", "bad.py")
    repo.git("commit", "-qm", "unrelated history")
    tip = repo.git("rev-parse", "HEAD").strip()
    r = run_cli(["hook", "--from-ref", main, "--to-ref", tip], repo.root)
    assert r.code == 1 and "no merge base, diffed directly" in r.out and EVAL_TITLE in r.out


def test_push_of_a_branch_the_remote_has_none_of(repo: GitRepo) -> None:
    repo.write("bad.py", BAD)
    repo.commit("eval")
    env = {
        "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main",
        "PRE_COMMIT_REMOTE_NAME": "origin",
        "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/main",
    }
    r = run_cli(["hook", "README.md", "app.py", "bad.py"], repo.root, env)
    assert r.code == 1
    assert "all of refs/heads/main (origin has none of its history): 3 files" in r.out


def test_from_ref_without_to_ref_is_a_usage_error(repo: GitRepo) -> None:
    r = run_cli(["hook", "--from-ref", "HEAD"], repo.root)
    assert r.code == 2 and "--from-ref and --to-ref go together" in r.err


def test_hook_config_short_connect_timeout_and_strict(repo: GitRepo) -> None:
    parser = build_parser()
    quiet = IO(io.StringIO(), io.StringIO(), io.StringIO(), {}, repo.root)
    args = parser.parse_args(["hook"])
    cfg = local_config(hook_options(args), quiet.env, repo.root)
    assert cfg.llm.connect_timeout == HOOK_CONNECT_TIMEOUT == 2.0
    assert not cfg.llm.require_model and not cfg.tests.enabled
    args = parser.parse_args(["hook", "--strict", "--connect-timeout", "0.5"])
    cfg = local_config(hook_options(args), quiet.env, repo.root)
    assert cfg.llm.connect_timeout == 0.5 and cfg.llm.require_model


def test_closed_llm_port_runs_static_checks_with_one_notice(repo: GitRepo) -> None:
    env = {"REVIEWBOT_LLM_URL": f"http://127.0.0.1:{closed_port()}/v1", "REVIEWBOT_MODEL": "m"}
    repo.write("ok.py", CLEAN)
    repo.git("add", "ok.py")
    r = run_cli(["hook"], repo.root, env)
    assert r.code == 0, r.out + r.err
    notices = [ln for ln in (r.out + r.err).splitlines() if "model skipped" in ln]
    assert len(notices) == 1, r.out + r.err
    repo.write("bad.py", BAD)
    repo.git("add", "bad.py")
    r = run_cli(["hook"], repo.root, env)
    assert r.code == 1 and EVAL_TITLE in r.out  # decided on what was checked
    r = run_cli(["hook", "--strict"], repo.root, env)
    assert r.code == 2 and "127.0.0.1" in r.err
    r = run_cli(["hook"], repo.root, {**env, "REVIEWBOT_REQUIRE_MODEL": "1"})
    assert r.code == 2


def test_hook_options_ask_for_the_terminal_report_and_no_tests() -> None:
    """The hook has no --format/--output/--tests-out flags: its typed options say what it
    wants (no faked argparse defaults), and they cannot be changed afterwards."""
    import dataclasses

    args = build_parser().parse_args(["hook", "--backend", "static", "--import", "x.sarif"])
    opts = hook_options(args)
    assert (opts.format, opts.output, opts.tests_out) == ("text", None, None)
    assert not opts.suggest_tests and opts.run_tests is False
    assert opts.imports == ("x.sarif",) and opts.config.backend == "static"
    assert opts.config_overrides()["tests.enabled"] is False
    assert opts.config_overrides()["llm.connect_timeout"] == HOOK_CONNECT_TIMEOUT
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.format = "json"  # type: ignore[misc]
    assert not hasattr(args, "format") and not hasattr(args, "tests_out")
