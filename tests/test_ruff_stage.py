"""ruff started on the head files an ``A..B`` source read early: already at work while the
diff is parsed, and the same findings as a review that starts it afterwards."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import reviewbot.engine as engine
from reviewbot.backends.static import StaticBackend
from reviewbot.config import Config
from reviewbot.diff.model import Diff
from reviewbot.engine import run_review
from reviewbot.result import ReviewResult
from reviewbot.sources import GitObjectReader, ReviewSource, git_source
from reviewbot.static.ruff_run import locate_ruff
from tests.conftest import GitRepo

RUFF = locate_ruff()
pytestmark = pytest.mark.skipif(RUFF is None, reason="ruff is a runtime dependency")

_OLD = "def keep(a):\n    return a\n"


def _change(repo: GitRepo) -> tuple[str, str]:
    """A renamed file with a new mutable default, a new file with one, a file that only
    loses lines, an excluded file, and a text file."""
    repo.write("old/shop.py", _OLD * 3)
    repo.write("trim.py", _OLD + "\n\n" + _OLD.replace("keep", "gone"))
    repo.write("skipme/skipped_mod.py", _OLD)
    base = repo.commit("base")
    repo.git("mv", "old", "new")
    repo.write("new/shop.py", _OLD * 3 + "\n\ndef add(x, seen=[]):\n    return seen\n")
    repo.write("fresh_mod.py", "def put(x, into={}):\n    into[x] = 1\n    return into\n")
    repo.write("trim.py", _OLD)
    repo.write("skipme/skipped_mod.py", _OLD + "\n\ndef f(x, s=[]):\n    return s\n")
    repo.write("notes.txt", "text\n")
    return base, repo.commit("head")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def _logging_ruff(tmp_path: Path) -> tuple[str, Path]:
    """A ruff that logs each run's files (their base names), then runs the real one."""
    log = tmp_path / "ruff-runs.jsonl"
    exe = tmp_path / "logging-ruff"
    exe.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "args = sys.argv[1:]\n"
        "files = [os.path.basename(a) for a in args[args.index('--') + 1:]]\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(json.dumps(sorted(files)) + '\\n')\n"
        f"os.execv({RUFF!r}, [{RUFF!r}, *args])\n",
        encoding="utf-8",
    )
    exe.chmod(0o755)
    return str(exe), log


def _runs(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(x) for x in log.read_text().splitlines()]


def _ruff_ids(result: ReviewResult) -> list[tuple[str, int, str]]:
    return sorted(
        (f.path, f.line, f.rule_id or "")
        for f in result.findings
        if (f.rule_id or "").startswith("ruff.")
    )


def _review(source: ReviewSource, exe: str, config: Config | None = None) -> ReviewResult:
    return run_review(source, config or Config(), StaticBackend(), find_ruff=lambda: exe)


def _without_early(source: ReviewSource) -> ReviewSource:
    reader = source.reader
    assert isinstance(reader, GitObjectReader) and reader.early
    return replace(source, reader=replace(reader, early={}))


def test_ruff_is_at_work_before_the_diff_is_parsed(
    git_repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, head = _change(git_repo)
    exe, log = _logging_ruff(tmp_path)
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    config = Config(exclude=("skipme/**",))
    parse = engine.parse_diff
    running_at_parse: list[bool] = []

    def watched_parse(data: bytes | str) -> Diff:
        # ruff was started before this call, so its log line appears without the parse
        deadline = time.monotonic() + 20
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        running_at_parse.append(log.exists())
        return parse(data)

    monkeypatch.setattr(engine, "parse_diff", watched_parse)
    early = _review(source, exe, config)
    assert running_at_parse == [True]
    # one run, over the Python heads read early that the config keeps (trim.py, which
    # only loses lines, included: its answer is simply not asked for)
    assert _runs(log) == [["fresh_mod.py", "shop.py", "trim.py"]]
    monkeypatch.setattr(engine, "parse_diff", parse)
    log.unlink()
    later = _review(_without_early(source), exe, config)
    assert _runs(log) == [["fresh_mod.py", "shop.py"]]  # after the parse, as before
    assert (
        _ruff_ids(early)
        == _ruff_ids(later)
        == [
            ("fresh_mod.py", 1, "ruff.B006"),
            ("new/shop.py", 9, "ruff.B006"),
        ]
    )
    assert early.coverage.notes == later.coverage.notes == ()


def test_a_head_read_early_that_is_not_the_reviewed_source_is_checked_again(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    base, head = _change(git_repo)
    exe, log = _logging_ruff(tmp_path)
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    reader = source.reader
    assert isinstance(reader, GitObjectReader)
    # bytes that disagree with the diff (a mutable default on line 2, an added line of
    # the real file): the review rebuilds the file from the diff and ruff checks that
    wrong = {**reader.early, "fresh_mod.py": b"x = 1\ndef put(x, into=[]):\n    return into\n"}
    result = _review(replace(source, reader=replace(reader, early=wrong)), exe)
    # (the two runs overlap: their log lines may come in either order)
    assert sorted(_runs(log)) == [
        ["fresh_mod.py"],
        ["fresh_mod.py", "shop.py", "skipped_mod.py", "trim.py"],
    ]
    # the real line 1 (the review's rebuilt file), never the early run's answer (line 2)
    # for bytes the review did not use
    assert [f for f in _ruff_ids(result) if f[0] == "fresh_mod.py"] == [
        ("fresh_mod.py", 1, "ruff.B006")
    ]


def test_no_ruff_is_one_note_with_early_heads(git_repo: GitRepo) -> None:
    base, head = _change(git_repo)
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    assert source.early_heads()
    result = run_review(source, Config(), StaticBackend(), find_ruff=lambda: None)
    note = "ruff is not installed (pip install ruff): its checks were skipped"
    assert result.coverage.notes.count(note) == 1
    assert _ruff_ids(result) == []


def test_a_failing_early_run_is_a_note(git_repo: GitRepo, tmp_path: Path) -> None:
    base, head = _change(git_repo)
    exe = tmp_path / "failing-ruff"
    exe.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stderr.write('ruff: error: boom\\n')\nsys.exit(2)\n",
        encoding="utf-8",
    )
    exe.chmod(0o755)
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    result = _review(source, str(exe))
    assert any(n.startswith("ruff failed (ruff: error: boom)") for n in result.coverage.notes)
    assert _ruff_ids(result) == []


def test_the_early_answer_for_bytes_not_reviewed_is_never_used(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    """Even when the run for the rebuilt file fails, the early run's answer about the
    bytes the review did not use stays out of the findings."""
    base, head = _change(git_repo)
    # The run for the rebuilt file is told apart by its files, not by start order:
    # the two runs overlap, and which one starts first is up to the scheduler.
    exe = tmp_path / "rebuild-run-fails"
    exe.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        "args = sys.argv[1:]\n"
        "files = [os.path.basename(a) for a in args[args.index('--') + 1:]]\n"
        "if files == ['fresh_mod.py']:\n"
        "    sys.stderr.write('ruff: error: second\\n'); sys.exit(2)\n"
        f"os.execv({RUFF!r}, [{RUFF!r}, *args])\n",
        encoding="utf-8",
    )
    exe.chmod(0o755)
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    reader = source.reader
    assert isinstance(reader, GitObjectReader)
    wrong = {**reader.early, "fresh_mod.py": b"x = 1\ndef put(x, into=[]):\n    return into\n"}
    result = _review(replace(source, reader=replace(reader, early=wrong)), str(exe))
    assert any(n.startswith("ruff failed (ruff: error: second)") for n in result.coverage.notes)
    assert _ruff_ids(result) == [
        ("new/shop.py", 9, "ruff.B006"),
        ("skipme/skipped_mod.py", 5, "ruff.B006"),
    ]
