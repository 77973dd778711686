"""Helpers for the test-suggestion tests: the calc example as a real git repository, and a
review run through the real engine with the suggester."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from reviewbot.backends import create_backend
from reviewbot.config import Config, load_config
from reviewbot.diff.parse import parse_diff
from reviewbot.engine import run_review
from reviewbot.gitio import Git
from reviewbot.prepare import prepare_files
from reviewbot.result import ReviewResult
from reviewbot.sources import GitObjectReader, git_source
from reviewbot.suggest import suggest_tests
from reviewbot.suggest.targets import HeadFiles, Target, find_targets
from tests.conftest import GitRepo

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "calc-change"


def calc_repo(repo: GitRepo, after: Mapping[str, str] | None = None) -> GitRepo:
    """before/ committed, then after/ (plus ``after`` overrides) committed on top."""
    shutil.copytree(EXAMPLE / "before", repo.root, dirs_exist_ok=True)
    repo.commit("before")
    shutil.copytree(EXAMPLE / "after", repo.root, dirs_exist_ok=True)
    for path, text in (after or {}).items():
        repo.write(path, text)
    repo.commit("after")
    return repo


def config(**overrides: Any) -> Config:
    """The config for these tests (static checks off: they are another stage's business)."""
    return load_config(env={}, overrides={"static_checks": False, **overrides})


def review(
    repo: GitRepo, cfg: Config, *, isolation: str = "auto", env: Mapping[str, str] | None = None
) -> ReviewResult:
    backend = create_backend(cfg)
    try:
        return run_review(
            git_source(repo.root, rev="HEAD~1..HEAD"),
            cfg,
            backend,
            suggester=partial(suggest_tests, isolation=isolation, env=env, execute=True),
        )
    finally:
        backend.close()


def head_targets(repo: GitRepo, limit: int = 20) -> tuple[list[Target], HeadFiles]:
    """Targets of the last commit, and the reader of its head files."""
    git = Git(repo.root)
    diff = parse_diff(git.diff(["HEAD~1", "HEAD"]))
    reader = GitObjectReader(git, git.rev_parse("HEAD"))
    prepared, _ = prepare_files(diff, reader, Config())
    head = HeadFiles(diff, prepared, reader)
    return find_targets(prepared, head.read, limit), head
