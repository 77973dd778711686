"""Planning and formatting, before any write: anchors, cap, dedupe, stale, markers, escaping."""

from __future__ import annotations

import re

from reviewbot.diff.parse import parse_diff
from reviewbot.findings import Category, Finding, Severity, Side
from reviewbot.github.checks import workflow_commands
from reviewbot.github.markers import (
    SUMMARY_MARKER,
    fp_marker,
    is_summary,
    parse_fp,
    parse_reviewed,
    reviewed_marker,
)
from reviewbot.github.plan import ExistingComment, comment_body, make_plan
from reviewbot.github.reader import PRFile, build_diff

PATCH = (
    "@@ -1,3 +1,4 @@\n a = 1\n-b = 2\n+b = 3\n+c = 4\n d = 5\n"
    "@@ -20,2 +21,3 @@\n x = 1\n+y = 2\n z = 3"
)
DIFF = parse_diff(build_diff([PRFile("m.py", None, "modified", PATCH, 4)]))


def finding(
    line: int,
    end: int | None = None,
    *,
    sev: Severity = Severity.WARNING,
    fp: str | None = None,
    side: Side = Side.RIGHT,
    suggestion: str | None = None,
    title: str = "t",
) -> Finding:
    return Finding(
        "m.py",
        line,
        end or line,
        side,
        Category.BUG,
        sev,
        title,
        "msg",
        "rule",
        fp or f"{line:06x}{(end or line):06x}",
        suggestion=suggestion,
    )


def test_anchors_are_checked_against_the_diff() -> None:
    plan = make_plan(
        [finding(2, 3), finding(3, 22), finding(10), finding(2, side=Side.LEFT), finding(22)],
        DIFF,
        [],
        cap=30,
        reviewed_paths={"m.py"},
    )
    placed = {(c.start_line, c.line, c.side.value) for c in plan.inline}
    assert placed == {(2, 3, "RIGHT"), (None, 22, "RIGHT"), (None, 2, "LEFT")}
    # 3..22 spans two hunks: placed on its last line; 10 is in no hunk: summary
    assert [(f.line, why) for f, why in plan.to_summary] == [
        (10, "no line of the diff to attach it to")
    ]


def test_a_range_that_cannot_be_kept_drops_its_suggestion() -> None:
    ok = finding(2, 3, suggestion="b = 3\nc = 5\n")
    split = finding(3, 22, suggestion="nope\n")
    plan = make_plan([ok, split], DIFF, [], cap=30, reviewed_paths={"m.py"})
    bodies = {c.finding.fingerprint: c.body for c in plan.inline}
    assert "```suggestion\nb = 3\nc = 5\n```" in bodies[ok.fingerprint]
    assert "suggestion" not in bodies[split.fingerprint]
    assert {c.payload()["side"] for c in plan.inline} == {"RIGHT"}
    ranged = next(c for c in plan.inline if c.finding is ok).payload()
    assert (ranged["start_line"], ranged["line"], ranged["start_side"]) == (2, 3, "RIGHT")


def test_cap_counts_comments_already_on_the_pr_and_keeps_the_most_severe() -> None:
    findings = [finding(2), finding(3, sev=Severity.ERROR), finding(4), finding(22)]
    existing = [ExistingComment(1, "m.py", findings[0].fingerprint, "warning", "bug", False, False)]
    plan = make_plan(findings, DIFF, existing, cap=2, reviewed_paths={"m.py"})
    assert [c.finding.line for c in plan.inline] == [3]
    assert [f.line for f in plan.existing] == [2]
    assert sorted(f.line for f, _ in plan.to_summary) == [4, 22]


def test_stale_outdated_replied_and_unreviewed_comments() -> None:
    f = finding(2)
    existing = [
        ExistingComment(1, "m.py", "gone", "warning", "bug", False, False),  # stale
        ExistingComment(2, "m.py", "gone2", "warning", "bug", True, False),  # replied: kept
        ExistingComment(3, "m.py", f.fingerprint, "warning", "bug", False, True),  # outdated
        ExistingComment(4, "other.py", "gone3", "error", "bug", False, False),  # not reviewed
    ]
    plan = make_plan([f], DIFF, existing, cap=30, reviewed_paths={"m.py"})
    assert {c.id for c in plan.stale} == {1, 3}
    assert [c.id for c in plan.kept_earlier] == [4]
    assert [c.finding.line for c in plan.inline] == [2]  # outdated: posted again at its line


def test_markers_round_trip_and_only_trailing_markers_count() -> None:
    f = finding(2, suggestion=fp_marker("f" * 24, "error", "bug") + "\n")
    body = comment_body(f, True)
    assert parse_fp(body) is not None and parse_fp(body).fingerprint == f.fingerprint  # type: ignore[union-attr]
    assert parse_fp("text\n" + fp_marker("a" * 24, "error", "bug") + "\nmore\nlines\nhere") is None
    summary = f"## x\n\n{SUMMARY_MARKER}\n{reviewed_marker('ab' * 20)}\n"
    assert is_summary(summary) and parse_reviewed(summary) == "ab" * 20
    assert not is_summary(f"{SUMMARY_MARKER}\n" + "line\n" * 5)


def test_untrusted_text_is_escaped() -> None:
    f = Finding(
        "m.py",
        2,
        2,
        Side.RIGHT,
        Category.BUG,
        Severity.ERROR,
        "<!-- reviewbot:summary --> @admin",
        "<img src=x> ping @team",
        "model:m",
        "ab" * 12,
    )
    body = comment_body(f, True)
    outside_code = re.sub(r"`[^`]*`", "", body)
    assert "<img" not in body and "@admin" not in outside_code and "`@admin`" in body
    assert body.count("<!-- reviewbot") == 1
    (cmd,) = workflow_commands(
        [
            Finding(
                "a,b:c.py",
                1,
                1,
                Side.RIGHT,
                Category.BUG,
                Severity.ERROR,
                "x",
                "line1\n::set-env name=X::1",
                "r",
                "cd" * 12,
            )
        ]
    )
    assert cmd == "::error file=a%2Cb%3Ac.py,line=1,endLine=1,title=x::line1%0A::set-env name=X::1"
    assert "\n" not in cmd


def test_workflow_commands_respect_the_per_level_limit() -> None:
    many = [finding(i, fp=f"{i:024x}") for i in range(1, 30)]
    assert len(workflow_commands(many)) == 10
