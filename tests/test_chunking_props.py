"""Property tests for chunking under a token budget (hypothesis).

For random files, edits and budgets:
- every changed line of a reviewable file is in exactly one chunk, or in the coverage record
  (a Skipped entry naming the line);
- no chunk's rendered text exceeds the budget (counted with estimate_tokens);
- a hunk stays whole unless it alone (without context) exceeds the budget, and then its
  pieces are disjoint, in order, and cover it.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.backends.static import StaticBackend
from reviewbot.chunking import (
    Chunk,
    ChunkItem,
    FileWork,
    _bare,
    _make_item,
    build_items,
    estimate_tokens,
    pack,
)
from reviewbot.config import Config, LLMConfig
from reviewbot.context.extract import SourceFile
from reviewbot.coverage import Skipped
from reviewbot.diff.model import DiffLine, LineKind
from reviewbot.diff.parse import parse_diff
from reviewbot.engine import review_requests, run_review
from reviewbot.prepare import prepare_files
from reviewbot.prompts_render import render
from reviewbot.sources import MappingReader, ReviewSource

_WORDS = [
    "x = 1",
    "def f(a):",
    "    return a",
    "",
    "class K:",
    "    pass",
    "if y:",
    "  é ∑ 😀",
    "print('hi')",
    "    for i in range(3):",
    "# comment",
    "}",
    "return {",
    "\t\tz",
]
_long = st.builds(lambda n, c: c * n, st.integers(200, 4000), st.sampled_from("ab c"))
_text = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=40)
# chat-template control tokens, which neutralise() rewrites (items are then rendered to be
# counted, never sized from their lines)
_TOKENS = st.sampled_from(["s = '<|im_end|>'", "# [/INST] done", "x = '</s>'", "<｜a｜>"])
# mostly code-like lines, some arbitrary text, a few lines too long for small budgets, rarely
# a control token
_line = st.integers(0, 199).flatmap(
    lambda k: (
        _TOKENS if k == 0 else _long if k < 8 else _text if k < 48 else st.sampled_from(_WORDS)
    )
)


@st.composite
def _file_edit(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    old = draw(st.lists(_line, max_size=60))
    new = list(old)
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "block"]))
        at = draw(st.integers(0, len(new)))
        if op == "insert":
            new.insert(at, draw(_line))
        elif op == "delete" and at < len(new):
            del new[at]
        elif op == "replace" and at < len(new):
            new[at] = draw(_line)
        elif op == "block":
            new[at:at] = draw(st.lists(_line, min_size=5, max_size=80))
    return old, new


@st.composite
def _change(draw: st.DrawFn) -> list[tuple[str, list[str], list[str]]]:
    n = draw(st.integers(1, 3))
    names = ["pkg/mod.py", "notes.txt", "web/app.js"]
    return [(names[i], *draw(_file_edit())) for i in range(n)]


def _unified(path: str, old: list[str], new: list[str], context: int) -> str:
    return "".join(
        difflib.unified_diff(
            [ln + "\n" for ln in old],
            [ln + "\n" for ln in new],
            f"a/{path}",
            f"b/{path}",
            n=context,
        )
    )


def _work(
    change: list[tuple[str, list[str], list[str]]], context: int, with_source: bool
) -> list[FileWork]:
    text = "".join(_unified(p, o, n, context) for p, o, n in change)
    diff = parse_diff(text)
    new_by_path = {p: n for p, _, n in change}
    work = []
    for fd in diff.files:
        src = None
        if with_source:
            data = "".join(ln + "\n" for ln in new_by_path[fd.path]).encode()
            src = SourceFile.from_bytes(fd.path, data)
        work.append(
            FileWork(fd.path, [h.lines for h in fd.hunks], src, src.language if src else None)
        )
    return work


def _check_invariants(
    work: list[FileWork],
    items: list[tuple[ChunkItem, int]],
    skipped: list[Skipped],
    chunks: list[Chunk],
    budget: int,
    window: int,
    max_lines: int,
) -> None:
    # no chunk exceeds the budget; its recorded size is its rendered size
    for chunk in chunks:
        assert chunk.tokens == estimate_tokens(chunk.render()) <= budget
    assert [c.index for c in chunks] == list(range(len(chunks)))
    # packing keeps every item exactly once, in diff order
    packed = [item for c in chunks for item in c.items]
    assert packed == [item for item, _ in items]
    for item, cost in items:
        assert cost == estimate_tokens(item.render()) <= budget

    in_chunks = Counter(
        id(ln) for item in packed for ln in item.lines if ln.kind is not LineKind.CONTEXT
    )
    assert all(n == 1 for n in in_chunks.values()), "a changed line is in two chunks"
    for fw in work:
        not_chunked: list[DiffLine] = [
            ln
            for hunk in fw.hunks
            for ln in hunk
            if ln.kind is not LineKind.CONTEXT and id(ln) not in in_chunks
        ]
        records = [s for s in skipped if s.path == fw.path]
        assert sum(s.lines for s in records) == len(not_chunked)
        details = {s.detail for s in records}
        for ln in not_chunked:
            assert f"line {ln.new_lineno or ln.old_lineno}" in details
            assert all(s.reason == "line too long for the token budget" for s in records)

        segments = [
            (seg_hunk, seg_lines, item)
            for item in packed
            if item.path == fw.path
            for seg_hunk, seg_lines in _segments(item)
        ]
        for hi, hunk in enumerate(fw.hunks):
            pieces = [(lines, item) for h, lines, item in segments if h == hi]
            whole = _make_item(fw, hi, hunk, window, max_lines)
            if estimate_tokens(_bare(whole).render()) <= budget:
                # fits alone: the whole hunk in one item (maybe joined with its neighbours),
                # with all of its context when that fits
                assert [lines for lines, _ in pieces] == [tuple(hunk)]
                item = pieces[0][1]
                if estimate_tokens(whole.render()) <= budget:
                    assert item.context.start_line <= whole.context.start_line
                    assert item.context.end_line >= whole.context.end_line
                    assert len(item.source_lines) == len(whole.source_lines) or item.segments
            else:
                # split on line boundaries: disjoint pieces, in order, each a run of the hunk
                assert all(not item.segments for _, item in pieces)
                flat = [id(ln) for lines, _ in pieces for ln in lines]
                assert len(flat) == len(set(flat))
                positions = {id(ln): i for i, ln in enumerate(hunk)}
                order = [positions[x] for x in flat]
                assert order == sorted(order)
                for lines, _ in pieces:
                    first = positions[id(lines[0])]
                    assert tuple(hunk[first : first + len(lines)]) == lines
    # inside an item, every new-file line is shown once and in order
    for item in packed:
        numbers = [int(m) for m in _NUMBERED.findall(item.text)]
        assert numbers == sorted(set(numbers))


_NUMBERED = re.compile(r"^[ +] +(\d+) \| ", re.MULTILINE)


def _segments(item: ChunkItem) -> list[tuple[int, tuple[DiffLine, ...]]]:
    out, pos = [], 0
    for k, size in enumerate(item.segments or (len(item.lines),)):
        out.append((item.hunk_index + k, item.lines[pos : pos + size]))
        pos += size
    return out


CHANGES = {
    "change": _change(),
    "budget": st.integers(20, 3000),
    "context": st.integers(0, 5),
    "window": st.integers(0, 60),
    "max_lines": st.integers(1, 150),
    "with_source": st.booleans(),
}
"""A random change and the chunking knobs, for the property tests below."""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**CHANGES)
def test_chunking_invariants(
    change: list[tuple[str, list[str], list[str]]],
    budget: int,
    context: int,
    window: int,
    max_lines: int,
    with_source: bool,
) -> None:
    work = _work(change, context, with_source)
    items, skipped = build_items(work, budget, estimate_tokens, window=window, max_lines=max_lines)
    chunks = pack(items, budget, estimate_tokens)
    _check_invariants(work, items, skipped, chunks, budget, window, max_lines)


@st.composite
def _spread_edits(draw: st.DrawFn) -> list[tuple[str, list[str], list[str]]]:
    """A long file with several small edits spread out: many hunks whose contexts may
    overlap (joined items) or not."""
    old = draw(st.lists(st.sampled_from(_WORDS), min_size=80, max_size=300))
    new = list(old)
    for at in sorted(
        draw(st.sets(st.integers(0, len(old) - 1), min_size=2, max_size=10)), reverse=True
    ):
        new[at] = draw(st.sampled_from(["x = 2", "    return b", "y = f(x)", ""]))
        if draw(st.booleans()):
            new.insert(at, "# added")
    return [("pkg/mod.py", old, new)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    change=_spread_edits(),
    budget=st.integers(100, 4000),
    context=st.integers(0, 3),
    window=st.integers(5, 40),
    max_lines=st.integers(1, 150),
)
def test_chunking_invariants_with_joined_hunks(
    change: list[tuple[str, list[str], list[str]]],
    budget: int,
    context: int,
    window: int,
    max_lines: int,
) -> None:
    work = _work(change, context, True)
    items, skipped = build_items(work, budget, estimate_tokens, window=window, max_lines=max_lines)
    chunks = pack(items, budget, estimate_tokens)
    _check_invariants(work, items, skipped, chunks, budget, window, max_lines)
    # joined items never repeat a line that separate items would have shown twice
    for item, _ in items:
        if item.segments:
            assert len(item.segments) >= 2 and sum(item.segments) == len(item.lines)


OVERHEAD = estimate_tokens(render("review_system.txt")) + estimate_tokens(
    render("review_user.txt", items="")
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(change=_change(), extra=st.integers(64, 2500))
def test_engine_prompts_fit_and_coverage_adds_up(
    change: list[tuple[str, list[str], list[str]]], extra: int
) -> None:
    """Through the engine: every request's whole prompt (system + user) fits
    llm.max_prompt_tokens, and the coverage record accounts for every changed line."""
    config = Config(llm=LLMConfig(max_prompt_tokens=OVERHEAD + extra))
    text = "".join(_unified(p, o, n, 3) for p, o, n in change)
    files = {p: "".join(ln + "\n" for ln in n).encode() for p, _, n in change}
    source = ReviewSource(text.encode(), MappingReader(files), "prop")
    result = run_review(source, config, StaticBackend())
    cov = result.coverage
    assert cov.lines_total == result.diff.changed_lines()
    assert cov.lines_in_chunks + sum(s.lines for s in cov.skipped) == cov.lines_total

    prepared, _ = prepare_files(result.diff, MappingReader(files), config)
    work = [
        FileWork(
            pf.diff.path,
            [h.lines for h in pf.diff.hunks],
            pf.source,
            pf.source.language if pf.source else None,
        )
        for pf in prepared
    ]
    items, _ = build_items(
        work,
        extra,
        estimate_tokens,
        window=config.context_lines,
        max_lines=config.max_context_lines,
    )
    for req in review_requests(pack(items, extra, estimate_tokens), config):
        assert (
            estimate_tokens(req.system) + estimate_tokens(req.user) <= config.llm.max_prompt_tokens
        )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**CHANGES)
def test_static_count_sizes_items_without_rendering_them(
    change: list[tuple[str, list[str], list[str]]],
    budget: int,
    context: int,
    window: int,
    max_lines: int,
    with_source: bool,
) -> None:
    """Counted with estimate_tokens itself, items are sized from their lines (rendered only
    when a control token would be rewritten); counted by any other function, they are
    rendered. Both give the same items, costs and chunks."""

    def by_text(text: str) -> int:
        return estimate_tokens(text)

    sized = build_items(
        _work(change, context, with_source),
        budget,
        estimate_tokens,
        window=window,
        max_lines=max_lines,
    )
    rendered = build_items(
        _work(change, context, with_source), budget, by_text, window=window, max_lines=max_lines
    )
    assert sized == rendered
    chunks = pack(sized[0], budget, estimate_tokens)
    assert [(c.items, c.tokens) for c in chunks] == [
        (c.items, c.tokens) for c in pack(rendered[0], budget, by_text)
    ]
    for item, _ in sized[0]:
        assert (item._text is None) == (item.sizes is not None and item.sizes.exact())
    for chunk in chunks:
        assert chunk.tokens == estimate_tokens(chunk.render())


def test_single_huge_line_is_recorded_not_dropped() -> None:
    work = _work([("a.py", ["x = 1"], ["x = " + "9" * 3000])], 3, True)
    items, skipped = build_items(work, 100, estimate_tokens)
    chunks = pack(items, 100, estimate_tokens)
    assert [(s.path, s.reason, s.lines, s.detail) for s in skipped] == [
        ("a.py", "line too long for the token budget", 1, "line 1")
    ]
    assert [ln.kind for c in chunks for i in c.items for ln in i.lines] == [LineKind.REMOVED]


def test_small_hunks_share_a_chunk_and_a_big_one_is_split() -> None:
    old = [f"v{i} = {i}" for i in range(400)]
    new = list(old)
    new[10] = "v10 = 'changed'"
    new[200:200] = [f"w{i} = {i}" for i in range(150)]
    work = _work([("a.py", old, new)], 3, True)
    items, skipped = build_items(work, 400, estimate_tokens, window=5)
    chunks = pack(items, 400, estimate_tokens)
    assert skipped == []
    by_hunk = Counter(item.hunk_index for item, _ in items)
    assert by_hunk[0] == 1 and by_hunk[1] > 1  # the 150-line hunk does not fit 400 tokens
    _check_invariants(work, items, skipped, chunks, 400, 5, 120)


def test_neighbouring_hunks_share_one_item_and_findings_stay_in_one_hunk() -> None:
    from reviewbot.backends.base import LLMResult
    from reviewbot.model_findings import model_findings
    from reviewbot.prepare import PreparedFile

    old = ["def big(x):"] + [f"    x = x + {i}" for i in range(1, 30)] + ["    return x", ""]
    new = list(old)
    new[5] = "    x = x * 5"
    new[25] = "    x = x * 25"
    work = _work([("a.py", old[:-1], new[:-1])], 3, True)
    assert len(work[0].hunks) == 2
    items, skipped = build_items(work, 2000, estimate_tokens, window=5)
    assert skipped == [] and len(items) == 1
    item = items[0][0]
    assert item.segments == (8, 8) and item.context.whole_definition
    assert (item.context.start_line, item.context.end_line, item.context.symbol) == (1, 31, "big")
    numbers = [int(m) for m in _NUMBERED.findall(item.text)]
    assert numbers == list(range(1, 32))  # the function once, hunks in place
    assert [sorted(s) for s in item.hunk_line_sets()] == [list(range(3, 10)), list(range(23, 30))]
    chunks = pack(items, 2000, estimate_tokens)
    diff = parse_diff(_unified("a.py", old[:-1], new[:-1], 3))
    files = {"a.py": PreparedFile(diff.files[0], work[0].source, False)}
    raw = [
        {
            "path": "a.py",
            "line": 6,
            "end_line": 26,
            "category": "bug",
            "severity": "error",
            "title": "spans two hunks",
            "message": "m",
        },
        {
            "path": "a.py",
            "line": 26,
            "end_line": 27,
            "category": "bug",
            "severity": "warning",
            "title": "inside one hunk",
            "message": "m",
        },
    ]
    answered = model_findings(
        chunks, [LLMResult("chunk-0", ({"findings": raw},))], files, Config(), "tiny"
    )
    found, failures, dropped = answered.found, answered.failures, answered.dropped
    assert failures == [] and dropped == {"outside chunk": 1}
    assert [(f.line, f.end_line, f.title) for f in found] == [(26, 27, "inside one hunk")]


def test_patch_without_files_sends_no_invented_context() -> None:
    """A head file synthesized from the diff has blanks outside the hunks: its lines are
    never shown as context (they would be invented), only the diff lines."""
    old = [f"v{i} = {i}" for i in range(60)]
    new = list(old)
    new[30] = "v30 = 'x'"
    text = _unified("a.py", old, new, 3)
    result = run_review(
        ReviewSource(text.encode(), MappingReader({}), "p"), Config(), StaticBackend()
    )
    fd = result.diff.files[0]
    from reviewbot.prepare import synthesize_source

    work = [
        FileWork(
            "a.py", [h.lines for h in fd.hunks], synthesize_source(fd), "python", show_source=False
        )
    ]
    items, _ = build_items(work, 2000, estimate_tokens, window=20)
    numbers = [int(m) for m in _NUMBERED.findall(items[0][0].text)]
    assert numbers == list(range(28, 35))  # the hunk only, not a 20-line window of blanks


def test_model_findings_on_identical_lines_are_not_merged() -> None:
    from reviewbot.backends.base import LLMResult
    from reviewbot.model_findings import model_findings
    from reviewbot.prepare import PreparedFile

    old = [f"v{i} = {i}" for i in range(30)]
    new = list(old)
    new[5] = new[20] = "total = total + price"  # the same new line twice
    work = _work([("a.py", old, new)], 3, True)
    items, _ = build_items(work, 4000, estimate_tokens, window=5)
    chunks = pack(items, 4000, estimate_tokens)
    assert len(chunks) == 1
    diff = parse_diff(_unified("a.py", old, new, 3))
    files = {"a.py": PreparedFile(diff.files[0], work[0].source, False)}
    raw = [
        {
            "path": "a.py",
            "line": n,
            "end_line": n,
            "category": "bug",
            "severity": "warning",
            "title": "possible overflow",
            "message": "m",
        }
        for n in (6, 21, 21)
    ]
    answered = model_findings(
        chunks, [LLMResult("chunk-0", ({"findings": raw},))], files, Config(), "tiny"
    )
    found, dropped = answered.found, answered.dropped
    assert sorted(f.line for f in found) == [6, 21]  # the repeat of 21 is one finding
    assert len({f.fingerprint for f in found}) == 2
    assert dropped == {"repeated in one answer": 1}


def test_pieces_of_a_split_hunk_show_their_neighbours_as_added_and_accept_findings() -> None:
    """A hunk too large for one prompt is split; each piece's context shows the lines of
    the other pieces as they are in the diff (added, not unchanged), and an answer on one of
    them is kept: GitHub accepts any line of the hunk."""
    from reviewbot.backends.base import LLMResult
    from reviewbot.model_findings import model_findings
    from reviewbot.prepare import PreparedFile

    old = [f"v{i} = {i}" for i in range(40)]
    new = old[:20] + [f"w{i} = {i}" for i in range(120)] + old[20:]
    work = _work([("a.py", old, new)], 3, True)
    items, skipped = build_items(work, 400, estimate_tokens, window=5)
    assert skipped == [] and len(items) > 1 and all(i.hunk for i, _ in items)
    first = items[0][0]
    own = {ln.new_lineno for ln in first.lines}
    shown = dict((int(n), mark) for mark, n in re.findall(r"^([+ ]) +(\d+) \|", first.text, re.M))
    neighbours = {n for n in shown if n not in own and 21 <= n <= 140}
    assert neighbours and all(shown[n] == "+" for n in neighbours)
    assert all(shown[n] == " " for n in shown if n < 21 or n > 140)
    assert neighbours <= first.right_lines()
    chunks = pack(items[:1], 400, estimate_tokens)
    diff = parse_diff(_unified("a.py", old, new, 3))
    files = {"a.py": PreparedFile(diff.files[0], work[0].source, False)}
    target = max(neighbours)
    raw = [
        {
            "path": "a.py",
            "line": target,
            "end_line": target,
            "category": "bug",
            "severity": "error",
            "title": "on a neighbour's line",
            "message": "m",
        }
    ]
    answered = model_findings(
        chunks, [LLMResult("chunk-0", ({"findings": raw},))], files, Config(), "tiny"
    )
    found, dropped = answered.found, answered.dropped
    assert dropped == {} and [f.line for f in found] == [target]


def test_a_piece_of_only_removed_lines_takes_its_window_from_the_new_file() -> None:
    old = [f"v{i} = {i}" for i in range(300)]
    new = old[:5] + old[200:]  # 195 lines removed at new line 6: pieces have no new numbers
    work = _work([("a.py", old, new)], 3, True)
    items, skipped = build_items(work, 300, estimate_tokens, window=4)
    assert skipped == [] and len(items) > 1
    for item, _ in items:
        if all(ln.kind is LineKind.REMOVED for ln in item.lines):
            # new-file lines around line 5/6, not old-file numbers up to 200
            assert item.context.start_line <= 6 and item.context.end_line <= 12, item.context
