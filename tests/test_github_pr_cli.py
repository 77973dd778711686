"""`reviewbot pr OWNER/REPO#N|URL [--dry-run]` in-process against the fake GitHub."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from reviewbot.commands.pr import parse_target
from reviewbot.errors import ReviewbotError
from tests import github_fixtures
from tests.conftest import run_cli
from tests.github_fixtures import QUIET, TOKEN, ShopPR

fake = github_fixtures.fake
shop_pr = github_fixtures.shop_pr


@pytest.mark.parametrize(
    "text, expected",
    [
        ("octo/shop#7", ("octo/shop", 7)),
        ("https://github.com/octo/shop/pull/7", ("octo/shop", 7)),
        ("https://ghe.example.com/octo/shop.py/pull/12/files", ("octo/shop.py", 12)),
    ],
)
def test_targets(text: str, expected: tuple[str, int]) -> None:
    assert parse_target(text) == expected


def test_bad_target() -> None:
    with pytest.raises(ReviewbotError, match="not a pull request"):
        parse_target("octo/shop/7")


def _env(shop_pr: ShopPR, **extra: str) -> dict[str, str]:
    return {**QUIET, "REVIEWBOT_GITHUB_API_URL": shop_pr.fake.base_url, **extra}


def test_dry_run_prints_the_plan_and_writes_nothing(shop_pr: ShopPR, tmp_path: Path) -> None:
    res = run_cli(["pr", "octo/shop#7", "--dry-run"], tmp_path, _env(shop_pr, GITHUB_TOKEN=TOKEN))
    n = len(shop_pr.expected())
    assert res.code == 1, res.err
    assert res.out.count("would post: inline shop/orders.py:") == n
    assert "## reviewbot review" in res.out and "dry run" in res.err
    assert {x.method for x in shop_pr.fake.log} == {"GET"}


def test_posts_with_a_token_and_never_prints_it(shop_pr: ShopPR, tmp_path: Path) -> None:
    url = "https://github.com/octo/shop/pull/7"
    res = run_cli(
        ["pr", url, "--fail-on", "none"], tmp_path, _env(shop_pr, REVIEWBOT_GITHUB_TOKEN=TOKEN)
    )
    n = len(shop_pr.expected())
    assert res.code == 0, res.err
    assert f"{n} comment(s) posted" in res.err
    assert TOKEN not in res.out + res.err
    res = run_cli(["pr", url], tmp_path, _env(shop_pr, GITHUB_TOKEN=TOKEN))
    assert res.code == 1 and "0 comment(s) posted" in res.err and f"{n} already" in res.err


def test_missing_credentials_are_a_usage_error(shop_pr: ShopPR, tmp_path: Path) -> None:
    res = run_cli(["pr", "octo/shop#7"], tmp_path, _env(shop_pr))
    assert res.code == 2 and "no GitHub credentials" in res.err and "GITHUB_TOKEN" in res.err


def test_unknown_pull_request(shop_pr: ShopPR, tmp_path: Path) -> None:
    res = run_cli(["pr", "octo/shop#99"], tmp_path, _env(shop_pr, GITHUB_TOKEN=TOKEN))
    assert res.code == 2 and "pull request #99" in res.err


def test_outcome_describes_itself_in_one_line() -> None:
    """``reviewbot pr`` and the Action print the same line, which the outcome writes."""
    from reviewbot.github.flow import PublishOutcome

    done = PublishOutcome(
        head_sha="a" * 40,
        review_id=1,
        comments_posted=2,
        comments_skipped_existing=3,
        comments_moved_to_summary=4,
        comments_deleted_stale=0,
        summary_comment_id=None,
        check_run_id=None,
        findings_total=9,
        findings_by_severity={},
        findings_by_category={},
        failed=True,
    )
    assert done.describe() == (
        "9 finding(s); 2 comment(s) posted; 3 already on the PR; 4 in the summary only"
    )
    later = replace(done, comments_deleted_stale=1, incremental_since="0123456789abcdef")
    assert later.describe().endswith("; 1 stale removed; changes since 0123456789ab")
    assert replace(done, read_only=True).describe() == "read-only token: nothing was posted"
    assert replace(done, dry_run=True, read_only=True, planned=("x", "y")).describe() == (
        "dry run: 2 planned change(s), nothing written"
    )
