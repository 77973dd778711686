"""The fake GitHub behaves like GitHub where a bot can get it wrong, and checks the API
description both ways; App authentication and the retry policy against it."""

from __future__ import annotations

import time

import github
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reviewbot.errors import GitHubError
from reviewbot.github.auth import InstallationTokens, Secret, make_github
from reviewbot.github.retry import write_once
from tests import github_fixtures
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_state import FakeFile
from tests.github_fixtures import TOKEN
from tests.github_support import client

fake = github_fixtures.fake
PATCH = "@@ -1,2 +1,3 @@\n a\n+b\n c\n@@ -10,2 +11,3 @@\n x\n+y\n z"


@pytest.fixture
def pr(fake: FakeGitHub) -> tuple[FakeGitHub, github.Github, str]:
    fake.open_pr("o/r", 1, [FakeFile("f.py", "modified", PATCH, content=b"...")])
    head = fake.repos["o/r"].pulls[1].head.sha
    return fake, client(fake.base_url, TOKEN), head


def _post_review(
    gh: github.Github, head: str, comment: dict[str, object], event: str | None = "COMMENT"
) -> dict[str, object]:
    body: dict[str, object] = {"commit_id": head, "body": "b", "comments": [comment]}
    if event:
        body["event"] = event
    _, data = gh.requester.requestJsonAndCheck("POST", "/repos/o/r/pulls/1/reviews", input=body)
    return dict(data)


@pytest.mark.parametrize(
    "comment, error",
    [
        ({"path": "f.py", "line": 5, "side": "RIGHT", "body": "x"}, "must be part of the diff"),
        ({"path": "f.py", "start_line": 2, "line": 12, "side": "RIGHT", "body": "x"}, "same hunk"),
        ({"path": "f.py", "start_line": 3, "line": 2, "side": "RIGHT", "body": "x"}, "precede"),
        ({"path": "g.py", "line": 2, "side": "RIGHT", "body": "x"}, "Path could not be resolved"),
    ],
)
def test_review_comments_outside_the_diff_are_422(pr, comment, error) -> None:
    fake, gh, head = pr
    with pytest.raises(github.GithubException) as exc:
        _post_review(gh, head, comment)
    assert exc.value.status == 422 and error in str(exc.value.data)
    assert fake.routes._reviews(fake.repos["o/r"].pulls[1]) == []


def test_valid_multiline_comment_and_one_pending_review_per_user(pr) -> None:
    fake, gh, head = pr
    _post_review(
        gh,
        head,
        {
            "path": "f.py",
            "start_line": 1,
            "line": 2,
            "side": "RIGHT",
            "start_side": "RIGHT",
            "body": "ok",
        },
    )
    pending = _post_review(gh, head, {"path": "f.py", "line": 2, "body": "p"}, event=None)
    assert pending["state"] == "PENDING"
    with pytest.raises(github.GithubException) as exc:
        _post_review(gh, head, {"path": "f.py", "line": 2, "body": "p"}, event=None)
    assert "one pending review" in str(exc.value.data)


def test_request_and_response_bodies_are_validated(pr) -> None:
    fake, gh, head = pr
    with pytest.raises(github.GithubException) as exc:
        _post_review(gh, head, {"path": "f.py", "line": 2, "body": "x"}, event="MERGE")
    assert exc.value.status == 422
    assert any("'MERGE' is not one of" in v for v in fake.violations)
    fake.violations.clear()
    fake.repos["o/r"].pulls[1].title = 42  # type: ignore[assignment]
    gh.get_repo("o/r").get_pull(1)
    assert any("title: 42 is not of type 'string'" in v for v in fake.violations)
    fake.violations.clear()


def test_files_are_paginated_and_capped_at_3000(fake: FakeGitHub) -> None:
    files = [FakeFile(f"f{i}.txt", "added", "@@ -0,0 +1 @@\n+x") for i in range(3010)]
    fake.open_pr("o/r", 2, files)
    gh = make_github(TOKEN, fake.base_url, per_page=30, seconds_between_writes=0)
    listed = list(gh.get_repo("o/r").get_pull(2).get_files())
    assert len(listed) == 3000 and len(fake.calls("GET", r"/pulls/2/files$")) == 100
    assert gh.get_repo("o/r").get_pull(2).changed_files == 3010


def test_annotation_limit_read_only_tokens_and_faults(pr) -> None:
    fake, gh, head = pr
    too_many = [
        {
            "path": "f.py",
            "start_line": 1,
            "end_line": 1,
            "annotation_level": "notice",
            "message": "m",
        }
    ] * 51
    with pytest.raises(github.GithubException) as exc:
        gh.requester.requestJsonAndCheck(
            "POST",
            "/repos/o/r/check-runs",
            input={
                "name": "x",
                "head_sha": head,
                "output": {"title": "t", "summary": "s", "annotations": too_many},
            },
        )
    assert exc.value.status == 422 and "50 annotations" in str(exc.value.data)
    fake.violations.clear()  # the schema's maxItems flagged it too: that is the point
    fake.add_token("ro", write=False)
    with pytest.raises(github.GithubException) as exc:
        client(fake.base_url, "ro").get_repo("o/r").get_pull(1).create_issue_comment("hi")
    assert exc.value.status == 403 and "not accessible" in str(exc.value.data)
    fake.inject("POST", r"/issues/1/comments$", 502, after_apply=True)
    with pytest.raises(github.GithubException) as exc:  # POST is never retried blindly
        gh.get_repo("o/r").get_pull(1).create_issue_comment("once")
    assert exc.value.status == 502
    assert [c["body"] for c in fake.routes._issue_comments(fake.repos["o/r"].pulls[1])] == ["once"]


def test_write_once_looks_for_the_write_before_repeating_it(pr) -> None:
    fake, gh, _ = pr
    issue = gh.get_repo("o/r").get_pull(1)
    fake.inject("POST", r"/issues/1/comments$", 502, after_apply=True, times=2)
    slept: list[float] = []

    def landed() -> int | None:
        found = [c for c in issue.get_issue_comments() if c.body == "marker-1"]
        return found[0].id if found else None

    cid = write_once(
        lambda: issue.create_issue_comment("marker-1").id,
        what="comment",
        landed=landed,
        sleep=slept.append,
    )
    comments = fake.routes._issue_comments(fake.repos["o/r"].pulls[1])
    assert [c["id"] for c in comments] == [cid] and len(slept) == 1


def test_write_once_gives_up_on_a_long_rate_limit(pr) -> None:
    fake, gh, _ = pr
    fake.inject("POST", r"/issues/1/comments$", 403, headers={"Retry-After": "3600"})
    with pytest.raises(GitHubError, match="rate limit"):
        write_once(
            lambda: gh.get_repo("o/r").get_pull(1).create_issue_comment("x"),
            what="comment",
            sleep=lambda s: None,
        )


def _key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def test_github_app_installation_token_is_fetched_and_cached(pr) -> None:
    fake, _, _ = pr
    private, public = _key()
    fake.app = ("12345", public)
    now = [time.time()]
    tokens = InstallationTokens("12345", Secret(private), fake.base_url, clock=lambda: now[0])
    gh = tokens.github_for(repo_full_name="o/r", seconds_between_writes=0)
    assert gh.get_repo("o/r").get_pull(1).number == 1
    tokens.github_for(installation_id=fake.repos["o/r"].installation_id)
    assert len(fake.calls("POST", r"/access_tokens$")) == 1  # cached
    now[0] += 3600  # within 5 minutes of expiry: a new token
    tokens.github_for(installation_id=fake.repos["o/r"].installation_id)
    assert len(fake.calls("POST", r"/access_tokens$")) == 2
    assert private not in repr(tokens) and "ghs_" not in repr(tokens)


def test_github_app_with_the_wrong_key_is_a_clear_error(pr) -> None:
    fake, _, _ = pr
    fake.app = ("12345", _key()[1])
    tokens = InstallationTokens("12345", Secret(_key()[0]), fake.base_url)
    with pytest.raises(GitHubError, match="refused the GitHub App's credentials"):
        tokens.github_for(repo_full_name="o/r")
