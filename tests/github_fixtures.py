"""pytest fixtures for the GitHub tests (imported by the test modules that use them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from reviewbot.config import load_config
from reviewbot.engine import run_review
from reviewbot.findings import Finding
from reviewbot.sources import git_source
from tests.conftest import GitRepo
from tests.fakes.github_server import FakeGitHub
from tests.github_support import file_patches, shop_repo

TOKEN = "ghs_actionsTOKEN0123456789"
REPO = "octo/shop"
NUMBER = 7
QUIET = {
    "REVIEWBOT_TESTS": "0",
    "REVIEWBOT_GITHUB_WRITE_DELAY": "0",
    "REVIEWBOT_MARKER_KEY": "test-marker-key-0123456789abcdef",
}
"""Environment for most runs: no test suggestions (one test turns them on), no write delay."""


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token(TOKEN, "github-actions[bot]", "actions")
        yield server
        assert server.violations == [], "outside GitHub's API description: " + "\n".join(
            server.violations[:20]
        )


@dataclass
class ShopPR:
    fake: FakeGitHub
    repo: GitRepo
    base: str
    head: str

    def expected(self, **config: object) -> tuple[Finding, ...]:
        """What the engine finds on this change locally (the static backend)."""
        return local_findings(self.repo, self.base, self.head, **config)


def local_findings(repo: GitRepo, base: str, head: str, **config: object) -> tuple[Finding, ...]:
    from reviewbot.backends.static import StaticBackend

    cfg = load_config(env={}, overrides={"backend": "static", **config})
    return run_review(git_source(repo.root, rev=f"{base}..{head}"), cfg, StaticBackend()).findings


@pytest.fixture
def shop_pr(fake: FakeGitHub, git_repo: GitRepo) -> ShopPR:
    """PR #7 on octo/shop: the shop example change (5 known static findings)."""
    base, head = shop_repo(git_repo)
    fake.open_pr(REPO, NUMBER, file_patches(git_repo, base, head), base_sha=base, head_sha=head)
    return ShopPR(fake, git_repo, base, head)
