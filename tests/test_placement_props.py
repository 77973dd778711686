"""Property tests: every finding the engine outputs sits at an anchor GitHub accepts.

For random files, random edits (so: several hunks, pure insertions and deletions, edits at
the ends) and random findings on either side with ranges of any length, after the filter:
- in ``added`` and ``diff_context`` mode every finding is a range GitHub accepts as it is
  (both ends in one hunk, on the finding's side), so the publisher posts it inline exactly;
- in ``added`` mode each one also covers a changed line;
- in ``file`` and ``nofilter`` mode a finding that meets a hunk is inside it; the rest are
  untouched (they go to the summary);
- :class:`HunkIndex` answers exactly as :meth:`FileDiff.accepts_range` does.
"""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.config import Config, FilterMode
from reviewbot.diff.model import Diff, FileDiff, LineKind
from reviewbot.diff.parse import parse_diff
from reviewbot.filtering import filter_findings
from reviewbot.findings import Category, Finding, Severity, Side, fingerprint
from reviewbot.github.plan import anchor
from reviewbot.placement import HunkIndex

_line = st.sampled_from(["a", "b", "c", "d", "def f():", "    return 1", "", "x = 2"])


@st.composite
def _edit(draw: st.DrawFn) -> FileDiff:
    old = draw(st.lists(_line, min_size=0, max_size=80))
    new = list(old)
    for _ in range(draw(st.integers(1, 10))):
        at = draw(st.integers(0, len(new)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            new[at:at] = draw(st.lists(_line, min_size=1, max_size=5))
        elif at < len(new):
            n = draw(st.integers(1, 5))
            new[at : at + n] = [] if op == "delete" else draw(st.lists(_line, max_size=4))
    if new == old:
        new.append("appended")
    context = draw(st.integers(0, 4))
    text = "".join(
        difflib.unified_diff(
            [s + "\n" for s in old], [s + "\n" for s in new], "a/m.py", "b/m.py", n=context
        )
    )
    (fd,) = parse_diff(text).files
    return fd


@st.composite
def _findings(draw: st.DrawFn) -> list[Finding]:
    out = []
    for i in range(draw(st.integers(1, 12))):
        line = draw(st.integers(1, 100))
        end = line + draw(st.integers(0, 60))
        side = draw(st.sampled_from([Side.RIGHT, Side.LEFT]))
        title = f"f{i}"
        out.append(
            Finding(
                "m.py",
                line,
                end,
                side,
                Category.BUG,
                Severity.WARNING,
                title,
                "m",
                "py.rule",
                fingerprint("m.py", title, Category.BUG, title),
                suggestion="fixed\n",
            )
        )
    return out


def _hunk_lines(fd: FileDiff, side: Side) -> set[int]:
    """The lines of ``fd``'s hunks on ``side`` (context lines are on both)."""
    other = LineKind.ADDED if side is Side.LEFT else LineKind.REMOVED
    return {
        (ln.old_lineno if side is Side.LEFT else ln.new_lineno) or 0
        for h in fd.hunks
        for ln in h.lines
        if ln.kind is not other
    }


@settings(max_examples=300, deadline=None)
@given(_edit(), _findings())
def test_filtered_findings_sit_at_anchors_github_accepts(
    fd: FileDiff, findings: list[Finding]
) -> None:
    diff = Diff((fd,))
    for mode in FilterMode:
        out = filter_findings(findings, diff, Config(filter_mode=mode)).findings
        for f in out:
            meets = any(f.line <= n <= f.end_line for n in _hunk_lines(fd, f.side))
            if mode in (FilterMode.ADDED, FilterMode.DIFF_CONTEXT) or meets:
                assert fd.accepts_range(f.line, f.end_line, f.side), (mode, f)
                placed = anchor(f, diff)
                assert placed is not None and placed[2], (mode, f)
            if mode is FilterMode.ADDED:
                changed = {
                    ln.anchor_line for h in fd.hunks for ln in h.changed() if ln.side is f.side
                }
                assert changed & set(range(f.line, f.end_line + 1)), f
            original = next(g for g in findings if g.title == f.title)
            assert original.line <= f.line <= f.end_line <= original.end_line
            if (f.line, f.end_line) != (original.line, original.end_line):
                assert f.suggestion is None


@settings(max_examples=200, deadline=None)
@given(_edit(), st.integers(1, 100), st.integers(-2, 40), st.sampled_from(list(Side)))
def test_hunk_index_agrees_with_the_diff_model(
    fd: FileDiff, start: int, span: int, side: Side
) -> None:
    assert HunkIndex(fd).accepts_range(start, start + span, side) == fd.accepts_range(
        start, start + span, side
    )
