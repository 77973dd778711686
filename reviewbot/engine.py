"""The one review engine every entry point calls.

    ReviewSource -> parse diff -> select files -> head sources (tree-sitter)
      -> static checks on changed lines
      -> chunks under the token budget -> prompts -> backend -> model findings
      -> test suggestions
      + imported linter results (reviewbot.imports: SARIF, rdjson, checkstyle ...)
      -> filter (categories, severity, filter mode, dedupe, cross-tool dedupe)
      -> ReviewResult

The engine knows nothing of its caller: the CLI, the pre-commit hook, the Action and the
webhook worker each build a ReviewSource and a Config and pick reporters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reviewbot.answer_budget import findings_schema, string_cap
from reviewbot.backends.base import Backend, BackendInfo, LLMRequest
from reviewbot.budget import prompt_budget
from reviewbot.chunking import (
    Chunk,
    ChunkItem,
    FileWork,
    build_items,
    estimate_tokens,
    pack,
)
from reviewbot.config import Config
from reviewbot.coverage import Coverage, Skipped
from reviewbot.deadline import BUDGET_REASON, Deadline
from reviewbot.diff.parse import parse_diff
from reviewbot.errors import BackendError
from reviewbot.filtering import filter_findings, import_note
from reviewbot.findings import Finding
from reviewbot.imports.model import ImportBatch
from reviewbot.imports.place import imported_findings
from reviewbot.known_findings import known_section
from reviewbot.model_findings import model_findings
from reviewbot.prepare import PreparedFile, SuggestContext, Suggester, prepare_files
from reviewbot.progress import NullProgress, Progress
from reviewbot.prompts_render import render
from reviewbot.result import ReviewResult, TestSuggestion
from reviewbot.sources import CachingReader, ReviewSource
from reviewbot.static.ruff_rules import expand_disabled
from reviewbot.static.ruff_run import RuffJob, locate_ruff
from reviewbot.static_stage import ruff_findings, ruff_inputs, static_job

__all__ = ["PreparedFile", "SuggestContext", "Suggester", "review_requests", "run_review"]


def review_requests(chunks: Sequence[Chunk], config: Config,
                    known: Sequence[str] = (), deadline: float | None = None
                    ) -> list[LLMRequest]:
    """One request per chunk; ``known[i]``, when given, is chunk i's "already reported"
    section (:mod:`reviewbot.known_findings`), placed after its code."""
    system = render("review_system.txt")
    schema = findings_schema(config.llm.max_tokens, string_cap(config.effective_backend()))
    return [LLMRequest(f"chunk-{c.index}", system,
                       render("review_user.txt",
                              items=c.render() + (known[i] if i < len(known) else "")),
                       schema, config.llm.max_tokens, deadline) for i, c in enumerate(chunks)]


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
    budget: int
    """Tokens a chunk's code (and its known-findings section) may take."""
    timings: dict[str, float]
    """Seconds spent in the static checks and in building chunks."""
    problems: tuple[str, ...] = ()
    """A static source that failed (ruff): a coverage note and a line on stderr."""


def _check_and_chunk(prepared: Sequence[PreparedFile], config: Config, backend: Backend,
                     clock: Callable[[], float], ruff_bin: str | None,
                     deadline: Deadline) -> _Staged:
    """Static checks and chunk items of every file. For a large change, forked children
    check part of the files while this process checks its own and builds their items; the
    children's items follow, from the definitions they send back (no second parse). ruff
    runs on the changed Python files meanwhile, started first and collected last."""
    timings: dict[str, float] = {}
    t1 = clock()
    with RuffJob(ruff_inputs(prepared) if config.static_checks and config.ruff.enabled else [],
                 config.ruff, ruff_bin) as ruff, \
            static_job(prepared if config.static_checks else [], config, deadline) as static:
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
            if deadline.expired():
                return [], [Skipped(pf.diff.path, BUDGET_REASON, pf.diff.changed_count())]
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
        outcome = ruff.collect()
        from_ruff = ruff_findings(prepared, outcome,
                                  expand_disabled(frozenset(config.disabled_rules)))
        timings["static"] += clock() - t1
    t2 = clock()
    for i, (pf, checked) in enumerate(zip(prepared, checks, strict=False)):
        if checked.stopped:  # not checked in time: not sent to the model either
            per_file[i] = ([], [Skipped(pf.diff.path, BUDGET_REASON, pf.diff.changed_count())])
        elif pf.source is not None and checked.definitions:
            pf.source.remember_definitions(checked.definitions)
    per_file.update((i, file_items(i)) for i in range(len(prepared)) if i not in per_file)
    order = range(len(prepared))
    chunks = pack([it for i in order for it in per_file[i][0]], budget, count)
    timings["chunk"] = chunk_time + clock() - t2
    findings = [f for checked in checks for f in checked.findings] + from_ruff
    return _Staged(findings, chunks, [s for i in order for s in per_file[i][1]], info,
                   model_error, tuple(notes), budget, timings,
                   (outcome.note,) if outcome.note else ())


def run_review(
    source: ReviewSource,
    config: Config,
    backend: Backend,
    *,
    progress: Progress | None = None,
    suggester: Suggester | None = None,
    clock: Callable[[], float] = time.perf_counter,
    imported: Sequence[ImportBatch] = (),
    find_ruff: Callable[[], str | None] = locate_ruff,
) -> ReviewResult:
    """Review ``source`` and return every finding, suggestion and the coverage record.

    ``imported``: other linters' results (:func:`reviewbot.imports.read_import`), filtered,
    placed and deduplicated with the built-in findings. ``find_ruff`` gives the ruff binary
    (None: not installed); it is asked only when ruff is enabled."""
    progress = progress or NullProgress()
    timings: dict[str, float] = {}
    deadline = Deadline.after(config.time_budget)
    t0 = clock()
    diff = parse_diff(source.diff)
    t = clock()
    timings["parse"] = t - t0
    reader = CachingReader(source.reader)
    prepared, skipped = prepare_files(diff, reader, config, deadline)
    files = {pf.diff.path: pf for pf in prepared}
    dropped: dict[str, int] = {}

    ruff_bin = find_ruff() if config.static_checks and config.ruff.enabled else None
    staged = _check_and_chunk(prepared, config, backend, clock, ruff_bin, deadline)
    timings.update(staged.timings)
    findings, chunks, info = staged.findings, staged.chunks, staged.info
    model_error, notes = staged.model_error, list(staged.notes)
    skipped.extend(staged.too_long)

    from_imports = imported_findings(imported, {fd.path: (files[fd.path].source
                                                          if fd.path in files else None, fd)
                                                for fd in diff.files})
    findings.extend(from_imports)

    failures: list[tuple[int, str]] = []
    problems: list[str] = list(staged.problems)
    model_reviewed = 0
    not_sent = 0
    if info is not None and chunks and deadline.expired():
        not_sent = len(chunks)
    elif info is not None and chunks:
        t3 = clock()
        count = backend.count_tokens
        requests = review_requests(chunks, config, [known_section(c, findings, staged.budget,
                                                                  count) for c in chunks],
                                   deadline.at)
        progress.start(len(requests), "reviewing")
        try:
            results = backend.complete(requests, progress.advance)
        finally:
            progress.finish()
        answered = model_findings(chunks, results, files, config, info.model or "model")
        findings.extend(answered.found)
        dropped = dict(answered.dropped)
        failures = answered.failures
        not_sent = sum(1 for _, why in failures if why == BUDGET_REASON)
        failures = [(i, why) for i, why in failures if why != BUDGET_REASON]
        model_reviewed = len(chunks) - len(failures) - not_sent
        if failures and model_reviewed == 0:
            model_error = f"the model answered no chunk ({failures[0][1]})"
            notes.append(f"model failed on every chunk: {failures[0][1]}")
        elif failures:
            problems.append(f"the model failed on {len(failures)} of {len(chunks)} chunks; "
                            f"their lines got static checks only (first: {failures[0][1]})")
        timings["model"] = clock() - t3

    tests: Sequence[TestSuggestion] = ()
    tests_skipped = config.tests.enabled and suggester is not None and deadline.expired()
    if config.tests.enabled and suggester is not None and not tests_skipped:
        t4 = clock()
        outcome = suggester(SuggestContext(diff, prepared, reader, config,
                                           backend if info is not None else None,
                                           info.model if info else None, progress,
                                           info.max_model_len if info else None))
        tests = outcome.tests
        problems.extend(outcome.problems)
        timings["tests"] = clock() - t4
    notes.extend(problems)

    filtered = filter_findings(findings, diff, config)
    final = filtered.findings
    for why, n in filtered.dropped.items():
        dropped[why] = dropped.get(why, 0) + n
    if imported:
        notes.append(import_note(imported, from_imports, final, dropped))
    lines_in_chunks = sum(item.changed_lines() for c in chunks for item in c.items)
    reviewed_paths = {item.path for c in chunks for item in c.items}
    stopped = stop_note(deadline, clock() - t0, skipped, len(reviewed_paths), len(diff.files),
                        not_sent, len(chunks), tests_skipped)
    if stopped:
        notes.append(stopped)
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
        stopped=stopped,
    )


def stop_note(deadline: Deadline, elapsed: float, skipped: Sequence[Skipped], reviewed: int,
              total: int, not_sent: int, chunks: int, tests_skipped: bool) -> str | None:
    """Where the time budget stopped the review, in one line (None when it did not)."""
    late = [s for s in skipped if s.reason == BUDGET_REASON]
    if not (late or not_sent or tests_skipped):
        return None
    parts = [f"review stopped after {elapsed:.0f} s (time_budget {deadline.seconds:g} s): "
             f"reviewed {reviewed} of {total} files"]
    if late:
        parts.append(f"{len(late)} files not checked")
    if not_sent:
        parts.append(f"{not_sent} of {chunks} chunks not sent to the model")
    if tests_skipped:
        parts.append("no test suggestions")
    return "; ".join(parts)
