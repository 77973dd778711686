"""The token budget (from the config and the server's max_model_len), file selection, and
the filter modes applied to findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from reviewbot.backends.base import BackendInfo, LLMRequest, LLMResult, ProgressCallback
from reviewbot.budget import ANSWER_MARGIN, prompt_budget
from reviewbot.chunking import estimate_tokens
from reviewbot.config import Config, FilterMode, LLMConfig
from reviewbot.diff.model import FileStatus
from reviewbot.diff.parse import parse_diff
from reviewbot.engine import run_review
from reviewbot.errors import BackendError, ConfigError
from reviewbot.filtering import filter_findings
from reviewbot.findings import Category, Finding, Severity, Side, fingerprint
from reviewbot.selection import match_glob, skip_reason
from reviewbot.sources import MappingReader, ReviewSource


def test_prompt_budget_respects_the_model_context() -> None:
    cfg = Config(llm=LLMConfig(max_prompt_tokens=6000, max_tokens=1000))
    assert prompt_budget(cfg, BackendInfo("vllm", "m", None), 700) == 6000 - 700
    assert (
        prompt_budget(cfg, BackendInfo("vllm", "m", 4096), 700) == 4096 - 1000 - ANSWER_MARGIN - 700
    )
    assert prompt_budget(cfg, BackendInfo("vllm", "m", 16384), 700) == 6000 - 700
    with pytest.raises(BackendError, match="--max-model-len"):
        prompt_budget(cfg, BackendInfo("vllm", "m", 1700), 700)
    with pytest.raises(ConfigError, match="at least 764"):
        prompt_budget(
            Config(llm=LLMConfig(max_prompt_tokens=700)), BackendInfo("static", None), 700
        )


class SmallContextBackend:
    """A backend whose model has a small context: records every request it is sent and
    answers each with no findings."""

    name = "small"

    def __init__(self, max_model_len: int) -> None:
        self.max_model_len = max_model_len
        self.requests: list[LLMRequest] = []

    def open(self) -> BackendInfo:
        return BackendInfo("small", "tiny-model", self.max_model_len)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressCallback | None = None
    ) -> list[LLMResult]:
        self.requests.extend(requests)
        return [LLMResult(r.key, ({"findings": []},)) for r in requests]

    def close(self) -> None:
        return None


def test_requests_fit_the_server_context_and_leave_room_for_the_answer() -> None:
    lines = [f"def f{i}(x):\n    return x + {i}\n" for i in range(300)]
    head = "".join(lines).encode()
    diff = "--- a/m.py\n+++ b/m.py\n@@ -0,0 +1,600 @@\n" + "".join(
        "+" + ln + "\n" for ln in "".join(lines).splitlines()
    )
    backend = SmallContextBackend(2048)
    config = Config(llm=LLMConfig(max_tokens=256))
    result = run_review(
        ReviewSource(diff.encode(), MappingReader({"m.py": head}), "t"), config, backend
    )
    assert len(backend.requests) > 1 and result.coverage.chunks_model_reviewed == len(
        backend.requests
    )
    for req in backend.requests:
        used = estimate_tokens(req.system) + estimate_tokens(req.user)
        assert used + req.max_tokens + ANSWER_MARGIN <= 2048  # type: ignore[operator]
    cov = result.coverage
    assert cov.lines_in_chunks == cov.lines_total == 600 and cov.skipped == ()


def test_with_no_model_to_ask_no_chunk_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """The static backend sends no prompt, so the engine builds no chunk items (they were
    a third of a static review's time); coverage still counts every checked line."""
    import reviewbot.engine as engine
    from reviewbot.backends.static import StaticBackend

    def no_items(*args: object, **kwargs: object) -> None:
        raise AssertionError("chunk items were built for a review that asks no model")

    monkeypatch.setattr(engine, "_file_items", no_items)
    head = "".join(f"v{i} = eval(x{i})\n" for i in range(40)).encode()
    diff = "--- a/m.py\n+++ b/m.py\n@@ -0,0 +1,40 @@\n" + "".join(
        "+" + ln + "\n" for ln in head.decode().splitlines()
    )
    notes = b"--- a/n.md\n+++ b/n.md\n@@ -0,0 +1 @@\n+hello\n"
    source = ReviewSource(
        diff.encode() + notes, MappingReader({"m.py": head, "n.md": b"hello\n"}), "t"
    )
    result = run_review(source, Config(), StaticBackend())
    cov = result.coverage
    assert (cov.files_reviewed, cov.lines_in_chunks, cov.chunks_total) == (2, 41, 0)
    assert "static checks only" in cov.summary() and result.findings


@pytest.mark.parametrize(
    "path, pattern, expected",
    [
        ("docs/a.md", "docs/**", True),
        ("src/docs/a.md", "docs/**", False),
        ("src/docs/a.md", "**/docs/**", True),
        ("a.md", "*.md", True),
        ("x/y/a.md", "*.md", True),
        ("src/gen/x.py", "gen", True),
        ("src/gen/x.py", "/src/gen/", True),
        ("src/general.py", "gen", False),
        ("a/b.py", "a/*.py", True),
        ("a/b/c.py", "a/*.py", False),
    ],
)
def test_glob_matching(path: str, pattern: str, expected: bool) -> None:
    assert match_glob(path, pattern) is expected


def _fd(path: str) -> str:
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-old\n+new\n"


@pytest.mark.parametrize(
    "path, head, include, exclude, reason",
    [
        ("src/a.py", None, (), (), None),
        ("package-lock.json", None, (), (), "lock file"),
        ("sub/Cargo.lock", None, (), (), "lock file"),
        ("vendor/lib/x.go", None, (), (), "vendored"),
        ("web/node_modules/p/i.js", None, (), (), "vendored"),
        ("app.min.js", None, (), (), "generated"),
        ("api_pb2.py", None, (), (), "generated"),
        ("models.py", b"# Code generated by protoc. DO NOT EDIT.\n", (), (), "generated"),
        ("docs/x.py", None, (), ("docs/**",), "excluded"),
        ("lib/x.py", None, ("src/**",), (), "not included"),
        ("src/x.py", None, ("src/**",), ("src/x.py",), "excluded"),
    ],
)
def test_file_selection(
    path: str,
    head: bytes | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    reason: str | None,
) -> None:
    fd = parse_diff(_fd(path)).files[0]
    assert fd.status is FileStatus.MODIFIED
    assert skip_reason(fd, include, exclude, head) == reason


def _finding(
    path: str,
    line: int,
    side: Side = Side.RIGHT,
    end: int | None = None,
    severity: Severity = Severity.WARNING,
    title: str = "t",
) -> Finding:
    return Finding(
        path,
        line,
        end or line,
        side,
        Category.BUG,
        severity,
        title,
        "m",
        "model:x",
        fingerprint(path, f"{line}{side}{title}", Category.BUG, title),
    )


FILTER_DIFF = """\
--- a/a.py
+++ b/a.py
@@ -10,5 +10,5 @@
 c10
 c11
-old12
+new12
 c13
 c14
"""


@pytest.mark.parametrize(
    "mode, kept",
    [
        (FilterMode.ADDED, {"added", "removed", "range in hunk"}),  # ranges touching a + line
        # a range that leaves its hunk is narrowed to the hunk (13..20 -> 13..14), not dropped
        (
            FilterMode.DIFF_CONTEXT,
            {"added", "removed", "context", "range in hunk", "range leaving hunk"},
        ),
        (
            FilterMode.FILE,
            {"added", "removed", "context", "range in hunk", "outside hunk", "range leaving hunk"},
        ),
        (
            FilterMode.NOFILTER,
            {
                "added",
                "removed",
                "context",
                "range in hunk",
                "outside hunk",
                "range leaving hunk",
                "other file",
            },
        ),
    ],
)
def test_filter_modes(mode: FilterMode, kept: set[str]) -> None:
    diff = parse_diff(FILTER_DIFF)
    findings = [
        _finding("a.py", 12, title="added"),
        _finding("a.py", 12, Side.LEFT, title="removed"),
        _finding("a.py", 10, title="context"),
        _finding("a.py", 10, end=14, title="range in hunk"),
        _finding("a.py", 40, title="outside hunk"),
        _finding("a.py", 13, end=20, title="range leaving hunk"),
        _finding("b.py", 1, title="other file"),
    ]
    filtered = filter_findings(findings, diff, Config(filter_mode=mode))
    out, dropped = filtered.findings, filtered.dropped
    assert {f.title for f in out} == kept
    assert sum(dropped.values()) == len(findings) - len(kept)
    leaving = [f for f in out if f.title == "range leaving hunk"]
    if mode is FilterMode.DIFF_CONTEXT:
        assert [(f.line, f.end_line) for f in leaving] == [(13, 14)]


def test_a_range_over_an_added_line_is_narrowed_to_its_changed_lines() -> None:
    # a rule's node spans 1..400; only line 12 changed: the comment sits on 12, without the
    # suggestion (it was written to replace the whole node)
    diff = parse_diff(FILTER_DIFF)
    wide = replace(_finding("a.py", 1, end=400, title="wide"), suggestion="x = 1\n")
    for mode in (FilterMode.ADDED, FilterMode.DIFF_CONTEXT, FilterMode.FILE):
        (out,) = filter_findings([wide], diff, Config(filter_mode=mode)).findings
        assert out.suggestion is None
        want = (12, 12) if mode is FilterMode.ADDED else (10, 14)
        assert (out.line, out.end_line) == want, mode


def test_filter_severity_categories_and_duplicates() -> None:
    diff = parse_diff(FILTER_DIFF)
    info = _finding("a.py", 12, severity=Severity.INFO, title="minor")
    err = _finding("a.py", 12, severity=Severity.ERROR, title="major")
    dup = _finding("a.py", 12, severity=Severity.ERROR, title="major")
    cfg = Config(min_severity=Severity.WARNING)
    out = filter_findings([info, err, dup], diff, cfg)
    assert [f.title for f in out.findings] == ["major"]
    assert out.dropped == {"below min_severity": 1, "duplicate": 1}
    cfg = Config(categories=frozenset({Category.SECURITY}))
    out = filter_findings([err], diff, cfg)
    assert out.findings == [] and out.dropped == {"category not enabled": 1}
