"""The GitHub job runner: write-access check over real HTTP, the flow's arguments, errors."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import github
import pytest

from reviewbot import config as rbconfig
from reviewbot.errors import GitHubError
from reviewbot.github.auth import make_github
from reviewbot.github.flow import PublishOutcome
from reviewbot.server.events import JobSpec
from reviewbot.server.metrics import Metrics
from reviewbot.server.runner import GitHubJobRunner
from reviewbot.server.settings import QueueURL, Settings, load_settings
from reviewbot.server.worker import PermanentJobError

PERMISSIONS = {"alice": ("admin", "admin"), "mia": ("write", "maintain"), "bob": ("read", "triage")}


class PermissionAPI:
    """GET /repos/o/r and GET /repos/o/r/collaborators/{user}/permission, as GitHub answers."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                api.paths.append(self.path)
                base = f"http://127.0.0.1:{api.port}"
                user = self.path.rsplit("/", 2)[-2]
                if self.path == "/repos/o/r":
                    status, body = (
                        200,
                        {"id": 1, "name": "r", "full_name": "o/r", "url": f"{base}/repos/o/r"},
                    )
                elif self.path.endswith("/permission") and user in PERMISSIONS:
                    perm, role = PERMISSIONS[user]
                    status, body = (
                        200,
                        {
                            "permission": perm,
                            "role_name": role,
                            "user": {"login": user, "type": "User"},
                        },
                    )
                else:
                    status, body = 404, {"message": "Not Found"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()


@pytest.fixture
def api() -> Iterator[PermissionAPI]:
    srv = PermissionAPI()
    yield srv
    srv.server.shutdown()
    srv.server.server_close()


class Flow:
    """Records the calls a runner makes to review_pull_request; answers like it does."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def __call__(self, gh: github.Github, repo: str, number: int, **kw: Any) -> PublishOutcome:
        self.calls.append({"repo": repo, "number": number, **kw})
        if self.error is not None:
            raise self.error
        return PublishOutcome(
            head_sha="a" * 40,
            review_id=1,
            comments_posted=3,
            comments_skipped_existing=1,
            comments_moved_to_summary=0,
            comments_deleted_stale=0,
            summary_comment_id=2,
            check_run_id=3,
            findings_total=4,
            findings_by_severity={},
            findings_by_category={},
            failed=False,
        )


def runner(api: PermissionAPI, flow: Flow, **settings: Any) -> tuple[GitHubJobRunner, Metrics]:
    s = dataclasses.replace(Settings(queue=QueueURL("sqlite", "unused.db")), **settings)
    metrics = Metrics()
    url = f"http://127.0.0.1:{api.port}"
    make_gh = lambda spec: make_github("tok", url, seconds_between_writes=0)  # noqa: E731
    return GitHubJobRunner(s, metrics, make_gh, review=flow), metrics


def spec(mode: str = "review", by: str | None = None) -> JobSpec:
    return JobSpec(
        repo="o/r",
        number=5,
        installation_id=9,
        mode=mode,
        trigger="issue_comment./review" if by else "pull_request.opened",
        requested_by=by,
    )


def test_pr_event_reviews_with_tests_never_run(api: PermissionAPI) -> None:
    flow = Flow()
    run, _ = runner(api, flow, review_env=(("REVIEWBOT_MODEL", "m"),))
    result = run("job", spec())
    assert result.outcome == "done" and "3 comments posted" in result.detail
    call = flow.calls[0]
    assert (call["repo"], call["number"], call["full"]) == ("o/r", 5, False)
    assert call["base_config_defaults"] == {"tests.run": False}
    assert call["overrides"]["tests.run"] is False, "a repo's config cannot turn it on"
    assert "tests.enabled" not in call["overrides"]
    assert call["env"] == {"REVIEWBOT_MODEL": "m"}
    assert api.paths == [], "no permission check for pull_request events"


def test_operator_may_enable_running_tests(api: PermissionAPI) -> None:
    flow = Flow()
    run, _ = runner(api, flow, config=rbconfig.Config(tests=rbconfig.TestsConfig(run=True)))
    run("job", spec())
    assert flow.calls[0]["overrides"]["tests.run"] is True


def test_server_config_file_defaults_and_pinned_llm_settings(
    api: PermissionAPI, tmp_path: Path
) -> None:
    (tmp_path / "server.yml").write_text(
        "filter_mode: file\nmax_comments: 7\nllm:\n  url: http://gpu:8000/v1\n  model: codellama\n"
    )
    settings = load_settings({"REVIEWBOT_LLM_API_KEY": "sk-x"}, Path("server.yml"), tmp_path)
    flow = Flow()
    run, _ = runner(api, flow, config=settings.config, config_file=settings.config_file)
    run("job", spec())
    call = flow.calls[0]
    # Repositories may refine the server's review settings ...
    assert call["base_config_defaults"] == {
        "filter_mode": "file",
        "max_comments": 7,
        "llm.url": "http://gpu:8000/v1",
        "llm.model": "codellama",
        "tests.run": False,
    }
    # ... but the LLM endpoint, its key and the model are the operator's.
    pinned = call["overrides"]
    assert (pinned["llm.url"], pinned["llm.model"], pinned["llm.api_key"]) == (
        "http://gpu:8000/v1",
        "codellama",
        "sk-x",
    )
    assert "filter_mode" not in pinned


@pytest.mark.parametrize(
    ("mode", "full", "extra"),
    [("review", False, {}), ("full", True, {}), ("tests", True, {"tests.enabled": True})],
)
def test_commands_from_users_with_write_access(
    api: PermissionAPI, mode: str, full: bool, extra: dict[str, Any]
) -> None:
    for user in ("alice", "mia"):
        flow = Flow()
        run, _ = runner(api, flow)
        assert run("job", spec(mode, by=user)).outcome == "done"
        assert flow.calls[0]["full"] is full
        overrides = flow.calls[0]["overrides"]
        assert overrides["tests.run"] is False
        assert {k: v for k, v in overrides.items() if k == "tests.enabled"} == extra
    assert "/repos/o/r/collaborators/mia/permission" in api.paths


def test_commands_from_read_only_users_are_denied(api: PermissionAPI) -> None:
    flow = Flow()
    run, _ = runner(api, flow)
    result = run("job", spec("full", by="bob"))
    assert result.outcome == "denied" and "bob has no write access" in result.detail
    assert flow.calls == []


def test_unknown_commenter_fails_permanently(api: PermissionAPI) -> None:
    run, metrics = runner(api, Flow())
    with pytest.raises(PermanentJobError):
        run("job", spec(by="mallory"))
    assert (
        metrics.registry.get_sample_value("reviewbot_github_api_errors_total", {"status": "404"})
        == 1.0
    )


def test_github_errors_are_counted_and_retryable(api: PermissionAPI) -> None:
    run, metrics = runner(api, Flow(error=github.GithubException(502, {"message": "bad"}, {})))
    with pytest.raises(GitHubError):
        run("job", spec())
    run2, metrics2 = runner(api, Flow(error=GitHubError("refused")))
    with pytest.raises(GitHubError):
        run2("job", spec())
    assert (
        metrics.registry.get_sample_value("reviewbot_github_api_errors_total", {"status": "502"})
        == 1.0
    )
    assert (
        metrics2.registry.get_sample_value("reviewbot_github_api_errors_total", {"status": "error"})
        == 1.0
    )


def test_a_broken_base_config_ends_the_job_without_retries(api: PermissionAPI) -> None:
    # the flow has already failed the check run naming the problem; retrying cannot help
    from reviewbot.errors import ConfigError

    run, _ = runner(api, Flow(error=ConfigError(".reviewbot.yml: 'jobs' must be an integer")))
    with pytest.raises(PermanentJobError, match="'jobs' must be an integer"):
        run("job", spec())
