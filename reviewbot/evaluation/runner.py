"""Run reviewbot as a reviewer over every case, through the normal engine.

Each change is reviewed exactly like ``reviewbot diff A..B`` in that repository: a
:func:`~reviewbot.sources.git_source` for the commit range, :func:`~reviewbot.engine.run_review`
with the configured backend, the engine's own filters. Nothing is shortcut, so the numbers
describe what a user of that backend would see.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from reviewbot.backends.base import Backend
from reviewbot.config import Config
from reviewbot.engine import run_review
from reviewbot.evaluation.dataset import EvalCase
from reviewbot.evaluation.metrics import CaseOutcome, Report, score_case
from reviewbot.evaluation.repo import CaseCommits, build_repo
from reviewbot.findings import Finding
from reviewbot.result import ReviewResult
from reviewbot.sources import git_source


@dataclass(frozen=True, slots=True)
class EvalRun:
    report: Report
    backend: str
    model: str | None
    seconds: float
    model_errors: int
    """Changes whose review fell back to static checks because the model failed."""


def eval_config(config: Config) -> Config:
    """The user's config with the parts that do not belong in a measurement turned off."""
    return replace(
        config, tests=replace(config.tests, enabled=False, run=False), include=(), exclude=()
    )


def _review(root: Path, rng: str, config: Config, backend: Backend) -> ReviewResult:
    return run_review(git_source(root, rev=rng), config, backend)


def _errors(*results: ReviewResult) -> list[str]:
    out: list[str] = []
    for r in results:
        if r.model_error:
            out.append(f"model: {r.model_error}")
        out += [f"skipped {s.path}: {s.reason}" for s in r.coverage.skipped]
    return out


def run_eval(
    cases: Sequence[EvalCase],
    config: Config,
    backend: Backend,
    *,
    jobs: int = 1,
    advance: Callable[[int], None] | None = None,
    workdir: Path | None = None,
) -> EvalRun:
    """Review both changes of every case and score them."""
    config = eval_config(config)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reviewbot-eval-", dir=workdir) as tmp:
        root = Path(tmp) / "repo"
        commits = build_repo(root, cases)
        model: list[str | None] = [None]
        model_errors = [0]

        def one(cc: CaseCommits) -> CaseOutcome:
            intro = _review(root, cc.introduce, config, backend)
            fix = _review(root, cc.fix, config, backend)
            model[0] = model[0] or intro.model or fix.model
            model_errors[0] += bool(intro.model_error) + bool(fix.model_error)
            if advance is not None:
                advance(1)
            found_intro: tuple[Finding, ...] = intro.findings
            return score_case(cc.case, found_intro, fix.findings, _errors(intro, fix))

        if jobs > 1:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                outcomes = list(pool.map(one, commits))
        else:
            outcomes = [one(cc) for cc in commits]
    return EvalRun(
        Report.of(outcomes), backend.name, model[0], time.perf_counter() - start, model_errors[0]
    )
