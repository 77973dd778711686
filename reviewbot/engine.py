"""The one review engine every entry point calls.

    ReviewSource -> parse diff -> select files -> head sources (tree-sitter)
      -> static checks on changed lines
      -> chunks under the token budget -> prompts -> backend -> model findings
      -> test suggestions -> filter (categories, severity, filter mode, dedupe)
      -> ReviewResult

The engine knows nothing of its caller: the CLI, the pre-commit hook, the Action and the
webhook worker each build a ReviewSource and a Config and pick reporters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from reviewbot.answer_budget import findings_schema, string_cap
from reviewbot.backends.base import Backend, BackendInfo, LLMRequest
from reviewbot.chunking import (
    Chunk,
    ChunkItem,
    FileWork,
    build_items,
    estimate_tokens,
    hunk_spans,
    pack,
)
from reviewbot.config import Config, FilterMode
from reviewbot.context.extract import Definition, SourceFile
from reviewbot.coverage import Coverage, Skipped
from reviewbot.diff.model import Diff, FileDiff, LineKind
from reviewbot.diff.parse import parse_diff
from reviewbot.errors import BackendError, ConfigError
from reviewbot.findings import Finding, Side, fingerprint
from reviewbot.forking import ForkMap, can_fork, usable_cpus
from reviewbot.model_findings import anchor_identity, model_findings
from reviewbot.placement import HunkIndex
from reviewbot.progress import NullProgress, Progress
from reviewbot.prompts_render import render
from reviewbot.result import ReviewResult, SuggestOutcome, TestSuggestion
from reviewbot.selection import skip_reason
from reviewbot.sources import CachingReader, FileReader, ReviewSource
from reviewbot.static import analyze

ANSWER_MARGIN = 32
"""Tokens kept free besides max_tokens when the prompt budget comes from max_model_len."""
MIN_ITEMS_BUDGET = 64
"""Fewest tokens a chunk's code may have after the instructions."""


@dataclass(frozen=True, slots=True)
class PreparedFile:
    diff: FileDiff
    source: SourceFile | None
    """Head content; synthesized from the diff when the real file is unavailable."""
    synthesized: bool


@dataclass(frozen=True, slots=True)
class SuggestContext:
    """What the test-suggestion stage gets from the engine."""

    diff: Diff
    files: Sequence[PreparedFile]
    reader: FileReader
    config: Config
    backend: Backend | None
    """None when no model is usable (skeletons only)."""
    model: str | None
    progress: Progress
    max_model_len: int | None = None
    """The served model's context length, when the server reports it (prompt budget)."""


Suggester = Callable[[SuggestContext], SuggestOutcome]


def synthesize_source(fd: FileDiff) -> SourceFile:
    """A stand-in head file built from the diff's new-side lines (blank elsewhere).

    For added files this is the whole file; for modified files the tree is partial but
    tree-sitter recovers well enough for line-local checks.
    """
    numbered = {ln.new_lineno: ln.text for h in fd.hunks for ln in h.lines
                if ln.kind is not LineKind.REMOVED and ln.new_lineno is not None}
    last = max(numbered, default=0)
    text = "\n".join(numbered.get(i, "") for i in range(1, last + 1)) + "\n"
    return SourceFile.from_bytes(fd.path, text.encode("utf-8", "surrogateescape"))


def prepare_files(diff: Diff, reader: FileReader, config: Config
                  ) -> tuple[list[PreparedFile], list[Skipped]]:
    prepared: list[PreparedFile] = []
    skipped: list[Skipped] = []
    prefetch = getattr(reader, "prefetch", None)
    if prefetch is not None:  # one git process for all head files, not one per file
        prefetch([fd.path for fd in diff.files
                  if skip_reason(fd, config.include, config.exclude) is None])
    for fd in diff.files:
        reason = skip_reason(fd, config.include, config.exclude)
        head: bytes | None = None
        if reason is None:
            head = reader.read(fd.path)
            if head is not None:
                reason = skip_reason(fd, config.include, config.exclude, head)
                if reason is None and b"\x00" in head[:8000]:
                    reason = "binary"
        if reason is not None:
            skipped.append(Skipped(fd.path, reason, fd.changed_count()))
            continue
        src = SourceFile.from_bytes(fd.path, head) if head is not None else None
        if src is not None and _agrees(fd, src):
            prepared.append(PreparedFile(fd, src, False))
        else:
            # Unavailable, or not the version the diff describes (a --patch reviewed in a
            # different checkout, a file edited after `git diff`): line numbers would lie.
            prepared.append(PreparedFile(fd, synthesize_source(fd), True))
    return prepared, skipped


def _agrees(fd: FileDiff, src: SourceFile) -> bool:
    """True when ``src`` has the diff's new-side text at the diff's new-side line numbers."""
    lines = src.lines
    n = len(lines)
    for h in fd.hunks:
        for ln in h.lines:
            no = ln.new_lineno
            if no is not None and ln.kind is not LineKind.REMOVED and (
                no > n or lines[no - 1] != ln.text
            ):
                return False
    return True


@dataclass(frozen=True, slots=True)
class FileChecks:
    """What the static stage learns about one file."""

    findings: list[Finding]
    definitions: dict[tuple[int, int], tuple[Definition, ...]]
    """The enclosing definitions of each hunk's span: a process that did not parse the
    file builds its chunk items from these instead of parsing it again."""


_FORK_MIN_BYTES = 512 * 1024
"""Below this much analysable source a review runs its static checks in one process: a
fork and the pickled results would cost more than the second core gives back."""
_PARENT_SHARE = 1.1
"""The parent's load relative to a child's: it builds its own files' chunk items while
the children run, and the children's after they answer."""

StaticJob = ForkMap[PreparedFile, FileChecks]


def static_job(files: Sequence[PreparedFile], config: Config) -> StaticJob:
    """The static checks of ``files`` as a :class:`ForkMap`: for a large change, forked
    children (``config.jobs``; 0 = one per usable CPU) check part of the files while the
    parent checks its share and goes on building chunks."""
    disabled = frozenset(config.disabled_rules)
    weights = [float(len(pf.source.data)) if pf.source is not None and pf.source.language
               else 0.0 for pf in files]
    workers = config.jobs or usable_cpus()
    if sum(weights) < _FORK_MIN_BYTES or not can_fork():
        workers = 1
    return ForkMap(partial(_file_static, disabled=disabled), files, weights, workers=workers,
                   parent_share=1.0 / _PARENT_SHARE)


def _file_static(pf: PreparedFile, disabled: frozenset[str]) -> FileChecks:
    if pf.source is None:
        return FileChecks([], {})
    added = frozenset(ln.new_lineno for h in pf.diff.hunks for ln in h.added()
                      if ln.new_lineno is not None)
    out: list[Finding] = []
    for hit in analyze(pf.source, added, disabled):
        code, occurrence = anchor_identity(pf.source, pf.diff, hit.line, hit.end_line,
                                           Side.RIGHT)
        out.append(Finding(
            path=pf.diff.path, line=hit.line, end_line=hit.end_line, side=Side.RIGHT,
            category=hit.category, severity=hit.severity, title=hit.title,
            message=hit.message, source=hit.rule_id,
            fingerprint=fingerprint(pf.diff.path, code, hit.category, hit.rule_id, occurrence),
            confidence=hit.confidence, suggestion=hit.suggestion, rule_id=hit.rule_id,
            cwe=hit.cwe,
        ))
    definitions: dict[tuple[int, int], tuple[Definition, ...]] = {}
    if pf.source.tree is not None:
        for span in hunk_spans([h.lines for h in pf.diff.hunks]):
            definitions[span] = tuple(pf.source.definitions_at(*span))
    # The chunk items need only these definitions: the tree can go (bounded memory).
    pf.source.remember_definitions(definitions)
    pf.source.release_tree()
    return FileChecks(out, definitions)


def prompt_budget(config: Config, info: BackendInfo, overhead: int) -> int:
    budget = config.llm.max_prompt_tokens
    if info.max_model_len:
        budget = min(budget, info.max_model_len - config.llm.max_tokens - ANSWER_MARGIN)
    items_budget = budget - overhead
    if config.llm.max_prompt_tokens - overhead < MIN_ITEMS_BUDGET:
        raise ConfigError(
            f"llm.max_prompt_tokens ({config.llm.max_prompt_tokens}) leaves no room for code "
            f"after the review instructions ({overhead} tokens)",
            hint=f"set llm.max_prompt_tokens to at least {overhead + MIN_ITEMS_BUDGET}",
        )
    if items_budget < MIN_ITEMS_BUDGET:
        raise BackendError(
            f"the model's context ({info.max_model_len} tokens) leaves no room for code after "
            f"the instructions ({overhead} tokens) and the answer ({config.llm.max_tokens})",
            hint="lower llm.max_tokens or serve the model with a larger --max-model-len",
        )
    return items_budget


def review_requests(chunks: Sequence[Chunk], config: Config) -> list[LLMRequest]:
    system = render("review_system.txt")
    schema = findings_schema(config.llm.max_tokens, string_cap(config.effective_backend()))
    return [LLMRequest(f"chunk-{c.index}", system, render("review_user.txt", items=c.render()),
                       schema, config.llm.max_tokens) for c in chunks]


def filter_findings(findings: Sequence[Finding], diff: Diff, config: Config,
                    dropped: dict[str, int]) -> list[Finding]:
    by_path = diff.by_path()
    indexes: dict[str, HunkIndex] = {}

    def drop(reason: str) -> None:
        dropped[reason] = dropped.get(reason, 0) + 1

    kept: dict[str, Finding] = {}
    mode = config.filter_mode
    for f in findings:
        if f.category not in config.categories:
            drop("category not enabled")
            continue
        if f.severity.rank < config.min_severity.rank:
            drop("below min_severity")
            continue
        fd = by_path.get(f.path)
        if fd is None:
            if mode is not FilterMode.NOFILTER:
                drop("not in diff")
                continue
        else:
            index = indexes.get(fd.path)
            if index is None:
                index = indexes[fd.path] = HunkIndex(fd)
            if mode is FilterMode.ADDED and not index.touches_changed(f.line, f.end_line,
                                                                      f.side):
                drop("not on an added line")
                continue
            f = index.clamp(f, changed_only=mode is FilterMode.ADDED)
            if mode is FilterMode.DIFF_CONTEXT and not index.accepts_range(f.line, f.end_line,
                                                                           f.side):
                drop("outside the diff")
                continue
        old = kept.get(f.fingerprint)
        if old is not None:
            drop("duplicate")
            if f.severity.rank <= old.severity.rank and not (
                old.source.startswith("model:") and not f.source.startswith("model:")
            ):
                continue
        kept[f.fingerprint] = f
    return sorted(kept.values(), key=lambda f: (f.path, f.line, f.end_line, f.category, f.title))


def _open_backend(backend: Backend, config: Config
                  ) -> tuple[BackendInfo | None, str | None, list[str]]:
    """The backend's server facts, or why the model is skipped (static checks go on)."""
    if backend.name == "static":
        return None, None, []
    try:
        return backend.open(), None, []
    except BackendError as exc:
        if config.llm.require_model:
            raise
        return None, exc.message, [f"model skipped: {exc.message}"]


@dataclass(frozen=True, slots=True)
class _Staged:
    findings: list[Finding]
    chunks: list[Chunk]
    too_long: list[Skipped]
    info: BackendInfo | None
    model_error: str | None
    notes: tuple[str, ...]


def _check_and_chunk(prepared: Sequence[PreparedFile], config: Config, backend: Backend,
                     timings: dict[str, float], clock: Callable[[], float]) -> _Staged:
    """Static checks and chunk items of every file. For a large change, forked children
    check part of the files while this process checks its own and builds their items; the
    children's items follow, from the definitions they send back (no second parse)."""
    with static_job(prepared if config.static_checks else [], config) as static:
        t1 = clock()
        static.run_local()
        timings["static"] = clock() - t1
        info, model_error, notes = _open_backend(backend, config)
        t2 = clock()
        count = backend.count_tokens if info is not None else estimate_tokens
        overhead = count(render("review_system.txt")) + count(render("review_user.txt",
                                                                     items=""))
        budget = prompt_budget(config, info or BackendInfo(backend.name, None), overhead)

        def file_items(i: int) -> tuple[list[tuple[ChunkItem, int]], list[Skipped]]:
            pf = prepared[i]
            fw = FileWork(pf.diff.path, [h.lines for h in pf.diff.hunks], pf.source,
                          pf.source.language if pf.source else None, not pf.synthesized)
            try:
                return build_items([fw], budget, count, window=config.context_lines,
                                   max_lines=config.max_context_lines)
            finally:
                if pf.source is not None:
                    pf.source.release_tree()  # parsed again only if a later stage asks

        local = set(static.local) if config.static_checks else set(range(len(prepared)))
        per_file = {i: file_items(i) for i in sorted(local)}
        chunk_time = clock() - t2
        t1 = clock()
        checks = static.results()
        timings["static"] += clock() - t1
    t2 = clock()
    for pf, checked in zip(prepared, checks, strict=False):
        if pf.source is not None and checked.definitions:
            pf.source.remember_definitions(checked.definitions)
    per_file.update((i, file_items(i)) for i in range(len(prepared)) if i not in local)
    order = range(len(prepared))
    chunks = pack([it for i in order for it in per_file[i][0]], budget, count)
    timings["chunk"] = chunk_time + clock() - t2
    return _Staged([f for checked in checks for f in checked.findings], chunks,
                   [s for i in order for s in per_file[i][1]], info, model_error, tuple(notes))


def run_review(
    source: ReviewSource,
    config: Config,
    backend: Backend,
    *,
    progress: Progress | None = None,
    suggester: Suggester | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> ReviewResult:
    """Review ``source`` and return every finding, suggestion and the coverage record."""
    progress = progress or NullProgress()
    timings: dict[str, float] = {}
    t0 = clock()
    diff = parse_diff(source.diff)
    t = clock()
    timings["parse"] = t - t0
    reader = CachingReader(source.reader)
    prepared, skipped = prepare_files(diff, reader, config)
    files = {pf.diff.path: pf for pf in prepared}
    dropped: dict[str, int] = {}

    staged = _check_and_chunk(prepared, config, backend, timings, clock)
    findings, chunks, info = staged.findings, staged.chunks, staged.info
    model_error, notes = staged.model_error, list(staged.notes)
    skipped.extend(staged.too_long)

    failures: list[tuple[int, str]] = []
    problems: list[str] = []
    model_reviewed = 0
    if info is not None and chunks:
        t3 = clock()
        requests = review_requests(chunks, config)
        progress.start(len(requests), "reviewing")
        try:
            results = backend.complete(requests, progress.advance)
        finally:
            progress.finish()
        found, failures = model_findings(chunks, results, files, config, info.model or "model",
                                         dropped)
        findings.extend(found)
        model_reviewed = len(chunks) - len(failures)
        if failures and model_reviewed == 0:
            model_error = f"the model answered no chunk ({failures[0][1]})"
            notes.append(f"model failed on every chunk: {failures[0][1]}")
        elif failures:
            problems.append(f"the model failed on {len(failures)} of {len(chunks)} chunks; "
                            f"their lines got static checks only (first: {failures[0][1]})")
        timings["model"] = clock() - t3

    tests: Sequence[TestSuggestion] = ()
    if config.tests.enabled and suggester is not None:
        t4 = clock()
        outcome = suggester(SuggestContext(diff, prepared, reader, config,
                                           backend if info is not None else None,
                                           info.model if info else None, progress,
                                           info.max_model_len if info else None))
        tests = outcome.tests
        problems.extend(outcome.problems)
        timings["tests"] = clock() - t4
    notes.extend(problems)

    final = filter_findings(findings, diff, config, dropped)
    lines_in_chunks = sum(item.changed_lines() for c in chunks for item in c.items)
    reviewed_paths = {item.path for c in chunks for item in c.items}
    coverage = Coverage(
        files_total=len(diff.files),
        files_reviewed=len(reviewed_paths),
        lines_total=diff.changed_lines(),
        lines_in_chunks=lines_in_chunks,
        skipped=tuple(skipped),
        chunks_total=len(chunks),
        chunks_model_reviewed=model_reviewed,
        chunk_failures=tuple(failures),
        model=info.model if info is not None else None,
        notes=tuple(notes),
    )
    timings["total"] = clock() - t0
    return ReviewResult(
        findings=tuple(final), coverage=coverage, diff=diff, tests=tuple(tests),
        dropped=dropped, timings=timings, backend=backend.name,
        model=info.model if info is not None else None, model_error=model_error,
        label=source.label, head_sha=source.head_sha, problems=tuple(problems),
    )
