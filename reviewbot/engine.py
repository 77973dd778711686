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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from reviewbot.backends.base import Backend, BackendInfo
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
from reviewbot.diff.model import Diff
from reviewbot.diff.parse import parse_diff
from reviewbot.filtering import filter_findings, import_note
from reviewbot.findings import Finding
from reviewbot.imports.model import ImportBatch
from reviewbot.imports.place import imported_findings
from reviewbot.model_stage import ModelStage, ask_model, open_backend, review_requests
from reviewbot.prepare import PreparedFile, SuggestContext, Suggester, prepare_files
from reviewbot.progress import NullProgress, Progress
from reviewbot.prompts_render import render
from reviewbot.result import ReviewResult, TestSuggestion
from reviewbot.ruff_stage import RuffRuns
from reviewbot.sources import CachingReader, ReviewSource
from reviewbot.stage import Run
from reviewbot.static.ruff_rules import expand_disabled
from reviewbot.static.ruff_run import locate_ruff
from reviewbot.static_stage import (
    FileChecks,
    StaticJob,
    ruff_findings,
    ruff_inputs,
    static_job,
)

__all__ = ["PreparedFile", "SuggestContext", "Suggester", "review_requests", "run_review"]


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
    reviewed: Mapping[str, int] = field(default_factory=dict)
    """Changed lines reviewed, by path: those in chunks when a model is asked, else those
    of the files the static checks ran on."""


_Items = tuple[list[tuple[ChunkItem, int]], list[Skipped]]
"""One file's chunk items (with their token counts), or why it has none."""


def _check_and_chunk(prepared: Sequence[PreparedFile], run: Run, ruff: RuffRuns) -> _Staged:
    """Static checks and chunk items of every file. For a large change, forked children
    and this process take the files in batches; this process builds each of its own files'
    items as soon as it has checked it, the children's once they answer. ruff runs on the
    changed Python files meanwhile (most of them since before the diff was parsed). No model
    to ask: no chunk is built."""
    config, clock = run.config, run.clock
    chunk_time = 0.0
    per_file: dict[int, _Items] = {}
    ruff.start_rest(ruff_inputs(prepared))
    with _static_job(prepared, run) as static:
        info, model_error, notes = open_backend(run.backend, config)  # the children work
        t1 = clock()
        budget, count = _budget(run.backend, config, info)

        def file_items(i: int) -> _Items:
            if info is None:
                return [], []
            return _file_items(prepared[i], config, budget, count, run.deadline)

        def after(i: int, checked: FileChecks) -> None:  # this process's files, as checked
            nonlocal chunk_time
            if not checked.stopped:
                t = clock()
                per_file[i] = file_items(i)
                chunk_time += clock() - t

        static.run_local(after if info is not None else None)
        checks = static.results()
        outcome = ruff.collect()
        from_ruff = ruff_findings(
            prepared, outcome, expand_disabled(frozenset(config.disabled_rules))
        )
        timings = {"static": clock() - t1 - chunk_time}
    t2 = clock()
    _other_items(prepared, checks, per_file, file_items)
    items = [it for i in range(len(prepared)) for it in per_file[i][0]]
    chunks = pack(items, budget, count)
    timings["chunk"] = chunk_time + clock() - t2
    return _Staged(
        [f for checked in checks for f in checked.findings] + from_ruff,
        chunks,
        [s for i in range(len(prepared)) for s in per_file[i][1]],
        info,
        model_error,
        tuple(notes),
        budget,
        timings,
        (outcome.note,) if outcome.note else (),
        _chunked_lines(chunks) if info is not None else _checked_lines(prepared, checks),
    )


def _other_items(
    prepared: Sequence[PreparedFile],
    checks: Sequence[FileChecks],
    per_file: dict[int, _Items],
    file_items: Callable[[int], _Items],
) -> None:
    """Add to ``per_file`` the items of the files this process did not check: the
    children's, from the definitions they sent back (no second parse). A file not checked
    in time gets none: it is not sent to the model either."""
    for i, (pf, checked) in enumerate(zip(prepared, checks, strict=False)):
        if checked.stopped:
            per_file[i] = ([], [Skipped(pf.diff.path, BUDGET_REASON, pf.diff.changed_count())])
        elif pf.source is not None and checked.definitions:
            pf.source.remember_definitions(checked.definitions)
    per_file.update((i, file_items(i)) for i in range(len(prepared)) if i not in per_file)


def _checked_lines(
    prepared: Sequence[PreparedFile], checks: Sequence[FileChecks]
) -> dict[str, int]:
    """Changed lines by path of the files the static checks ran on (not stopped)."""
    return {
        pf.diff.path: pf.diff.changed_count()
        for pf, checked in zip(prepared, checks, strict=False)
        if not checked.stopped
    }


def _static_job(prepared: Sequence[PreparedFile], run: Run) -> StaticJob:
    config = run.config
    return static_job(
        prepared if config.static_checks else [],
        config,
        run.deadline,
        definitions=run.backend.name != "static",  # the chunk items' context, for a model
    )


def _budget(
    backend: Backend, config: Config, info: BackendInfo | None
) -> tuple[int, Callable[[str], int]]:
    """Tokens a chunk may take, and the token counter (the server's once it is open)."""
    count = backend.count_tokens if info is not None else estimate_tokens
    overhead = count(render("review_system.txt")) + count(render("review_user.txt", items=""))
    return prompt_budget(config, info or BackendInfo(backend.name, None), overhead), count


def _file_items(
    pf: PreparedFile, config: Config, budget: int, count: Callable[[str], int], deadline: Deadline
) -> tuple[list[tuple[ChunkItem, int]], list[Skipped]]:
    """One file's chunk items, or why it has none (the time budget ran out)."""
    if deadline.expired():
        return [], [Skipped(pf.diff.path, BUDGET_REASON, pf.diff.changed_count())]
    fw = FileWork(
        pf.diff.path,
        [h.lines for h in pf.diff.hunks],
        pf.source,
        pf.source.language if pf.source else None,
        not pf.synthesized,
    )
    try:
        return build_items(
            [fw], budget, count, window=config.context_lines, max_lines=config.max_context_lines
        )
    finally:
        if pf.source is not None:
            pf.source.release_tree()  # parsed again only if a later stage asks


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
    deadline = Deadline.after(config.time_budget)
    run = Run(config, backend, deadline, progress or NullProgress(), clock)
    t0 = clock()
    with RuffRuns(config, find_ruff) as ruff:
        ruff.start_early(source.early_heads())
        diff = parse_diff(source.diff)
        timings = {"parse": clock() - t0}
        reader = CachingReader(source.reader)
        prepared, skipped = prepare_files(diff, reader, config, run.deadline)
        files = {pf.diff.path: pf for pf in prepared}
        staged = _check_and_chunk(prepared, run, ruff)
    timings.update(staged.timings)
    skipped.extend(staged.too_long)
    from_imports = _imported(imported, diff, files)
    findings = [*staged.findings, *from_imports]
    info = staged.info
    model = ask_model(run, staged.chunks, findings, staged.budget, files, info)
    findings.extend(model.found)
    timings.update(model.timings)
    tests = _suggest_tests(run, suggester, diff, prepared, reader, info, timings)
    problems = [*staged.problems, *model.problems, *tests.problems]
    notes = [*staged.notes, *model.notes, *problems]
    filtered = filter_findings(findings, diff, config)
    dropped = _summed(model.dropped, filtered.dropped)
    if imported:
        notes.append(import_note(imported, from_imports, filtered.findings, dropped))
    stopped = stop_note(run, clock() - t0, skipped, staged, diff, model, tests.skipped)
    notes.extend([stopped] if stopped else [])
    timings["total"] = clock() - t0
    return ReviewResult(
        findings=tuple(filtered.findings),
        coverage=_coverage(diff, staged, skipped, model, info, notes),
        diff=diff,
        tests=tuple(tests.tests),
        dropped=dropped,
        timings=timings,
        backend=backend.name,
        model=info.model if info is not None else None,
        model_error=model.error or staged.model_error,
        label=source.label,
        head_sha=source.head_sha,
        problems=tuple(problems),
        stopped=stopped,
    )


def _imported(
    imported: Sequence[ImportBatch], diff: Diff, files: Mapping[str, PreparedFile]
) -> list[Finding]:
    """Other linters' results placed on the diff (the head source where it was read)."""
    return imported_findings(
        imported,
        {fd.path: (files[fd.path].source if fd.path in files else None, fd) for fd in diff.files},
    )


def _summed(*counts: Mapping[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for count in counts:
        for why, n in count.items():
            out[why] = out.get(why, 0) + n
    return out


def _chunked_lines(chunks: Sequence[Chunk]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in chunks:
        for item in c.items:
            out[item.path] = out.get(item.path, 0) + item.changed_lines()
    return out


def _coverage(
    diff: Diff,
    staged: _Staged,
    skipped: Sequence[Skipped],
    model: ModelStage,
    info: BackendInfo | None,
    notes: Sequence[str],
) -> Coverage:
    return Coverage(
        files_total=len(diff.files),
        files_reviewed=len(staged.reviewed),
        lines_total=diff.changed_lines(),
        lines_in_chunks=sum(staged.reviewed.values()),
        skipped=tuple(skipped),
        chunks_total=len(staged.chunks),
        chunks_model_reviewed=model.reviewed,
        chunk_failures=model.failures,
        model=info.model if info is not None else None,
        notes=tuple(notes),
    )


@dataclass(frozen=True, slots=True)
class _Tests:
    tests: Sequence[TestSuggestion] = ()
    problems: Sequence[str] = ()
    skipped: bool = False
    """The time budget ran out before test suggestions could start."""


def _suggest_tests(
    run: Run,
    suggester: Suggester | None,
    diff: Diff,
    prepared: Sequence[PreparedFile],
    reader: CachingReader,
    info: BackendInfo | None,
    timings: dict[str, float],
) -> _Tests:
    if not run.config.tests.enabled or suggester is None:
        return _Tests()
    if run.deadline.expired():
        return _Tests(skipped=True)
    start = run.clock()
    outcome = suggester(
        SuggestContext(
            diff,
            prepared,
            reader,
            run.config,
            run.backend if info is not None else None,
            info.model if info else None,
            run.progress,
            info.max_model_len if info else None,
        )
    )
    timings["tests"] = run.clock() - start
    return _Tests(outcome.tests, outcome.problems)


def stop_note(
    run: Run,
    elapsed: float,
    skipped: Sequence[Skipped],
    staged: _Staged,
    diff: Diff,
    model: ModelStage,
    tests_skipped: bool,
) -> str | None:
    """Where the time budget stopped the review, in one line (None when it did not)."""
    deadline, not_sent, chunks = run.deadline, model.not_sent, staged.chunks
    reviewed, total = len(staged.reviewed), len(diff.files)
    late = [s for s in skipped if s.reason == BUDGET_REASON]
    if not (late or not_sent or tests_skipped):
        return None
    parts = [
        f"review stopped after {elapsed:.0f} s (time_budget {deadline.seconds:g} s): "
        f"reviewed {reviewed} of {total} files"
    ]
    if late:
        parts.append(f"{len(late)} files not checked")
    if not_sent:
        parts.append(f"{not_sent} of {len(chunks)} chunks not sent to the model")
    if tests_skipped:
        parts.append("no test suggestions")
    return "; ".join(parts)
