"""Routing real webhook payloads to review jobs."""

from __future__ import annotations

import dataclasses

import pytest

from reviewbot.server.events import JobMode, JobSpec, parse_command, route
from tests.test_server_support import payload


@pytest.mark.parametrize(
    "name", ["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"]
)
def test_pr_actions_make_a_review_job(name: str) -> None:
    d = route("pull_request", payload(name))
    assert d.outcome == "job" and d.job is not None
    assert (d.job.repo, d.job.number, d.job.installation_id) == ("Codertocat/Hello-World", 2, 1)
    assert d.job.mode == "review"
    assert d.job.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert d.job.trigger == f"pull_request.{name.split('.')[1]}"
    assert d.job.requested_by is None


def test_ready_for_review_and_drafts() -> None:
    draft = payload("pull_request.opened")
    draft["pull_request"]["draft"] = True
    assert route("pull_request", draft).reason.startswith("draft")
    assert route("pull_request", draft, review_drafts=True).job is not None
    ready = payload("pull_request.synchronize")
    ready["action"] = "ready_for_review"
    assert route("pull_request", ready).job is not None


def test_closed_and_other_actions_are_ignored() -> None:
    assert route("pull_request", payload("pull_request.closed")).outcome == "ignored"
    edited = payload("pull_request.opened")
    edited["action"] = "edited"
    assert route("pull_request", edited).outcome == "ignored"


def test_events_sent_by_bots_are_ignored() -> None:
    p = payload("pull_request.opened")
    p["sender"]["type"] = "Bot"
    assert route("pull_request", p).reason == "sent by a bot"
    p = payload("pull_request.opened")
    p["sender"]["login"] = "reviewbot[bot]"
    assert route("pull_request", p).outcome == "ignored"


def _pr_comment(body: str, association: str = "OWNER") -> dict[str, object]:
    p = payload("issue_comment.created.on-pull-request")
    p["comment"]["body"] = body
    p["comment"]["author_association"] = association
    return p


@pytest.mark.parametrize(
    ("body", "mode"),
    [
        ("/review", "review"),
        ("/review full", "full"),
        ("/tests", "tests"),
        ("  /Review  FULL \nthanks", "full"),
    ],
)
def test_comment_commands_on_a_pr(body: str, mode: str) -> None:
    d = route("issue_comment", _pr_comment(body))
    assert d.job is not None
    assert (d.job.repo, d.job.number, d.job.mode) == ("Crunch09/octo-test", 2, mode)
    assert d.job.installation_id == 227031
    assert d.job.requested_by == "Crunch09"


def test_comment_that_is_not_a_command() -> None:
    # The real payload's own body ("/reviewers unassign @CX-3PO") is another bot's command.
    d = route("issue_comment", payload("issue_comment.created.on-pull-request"))
    assert d.outcome == "ignored" and "not a reviewbot command" in d.reason
    for body in ("please /review", "/review everything", "/reviewers", ""):
        assert route("issue_comment", _pr_comment(body)).job is None


def test_comment_command_needs_a_write_association() -> None:
    for association in ("CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE", "MANNEQUIN"):
        d = route("issue_comment", _pr_comment("/review", association))
        assert d.job is None and "write access" in d.reason
    for association in ("OWNER", "MEMBER", "COLLABORATOR"):
        assert route("issue_comment", _pr_comment("/review", association)).job is not None


def test_comment_on_an_issue_or_by_a_bot_or_edited() -> None:
    issue = payload("issue_comment.created")
    issue["comment"]["body"] = "/review"
    assert "not a pull request" in route("issue_comment", issue).reason
    bot = _pr_comment("/review")
    bot["comment"]["user"]["type"] = "Bot"
    assert route("issue_comment", bot).job is None
    edited = _pr_comment("/review")
    edited["action"] = "edited"
    assert route("issue_comment", edited).job is None


def test_ping_installation_and_unknown_events() -> None:
    assert route("ping", payload("ping")).outcome == "ping"
    d = route("installation", payload("installation.created"))
    assert (d.outcome, d.reason) == ("logged", "installation.created")
    assert route("check_suite", {"action": "requested"}).outcome == "ignored"


def test_malformed_payloads_are_ignored_not_crashing() -> None:
    for p in (
        {},
        {"action": "opened"},
        {"action": "opened", "pull_request": []},
        {"action": "opened", "pull_request": {"number": "2"}, "repository": {}},
        {"action": "created", "issue": {"pull_request": {}}, "comment": {"body": 3}},
    ):
        assert route("pull_request", p).job is None
        assert route("issue_comment", p).job is None


def test_job_spec_round_trips_through_json() -> None:
    spec = route("pull_request", payload("pull_request.opened")).job
    assert spec is not None
    assert JobSpec.from_json(spec.to_json()) == spec
    full = JobSpec.from_json(dataclasses.replace(spec, mode=JobMode.FULL).to_json())
    assert full.mode is JobMode.FULL and '"mode": "full"' in full.to_json()
    assert spec.pr_key == "codertocat/hello-world#2"
    assert parse_command("/tests\n") == "tests"
