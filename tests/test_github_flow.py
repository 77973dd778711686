"""review_pull_request against the fake GitHub: placement, idempotency, faults, recovery."""

from __future__ import annotations

import logging

import pytest

from reviewbot.findings import Finding
from reviewbot.github.flow import review_pull_request
from reviewbot.github.markers import SUMMARY_MARKER, parse_fp
from reviewbot.reporters.markdown import counts_table
from tests import github_fixtures
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_state import FakeFile
from tests.github_fixtures import NUMBER, QUIET, REPO, TOKEN, ShopPR, local_findings
from tests.github_support import SHOP_HEAD, client, file_patches

fake = github_fixtures.fake
shop_pr = github_fixtures.shop_pr

KNOWN = {(17, "error"), (35, "error"), (15, "warning"), (19, "warning"), (41, "warning")}
"""Findings the static checks are known to make on the shop change (more may be added)."""


def _anchors(findings: tuple[Finding, ...]) -> set[tuple[int, str]]:
    return {(f.end_line, f.severity.value) for f in findings}


def _state(fake: FakeGitHub) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    repo = fake.repos[REPO]
    pr = repo.pulls[NUMBER]
    return (
        fake.routes.review_comments(repo, pr),
        fake.routes._issue_comments(pr),
        fake.routes._reviews(pr),
        fake.routes.check_runs(repo),
    )


def _review(fake: FakeGitHub, **kwargs: object):
    env = dict(QUIET)
    env.update(kwargs.pop("env", {}))  # type: ignore[arg-type]
    return review_pull_request(client(fake.base_url, TOKEN), REPO, NUMBER, env=env, **kwargs)


def _placed(comments: list[dict]) -> set[tuple[int, str]]:
    return {(c["line"], parse_fp(c["body"]).severity) for c in comments}  # type: ignore[union-attr]


def test_first_run_posts_one_comment_review_summary_and_check(shop_pr: ShopPR) -> None:
    fake = shop_pr.fake
    expected = shop_pr.expected()
    out = _review(fake)
    comments, issue_comments, reviews, runs = _state(fake)
    assert _placed(comments) == _anchors(expected) and _placed(comments) >= KNOWN
    assert all(c["path"] == "shop/orders.py" and c["side"] == "RIGHT" for c in comments)
    assert [r["state"] for r in reviews] == ["COMMENTED"]  # one review, COMMENT only
    assert all(c["commit_id"] == shop_pr.head for c in comments)
    assert len(issue_comments) == 1 and SUMMARY_MARKER in issue_comments[0]["body"]
    summary = issue_comments[0]["body"]
    assert f"`{shop_pr.head[:12]}`" in summary and "static checks only" in summary
    assert counts_table(expected) in summary
    assert "**Coverage:** reviewed 1 of 1 files" in summary
    assert len(runs) == 1 and runs[0]["conclusion"] == "failure"  # fail_on error
    level = {"error": "failure", "warning": "warning", "info": "notice"}
    assert {(a["start_line"], a["annotation_level"]) for a in runs[0]["annotations"]} == {
        (f.line, level[f.severity.value]) for f in expected
    }
    assert (out.comments_posted, out.review_id, out.failed) == (
        len(expected),
        reviews[0]["id"],
        True,
    )
    assert out.findings_total == len(expected)


def test_second_run_on_same_commit_adds_nothing(shop_pr: ShopPR) -> None:
    fake = shop_pr.fake
    n = len(shop_pr.expected())
    _review(fake)
    out = _review(fake)
    comments, issue_comments, reviews, runs = _state(fake)
    assert len(comments) == n and len(reviews) == 1 and len(issue_comments) == 1
    assert len(runs) == 1 and len(runs[0]["annotations"]) == n
    assert (out.comments_posted, out.comments_skipped_existing, out.review_id) == (0, n, None)
    assert out.summary_comment_id == issue_comments[0]["id"]


def test_model_finding_with_suggestion_is_a_multiline_suggestion_comment(
    fake: FakeGitHub, git_repo
) -> None:
    from tests.fakes.vllm_server import FakeVLLM, finding

    git_repo.write("app.py", "def f(x):\n    return x\n")
    base = git_repo.commit("base")
    git_repo.write("app.py", "def f(x):\n    y = x\n    y = y * 2\n    return y / 0\n")
    head = git_repo.commit("head")
    fake.open_pr(REPO, NUMBER, file_patches(git_repo, base, head), base_sha=base, head_sha=head)
    ranged = dict(finding("app.py", 2, "dead store", end_line=3), suggestion="    y = x * 2\n")
    single = dict(
        finding("app.py", 4, "division by zero", severity="error"), suggestion="    return y\n"
    )

    with FakeVLLM(lambda req: {"findings": [ranged, single]}) as llm:
        out = _review(fake, env={"REVIEWBOT_LLM_URL": llm.url})
    comments = sorted(_state(fake)[0], key=lambda c: c["line"])
    assert [(c.get("start_line"), c["line"]) for c in comments] == [(2, 3), (None, 4)]
    assert "```suggestion\n    y = x * 2\n```" in comments[0]["body"]
    assert "```suggestion\n    return y\n```" in comments[1]["body"]
    assert out.result is not None and out.result.model == llm.model
    assert f"with {llm.model}" in _state(fake)[1][0]["body"]


def test_cap_moves_the_rest_into_the_summary(shop_pr: ShopPR) -> None:
    n = len(shop_pr.expected())
    out = _review(shop_pr.fake, env={"REVIEWBOT_MAX_COMMENTS": "2"})
    comments, issue_comments, _, runs = _state(shop_pr.fake)
    assert {c["line"] for c in comments} == {17, 35}  # errors first, then by path and line
    assert out.comments_moved_to_summary == n - 2
    assert issue_comments[0]["body"].count("over the limit of 2 inline comments") == n - 2
    assert len(runs[0]["annotations"]) == n  # the check run still has every finding


def test_config_comes_from_the_base_branch(fake: FakeGitHub, git_repo) -> None:
    git_repo.write(".reviewbot.yml", "max_comments: 1\nfail_on: none\n")
    from tests.github_support import SHOP_BASE

    git_repo.write("shop/orders.py", SHOP_BASE)
    base = git_repo.commit("base")
    git_repo.write(".reviewbot.yml", "max_comments: 50\nfail_on: none\n")  # the PR's attempt
    git_repo.write("shop/orders.py", SHOP_HEAD)
    head = git_repo.commit("head")
    fake.open_pr(
        REPO,
        NUMBER,
        file_patches(git_repo, base, head),
        base_sha=base,
        head_sha=head,
        base_contents={".reviewbot.yml": b"max_comments: 1\nfail_on: none\n"},
    )
    out = _review(fake)
    assert out.comments_posted == 1 and out.failed is False
    assert _state(fake)[3][0]["conclusion"] == "neutral"


def test_dry_run_writes_nothing(shop_pr: ShopPR) -> None:
    out = _review(shop_pr.fake, dry_run=True)
    assert {x.method for x in shop_pr.fake.log} == {"GET"}
    n = len(shop_pr.expected())
    assert out.dry_run and len([p for p in out.planned if p.startswith("inline")]) == n
    assert SUMMARY_MARKER in out.summary_markdown


def test_review_502_after_write_is_not_duplicated(shop_pr: ShopPR) -> None:
    fake = shop_pr.fake
    fake.inject("POST", r"/pulls/7/reviews$", 502, after_apply=True)
    fake.inject("POST", r"/issues/7/comments$", 502, after_apply=True)
    fake.inject("POST", r"/check-runs$", 502, after_apply=True)
    out = _review(fake)
    comments, issue_comments, reviews, runs = _state(fake)
    assert len(reviews) == 1 and len(comments) == len(shop_pr.expected())
    assert out.review_id == reviews[0]["id"]
    assert len(issue_comments) == 1 and len(runs) == 1
    assert len(fake.calls("POST", r"/pulls/7/reviews$")) == 1  # found by its marker, not re-sent


def test_502_before_write_is_retried(shop_pr: ShopPR) -> None:
    fake = shop_pr.fake
    fake.inject("POST", r"/pulls/7/reviews$", 502)
    _review(fake)
    assert [x.status for x in fake.calls("POST", r"/pulls/7/reviews$")] == [502, 200]
    assert len(_state(fake)[2]) == 1


def test_secondary_rate_limit_waits_retry_after(shop_pr: ShopPR) -> None:
    fake = shop_pr.fake
    fake.inject("POST", r"/pulls/7/reviews$", 403, headers={"Retry-After": "1"})
    fake.inject("GET", r"/pulls/7/files$", 429, headers={"Retry-After": "1"})
    _review(fake)
    assert [x.status for x in fake.calls("POST", r"/pulls/7/reviews$")] == [403, 200]
    assert [x.status for x in fake.calls("GET", r"/pulls/7/files$")] == [429, 200]
    assert len(_state(fake)[2]) == 1


def test_422_refused_comment_goes_to_summary_and_the_rest_are_posted(shop_pr: ShopPR) -> None:
    fake = shop_pr.fake
    fake.refused_lines.add(("shop/orders.py", 19))
    out = _review(fake)
    comments, issue_comments, reviews, _ = _state(fake)
    lines = {f.end_line for f in shop_pr.expected()}
    assert {c["line"] for c in comments} == lines - {19}
    assert [r["state"] for r in reviews] == ["COMMENTED"]  # probes were pending and deleted
    assert "GitHub refused the comment (422)" in issue_comments[0]["body"]
    assert "`shop/orders.py:19`" in issue_comments[0]["body"]
    assert out.comments_posted == len(lines) - 1 and out.comments_moved_to_summary == 1


def test_more_than_50_annotations_are_batched(fake: FakeGitHub, git_repo) -> None:
    git_repo.write("many.py", "")
    base = git_repo.commit("base")
    body = "".join(f"def f{i}(items=[]):\n    return items\n\n\n" for i in range(60))
    git_repo.write("many.py", body)
    head = git_repo.commit("head")
    fake.open_pr(REPO, NUMBER, file_patches(git_repo, base, head), base_sha=base, head_sha=head)
    out = _review(fake)
    comments, issue_comments, _, runs = _state(fake)
    assert out.findings_total == 60 and len(comments) == 30  # default cap
    assert len(runs) == 1 and len(runs[0]["annotations"]) == 60
    sizes = [
        len(x.body["output"]["annotations"])
        for x in fake.log
        if "/check-runs" in x.path and x.method in ("POST", "PATCH")
    ]
    assert sizes == [50, 10]
    _review(fake)  # a re-run adds none of them again
    assert len(_state(fake)[3][0]["annotations"]) == 60 and len(_state(fake)[0]) == 30


def test_read_only_token_writes_nothing(shop_pr: ShopPR) -> None:
    fake = shop_pr.fake
    fake.add_token("ro", "github-actions[bot]", "actions", write=False)
    out = review_pull_request(client(fake.base_url, "ro"), REPO, NUMBER, env=dict(QUIET))
    assert out.read_only and out.findings_total == len(shop_pr.expected()) and out.failed
    assert _state(fake) == ([], [], [], [])
    assert "read-only token" in out.summary_markdown


def test_truncated_file_list_is_recorded(fake: FakeGitHub) -> None:
    files = [
        FakeFile(f"docs/f{i:04}.txt", "added", "@@ -0,0 +1 @@\n+x", content=b"x\n")
        for i in range(3003)
    ]
    config = {".reviewbot.yml": b"exclude: [docs/**]\n"}
    pr = fake.open_pr(REPO, NUMBER, files, base_contents=config)
    out = _review(fake)
    assert len(fake.calls("GET", r"/pulls/7/files$")) == 30  # 100 per page, 3000 at most
    note = "GitHub listed 3000 of the 3003 changed files"
    assert note in out.summary_markdown and "3 files were not reviewed" in out.summary_markdown
    assert pr.head.sha == out.head_sha


def test_incremental_review_after_a_push(shop_pr: ShopPR) -> None:
    fake, repo = shop_pr.fake, shop_pr.repo
    _review(fake)
    repo.write("shop/extra.py", "def g():\n    try:\n        pass\n    except:\n        pass\n")
    new_head = repo.commit("more")
    fake.push(REPO, NUMBER, file_patches(repo, shop_pr.base, new_head), sha=new_head)
    out = _review(fake)
    comments, issue_comments, reviews, runs = _state(fake)
    assert out.incremental_since == shop_pr.head
    assert out.findings_total == 1 and out.comments_posted == 1
    assert {(c["path"], c["line"]) for c in comments} >= {("shop/extra.py", 4)}
    n = len(shop_pr.expected())
    assert len(comments) == n + 1 and len(reviews) == 2 and len(issue_comments) == 1
    body = issue_comments[0]["body"]
    assert f"changes since `{shop_pr.head[:12]}`" in body and f"{n} earlier comment(s)" in body
    assert out.failed  # earlier error comments on unchanged files still count
    assert {r["head_sha"] for r in runs} == {shop_pr.head, new_head}


def test_stale_comments_are_deleted_unless_someone_replied(shop_pr: ShopPR) -> None:
    fake, repo = shop_pr.fake, shop_pr.repo
    _review(fake)
    comments = _state(fake)[0]
    sql = next(c for c in comments if c["line"] == 17)
    yml = next(c for c in comments if c["line"] == 35)
    fake.add_token("human", "octo-dev", "user")
    gh_human = client(fake.base_url, "human")
    gh_human.requester.requestJsonAndCheck(
        "POST",
        f"/repos/{REPO}/pulls/{NUMBER}/comments",
        input={
            "body": "we need this",
            "in_reply_to": yml["id"],
            "commit_id": shop_pr.head,
            "path": yml["path"],
        },
    )
    fixed = SHOP_HEAD.replace(
        "f\"SELECT id, total FROM orders WHERE customer = '{customer}'\"",
        '"SELECT id, total FROM orders WHERE customer = ?", (customer,)',
    )
    fixed = fixed.replace("yaml.load(fh)", "yaml.safe_load(fh)")
    repo.write("shop/orders.py", fixed)
    new_head = repo.commit("fix")
    fake.push(REPO, NUMBER, file_patches(repo, shop_pr.base, new_head), sha=new_head)
    out = _review(fake)
    ids = {c["id"] for c in _state(fake)[0]}
    assert sql["id"] not in ids  # fixed, no replies: deleted
    assert yml["id"] in ids  # fixed, but a human replied: kept
    now = local_findings(repo, shop_pr.base, new_head)
    assert out.findings_total == len(now) and 17 not in {f.line for f in now}
    assert out.comments_deleted_stale == 1


def test_force_push_falls_back_to_a_full_review(shop_pr: ShopPR) -> None:
    fake, repo = shop_pr.fake, shop_pr.repo
    _review(fake)
    repo.write("shop/extra.py", "x = 1\n")
    new_head = repo.commit("rewritten")
    fake.push(REPO, NUMBER, file_patches(repo, shop_pr.base, new_head), sha=new_head)
    fake.repos[REPO].pulls[NUMBER].force_pushed = True
    out = _review(fake)
    now = local_findings(repo, shop_pr.base, new_head)
    assert out.incremental_since is None and out.findings_total == len(now)


def test_summary_includes_suggested_tests(shop_pr: ShopPR) -> None:
    out = _review(shop_pr.fake, env={"REVIEWBOT_TESTS": "1"})
    body = _state(shop_pr.fake)[1][0]["body"]
    assert "<summary>Suggested tests" in body and out.summary_markdown == body


def test_token_never_logged(shop_pr: ShopPR, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shop_pr.fake.inject("POST", r"/pulls/7/reviews$", 403, headers={"Retry-After": "0"})
    _review(shop_pr.fake)
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(client(shop_pr.fake.base_url, TOKEN).requester.auth)


def test_incremental_summary_keeps_earlier_findings_not_inline(shop_pr: ShopPR) -> None:
    fake, repo = shop_pr.fake, shop_pr.repo
    env = {"REVIEWBOT_MAX_COMMENTS": "2"}
    first = _review(fake, env=env)
    repo.write("shop/extra.py", "x = 1\n")
    new_head = repo.commit("more")
    fake.push(REPO, NUMBER, file_patches(repo, shop_pr.base, new_head), sha=new_head)
    out = _review(fake, env=env)
    body = _state(fake)[1][0]["body"]
    assert out.incremental_since == shop_pr.head and out.findings_total == 0
    assert "from earlier reviews (files unchanged since)" in body
    assert body.count("over the limit of 2 inline comments") == first.comments_moved_to_summary


def test_clean_change_gets_a_summary_and_a_successful_check(fake: FakeGitHub, git_repo) -> None:
    git_repo.write("ok.py", "def f(x):\n    return x\n")
    base = git_repo.commit("base")
    git_repo.write("ok.py", "def f(x):\n    return x + 1\n")
    head = git_repo.commit("head")
    fake.open_pr(REPO, NUMBER, file_patches(git_repo, base, head), base_sha=base, head_sha=head)
    out = _review(fake)
    comments, issue_comments, reviews, runs = _state(fake)
    assert (comments, reviews, out.review_id, out.failed) == ([], [], None, False)
    assert len(issue_comments) == 1 and runs[0]["conclusion"] == "success"


def test_personal_token_identity_and_no_check_run(shop_pr: ShopPR) -> None:
    fake = shop_pr.fake
    fake.add_token("pat", "octo-bot", "user")
    fake.add_token("human", "mallory", "user")
    from reviewbot.github.markers import reviewed_marker

    fake_summary = f"## reviewbot review\n\n{SUMMARY_MARKER}\n{reviewed_marker('ab' * 20)}\n"
    client(fake.base_url, "human").get_repo(REPO).get_pull(NUMBER).create_issue_comment(
        fake_summary
    )
    out = review_pull_request(client(fake.base_url, "pat"), REPO, NUMBER, env=dict(QUIET))
    _, issue_comments, _, runs = _state(fake)
    assert issue_comments[0]["body"] == fake_summary  # someone else's: never edited
    assert issue_comments[1]["user"]["login"] == "octo-bot" and len(issue_comments) == 2
    assert out.incremental_since is None  # the planted marker was not trusted
    assert runs == [] and out.check_run_id is None
    assert "no check run: the token lacks checks: write" in out.notes


def test_a_broken_base_config_fails_the_check_run_naming_the_problem(
    fake: FakeGitHub, git_repo
) -> None:
    from reviewbot.errors import ConfigError
    from reviewbot.github.publish_step import CONFIG_ERROR_TITLE

    git_repo.write("ok.py", "def f(x):\n    return x\n")
    base = git_repo.commit("base")
    git_repo.write("ok.py", "def f(x):\n    return x + 1\n")
    head = git_repo.commit("head")
    broken = b"max_comments: '[evil](http://x.example) #1'\n"  # quoted in the error
    fake.open_pr(
        REPO,
        NUMBER,
        file_patches(git_repo, base, head),
        base_sha=base,
        head_sha=head,
        base_contents={".reviewbot.yml": broken},
    )
    with pytest.raises(ConfigError, match="max_comments"):
        _review(fake)
    comments, issue_comments, reviews, runs = _state(fake)
    assert (comments, issue_comments, reviews) == ([], [], [])
    (run,) = runs
    assert run["conclusion"] == "failure" and run["head_sha"] == head
    assert run["output"]["title"] == CONFIG_ERROR_TITLE
    summary = run["output"]["summary"]
    assert "max\\_comments" in summary and "must be an integer" in summary  # markdown-escaped
    assert "not reviewed" in summary
    assert "](http://x.example)" not in summary and " #1" not in summary  # no live markup
