"""`reviewbot action` as a subprocess in a simulated Actions runner, against the fake GitHub.

The events are GitHub's real ``pull_request`` payloads (opened, synchronize, reopened), with
the fork case made from the opened payload by pointing its head at a fork.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reviewbot.findings import Finding
from reviewbot.github.markers import SUMMARY_MARKER
from tests import github_fixtures
from tests.conftest import FIXTURES, GitRepo
from tests.fakes.github_server import FakeGitHub
from tests.github_fixtures import local_findings
from tests.github_support import file_patches, shop_repo

PAYLOADS = FIXTURES / "github" / "webhooks"
REPO = "Codertocat/Hello-World"
NUMBER = 2
TOKEN = github_fixtures.TOKEN
MARKER_KEY = github_fixtures.QUIET["REVIEWBOT_MARKER_KEY"]

fake = github_fixtures.fake


def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"pull_request.{name}.json").read_text(encoding="utf-8"))


@dataclass
class Runner:
    fake: FakeGitHub
    repo: GitRepo
    tmp: Path
    base: str
    head: str

    def run(
        self,
        event: dict[str, Any],
        *,
        token: str = TOKEN,
        name: str = "pull_request",
        extra: dict[str, str] | None = None,
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
        event_path = self.tmp / "event.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        output, summary = self.tmp / "output.txt", self.tmp / "summary.md"
        output.write_text("")
        summary.write_text("")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.tmp),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": self.fake.base_url,
            "GITHUB_TOKEN": token,
            "GITHUB_WORKSPACE": str(self.repo.root),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "REVIEWBOT_TESTS": "0",
            "REVIEWBOT_GITHUB_WRITE_DELAY": "0",
            "REVIEWBOT_SARIF": "reviewbot.sarif",
            "REVIEWBOT_MARKER_KEY": MARKER_KEY,
            **(extra or {}),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "reviewbot", "action"],
            cwd=self.repo.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
        return proc, outputs, summary.read_text()

    def state(
        self,
    ) -> tuple[
        list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]
    ]:
        repo = self.fake.repos[REPO]
        pr = repo.pulls[NUMBER]
        r = self.fake.routes
        return (
            r.review_comments(repo, pr),
            r._issue_comments(pr),
            r._reviews(pr),
            r.check_runs(repo),
        )

    def expected(self) -> tuple[Finding, ...]:
        return local_findings(self.repo, self.base, self.head)


@pytest.fixture
def runner(fake: FakeGitHub, git_repo: GitRepo, tmp_path: Path) -> Runner:
    """The payload's PR #2 on the fake, its files from the shop change (real commits)."""
    base, head = shop_repo(git_repo)
    pr = payload("opened")["pull_request"]
    fake.open_pr(
        REPO,
        NUMBER,
        file_patches(git_repo, base, head),
        base_sha=pr["base"]["sha"],
        head_sha=pr["head"]["sha"],
    )
    return Runner(fake, git_repo, tmp_path, base, head)


def _lines(comments: list[dict[str, Any]]) -> set[tuple[str, int]]:
    return {(c["path"], c["line"]) for c in comments}


def test_opened_then_rerun_posts_once(runner: Runner) -> None:
    expected = runner.expected()
    proc, outputs, summary = runner.run(payload("opened"))
    assert proc.returncode == 1, proc.stderr  # errors found, fail_on: error
    comments, issue_comments, reviews, runs = runner.state()
    assert _lines(comments) == {(f.path, f.end_line) for f in expected}
    assert len(issue_comments) == 1 and SUMMARY_MARKER in issue_comments[0]["body"]
    assert len(reviews) == 1 and reviews[0]["state"] == "COMMENTED" and len(runs) == 1
    assert outputs["findings"] == str(len(expected)) and outputs["read-only"] == "false"
    errors = sum(1 for f in expected if f.severity.value == "error")
    assert outputs["errors"] == str(errors) and outputs["comments-posted"] == str(len(expected))
    assert summary.strip() == issue_comments[0]["body"].strip()
    sarif = json.loads((runner.repo.root / "reviewbot.sarif").read_text())
    schema = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    assert len(sarif["runs"][0]["results"]) == len(expected)
    assert TOKEN not in proc.stdout + proc.stderr

    proc2, outputs2, _ = runner.run(payload("reopened"))
    assert proc2.returncode == 1, proc2.stderr
    comments2, issue_comments2, reviews2, runs2 = runner.state()
    assert len(comments2) == len(comments) and len(issue_comments2) == 1
    assert len(reviews2) == 1 and len(runs2) == 1
    assert outputs2["comments-posted"] == "0"


def test_synchronize_reviews_the_new_commit_only(runner: Runner) -> None:
    runner.run(payload("opened"))
    runner.repo.write("shop/extra.py", "def g(xs=[]):\n    return xs\n")
    new_head = runner.repo.commit("push")
    runner.fake.push(REPO, NUMBER, file_patches(runner.repo, runner.base, new_head))
    event = payload("synchronize")
    proc, outputs, summary = runner.run(event)
    comments, issue_comments, reviews, runs = runner.state()
    assert ("shop/extra.py", 1) in _lines(comments)
    assert len(comments) == len(runner.expected()) + 1
    assert len(issue_comments) == 1 and len(reviews) == 2
    assert "changes since" in issue_comments[0]["body"] and outputs["findings"] == "1"
    assert proc.returncode == 1  # earlier errors are still open


def test_502_after_write_and_422_through_the_action(runner: Runner) -> None:
    runner.fake.inject("POST", r"/pulls/2/reviews$", 502, after_apply=True)
    runner.fake.refused_lines.add(("shop/orders.py", 35))
    proc, _, _ = runner.run(payload("opened"))
    assert proc.returncode == 1, proc.stderr
    comments, issue_comments, reviews, _ = runner.state()
    assert len(reviews) == 1 and ("shop/orders.py", 35) not in _lines(comments)
    assert len(comments) == len(runner.expected()) - 1
    assert "`shop/orders.py:35`" in issue_comments[0]["body"]  # nothing lost


def test_fork_pr_with_read_only_token_falls_back_to_annotations(runner: Runner) -> None:
    event = copy.deepcopy(payload("opened"))
    event["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World"
    event["pull_request"]["head"]["repo"]["fork"] = True
    runner.fake.add_repo("forker/Hello-World")
    runner.fake.repos[REPO].pulls[NUMBER].head_repo = "forker/Hello-World"
    runner.fake.add_token("ro-token", "github-actions[bot]", "actions", write=False)
    proc, outputs, summary = runner.run(event, token="ro-token")
    assert proc.returncode == 1, proc.stderr
    assert runner.state() == ([], [], [], [])
    assert outputs["read-only"] == "true"
    assert "::notice title=reviewbot::the token cannot write" in proc.stdout
    assert "::error file=shop/orders.py,line=17,endLine=17,title=" in proc.stdout
    assert "::warning file=shop/orders.py,line=15," in proc.stdout
    assert "read-only token" in summary and "## reviewbot review" in summary


def test_workspace_with_the_head_commit_is_read_locally(runner: Runner) -> None:
    event = payload("opened")
    runner.fake.repos[REPO].pulls.clear()
    runner.fake.open_pr(
        REPO,
        NUMBER,
        file_patches(runner.repo, runner.base, runner.head),
        base_sha=runner.base,
        head_sha=runner.head,
    )
    proc, _, _ = runner.run(event)
    assert proc.returncode == 1, proc.stderr
    assert not runner.fake.calls("GET", r"/contents/shop/orders\.py$")
    assert len(runner.state()[0]) == len(runner.expected())


def test_other_events_and_closed_prs_are_skipped(runner: Runner) -> None:
    event = payload("opened")
    event["action"] = "closed"
    proc, outputs, _ = runner.run(event)
    assert proc.returncode == 0 and "nothing to review" in proc.stdout and outputs == {}
    proc, _, _ = runner.run({"zen": "hi"}, name="push")
    assert proc.returncode == 0 and "nothing to review for a push event" in proc.stdout
    assert runner.state() == ([], [], [], [])


def test_missing_runner_environment_is_a_usage_error(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "reviewbot", "action"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "not inside GitHub Actions" in proc.stderr
    assert "reviewbot pr OWNER/REPO#NUMBER" in proc.stderr
