"""The model stage: open the backend, send one request per chunk, turn the answers into
findings and count what failed or was not sent.

A backend that cannot be opened is not fatal unless ``llm.require_model`` says so: the
review goes on with static checks only and the coverage record says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reviewbot.answer_budget import findings_schema, string_cap
from reviewbot.backends.base import Backend, BackendInfo, LLMRequest
from reviewbot.chunking import Chunk
from reviewbot.config import Config
from reviewbot.deadline import BUDGET_REASON
from reviewbot.errors import BackendError
from reviewbot.findings import Finding
from reviewbot.known_findings import known_section
from reviewbot.model_findings import model_findings
from reviewbot.prepare import PreparedFile
from reviewbot.prompts_render import render
from reviewbot.stage import Run

__all__ = ["ModelStage", "ask_model", "open_backend", "review_requests"]


def review_requests(
    chunks: Sequence[Chunk],
    config: Config,
    known: Sequence[str] = (),
    deadline: float | None = None,
) -> list[LLMRequest]:
    """One request per chunk; ``known[i]``, when given, is chunk i's "already reported"
    section (:mod:`reviewbot.known_findings`), placed after its code."""
    system = render("review_system.txt")
    schema = findings_schema(config.llm.max_tokens, string_cap(config.effective_backend()))
    return [
        LLMRequest(
            f"chunk-{c.index}",
            system,
            render("review_user.txt", items=c.render() + (known[i] if i < len(known) else "")),
            schema,
            config.llm.max_tokens,
            deadline,
        )
        for i, c in enumerate(chunks)
    ]


def open_backend(
    backend: Backend, config: Config
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
class ModelStage:
    """What the model stage found and what it could not do."""

    found: tuple[Finding, ...] = ()
    dropped: Mapping[str, int] = field(default_factory=dict)
    """Answer entries dropped, by reason (malformed, outside the chunk, ...)."""
    failures: tuple[tuple[int, str], ...] = ()
    """Chunks the model did not answer, with why (budget stops not included)."""
    reviewed: int = 0
    """Chunks the model answered."""
    not_sent: int = 0
    """Chunks not sent because the time budget ran out."""
    error: str | None = None
    """Set when the model answered no chunk at all."""
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)
    """``{"model": seconds}`` when requests were sent."""


def ask_model(
    run: Run,
    chunks: Sequence[Chunk],
    known: Sequence[Finding],
    budget: int,
    files: dict[str, PreparedFile],
    info: BackendInfo | None,
) -> ModelStage:
    """Send every chunk (with the findings already known on its lines) and read the
    answers. Nothing is sent once the deadline has passed, nor when the backend was not
    opened (``info`` None: static checks only)."""
    if info is None or not chunks:
        return ModelStage()
    if run.deadline.expired():
        return ModelStage(not_sent=len(chunks))
    config, backend, progress, clock = run.config, run.backend, run.progress, run.clock
    start = clock()
    count = backend.count_tokens
    requests = review_requests(
        chunks, config, [known_section(c, known, budget, count) for c in chunks], run.deadline.at
    )
    progress.start(len(requests), "reviewing")
    try:
        results = backend.complete(requests, progress.advance)
    finally:
        progress.finish()
    answered = model_findings(chunks, results, files, config, info.model or "model")
    late = sum(1 for _, why in answered.failures if why == BUDGET_REASON)
    failures = tuple((i, why) for i, why in answered.failures if why != BUDGET_REASON)
    reviewed = len(chunks) - len(failures) - late
    error: str | None = None
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    if failures and reviewed == 0:
        error = f"the model answered no chunk ({failures[0][1]})"
        notes = (f"model failed on every chunk: {failures[0][1]}",)
    elif failures:
        problems = (
            f"the model failed on {len(failures)} of {len(chunks)} chunks; "
            f"their lines got static checks only (first: {failures[0][1]})",
        )
    return ModelStage(
        tuple(answered.found),
        dict(answered.dropped),
        failures,
        reviewed,
        late,
        error,
        notes,
        problems,
        {"model": clock() - start},
    )
