"""Head files read while ``git diff -M`` looks for renames: the same review, fewer waits."""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from reviewbot.backends.static import StaticBackend
from reviewbot.config import Config
from reviewbot.engine import run_review
from reviewbot.errors import GitError
from reviewbot.gitio import Git, PendingDiff
from reviewbot.ruff_stage import RuffRuns
from reviewbot.sources import DiffLater, GitObjectReader, git_source
from tests.conftest import GitRepo

_BODY = "import os\n\n\ndef run(cmd):\n    return os.system(cmd)\n\n\ndef size(p):\n    return 1\n"


def _change(repo: GitRepo) -> tuple[str, str]:
    """Renames with edits, a pure rename, a new file, a deletion, a symlink, a binary."""
    for n in range(6):
        repo.write(f"old/m{n}.py", _BODY.replace("return 1", f"return {n}"))
    repo.write("gone.py", "x = 1\n")
    repo.write("keep.py", "def f(a):\n    return a\n")
    base = repo.commit("base")
    (repo.root / "new").mkdir()
    for n in range(6):
        repo.git("mv", f"old/m{n}.py", f"new/m{n}.py")
        if n:  # m0 is renamed only
            text = (repo.root / f"new/m{n}.py").read_text()
            repo.write(f"new/m{n}.py", text.replace("return 1", "return eval(p)"))
    repo.git("rm", "-q", "gone.py")
    repo.write("keep.py", "def f(a):\n    return eval(a)\n")
    repo.write("added.py", "import pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n")
    repo.write("blob.bin", b"\x00\x01\x02")
    repo.write("vendor/lib.py", "import os\n")
    repo.write("notes.txt", "text\n")
    os.symlink("keep.py", repo.root / "link.py")
    head = repo.commit("head")
    return base, head


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def test_the_head_files_are_read_before_the_review_needs_them(git_repo: GitRepo) -> None:
    base, head = _change(git_repo)
    for rev in (f"{base}..{head}", f"{base}...{head}"):
        source = git_source(Path(git_repo.root), rev=rev, env=_env())
        reader = source.reader
        assert isinstance(reader, GitObjectReader)
        # every regular file in a parsed language the change adds or modifies (a renamed
        # one at its new path), as git has it at the head; no symlink, nothing deleted,
        # nothing vendored, no binary or text file the checks would not parse
        expected = {f"new/m{n}.py" for n in range(6)} | {"keep.py", "added.py"}
        assert set(reader.early) == expected
        for path in expected:
            assert reader.early[path] == git_repo.git("show", f"{head}:{path}").encode()


def test_a_review_from_early_heads_equals_one_that_reads_them_later(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, head = _change(git_repo)
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    assert isinstance(source.reader, GitObjectReader)
    later = replace(source, reader=replace(source.reader, early={}))
    expected = run_review(later, Config(), StaticBackend())
    assert {"py.eval", "py.unsafe-deserialization"} <= {f.rule_id for f in expected.findings}

    # With the heads read early, the review reads only the files it would not parse.
    asked: list[str] = []
    real_read_blobs, real_show = Git.read_blobs, Git.show

    def read_blobs(
        self: Git, rev: str, paths: list[str], max_bytes: int, blobs: dict[str, str] | None = None
    ) -> dict[str, bytes | None]:
        asked.extend(paths)
        return real_read_blobs(self, rev, paths, max_bytes, blobs)

    def show(self: Git, rev: str, path: str) -> bytes | None:
        asked.append(path)
        return real_show(self, rev, path)

    monkeypatch.setattr(Git, "read_blobs", read_blobs)
    monkeypatch.setattr(Git, "show", show)
    got = run_review(source, Config(), StaticBackend())
    assert asked == ["notes.txt"]
    assert got.findings == expected.findings
    assert got.coverage == expected.coverage


def test_early_reading_stops_at_its_budget_and_the_rest_is_read_later(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, head = _change(git_repo)
    full = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    monkeypatch.setattr("reviewbot.sources.EARLY_BYTES", 2 * len(_BODY))
    partial = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    assert isinstance(partial.reader, GitObjectReader)
    assert 0 < len(partial.reader.early) < 8
    assert sum(len(b) for b in partial.reader.early.values()) <= 2 * len(_BODY)
    a = run_review(full, Config(), StaticBackend())
    b = run_review(partial, Config(), StaticBackend())
    assert (a.findings, a.coverage) == (b.findings, b.coverage)


def test_a_failing_background_git_is_a_clear_error(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit()
    git = Git(Path(git_repo.root), _env())
    with git.diff_started(["HEAD", "0" * 40]) as pending, pytest.raises(GitError) as err:
        pending.result()
    assert "failed" in str(err.value) and "0" * 40 in str(err.value)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_failure_while_git_diffs_leaves_no_git_running(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, head = _change(git_repo)

    def interrupted(*args: object) -> dict[str, bytes]:
        raise KeyboardInterrupt

    monkeypatch.setattr("reviewbot.sources.read_heads", interrupted)
    with pytest.raises(KeyboardInterrupt):
        git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    assert _git_children() == []  # the background git diff was killed and reaped


def _git_children() -> list[int]:
    """This process's children named git, zombies included (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            name = fields[0].split("(", 1)[1]
            ppid = int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and name == "git":
            found.append(int(stat.parent.name))
    return found


def test_the_review_starts_ruff_before_it_waits_for_the_diff(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, head = _change(git_repo)
    events: list[str] = []
    real_result, real_start = PendingDiff.result, RuffRuns.start_early

    def result(self: PendingDiff) -> bytes:
        events.append("wait for the diff")
        return real_result(self)

    def start_early(self: RuffRuns, heads: Mapping[str, bytes]) -> None:
        events.append(f"ruff on {len(heads)} early heads")
        real_start(self, heads)

    monkeypatch.setattr(PendingDiff, "result", result)
    monkeypatch.setattr(RuffRuns, "start_early", start_early)
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    assert events == []  # git is still making the diff, or has made it unasked
    got = run_review(source, Config(), StaticBackend())
    assert {"py.eval", "py.unsafe-deserialization"} <= {f.rule_id for f in got.findings}
    diff = source.diff
    assert events == ["ruff on 8 early heads", "wait for the diff"]  # read once, remembered
    assert diff == Git(Path(git_repo.root), _env()).diff([base, head])


def test_a_diff_nobody_reads_leaves_no_git_running(git_repo: GitRepo) -> None:
    base, head = _change(git_repo)
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    assert isinstance(source.patch, DiffLater)
    del source
    gc.collect()
    assert _git_children() == []


def test_a_failed_diff_is_the_same_clear_error_each_time_it_is_read(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, head = _change(git_repo)
    monkeypatch.setattr("reviewbot.gitio._DIFF", ["diff", "--no-such-option"])
    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=_env())
    errors = []
    for _ in range(2):
        with pytest.raises(GitError) as err:
            _ = source.diff
        errors.append(str(err.value))
    assert errors[0] == errors[1] and "--no-such-option" in errors[0]
