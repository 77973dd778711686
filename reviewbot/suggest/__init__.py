"""pytest test suggestions for the change, checked before anyone sees them.

    changed public Python functions (targets.py, tree-sitter)
      -> candidates: the model's test modules (model.py), a skeleton for every target the
         model did not cover or when there is no model (skeleton.py)
      -> checks (check.py): 1 parse/imports/target, 2 pytest --collect-only against the head
         version in a sandbox (sandbox.py), 3 run it when tests.run is on
      -> TestSuggestion records with the level reached; only checked ones are ``shown``.

Levels 2 and 3 import the code under review. They run only when the caller passes
``execute=True``, which only the local commands do (``reviewbot diff`` and the hook, on the
user's own code). The GitHub flows (the Action, ``reviewbot pr``, the webhook server) review
code written by strangers: there the stage stops at level 1 plus a static resolution of the
module's project imports, and nothing from the head is imported, collected or run, whatever
the config or the model says.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from reviewbot.result import SuggestOutcome
from reviewbot.suggest.check import Candidate, check_candidates
from reviewbot.suggest.imports import declared_imports
from reviewbot.suggest.model import batches, candidates_from, requests_for
from reviewbot.suggest.skeleton import skeleton_code, test_path
from reviewbot.suggest.targets import HeadFiles, Target, find_targets

if TYPE_CHECKING:
    from reviewbot.prepare import SuggestContext, Suggester

__all__ = ["load_suggester", "suggest_tests"]


def load_suggester(*, execute: bool) -> Suggester:
    """The test-suggestion stage for the engine. ``execute``: may suggested tests import and
    run the code under review (only for the user's own code: ``reviewbot diff``, the hook)."""
    return partial(suggest_tests, execute=execute)


def suggest_tests(
    ctx: SuggestContext,
    *,
    env: Mapping[str, str] | None = None,
    isolation: str = "auto",
    execute: bool = False,
) -> SuggestOutcome:
    """The engine's test-suggestion stage (``engine.Suggester``).

    ``execute`` (default off): collect, and with ``tests.run`` run, the suggestions in the
    sandbox. Off, nothing from the change is imported or executed (see the module doc).
    ``env`` is where PATH and LANG for the sandbox come from (default: this process's
    environment; nothing else of it reaches the sandbox). ``isolation``: see sandbox.py.
    """
    head = HeadFiles(ctx.diff, ctx.files, ctx.reader)
    targets = find_targets(ctx.files, head.read, ctx.config.tests.max_functions)
    if not targets:
        return SuggestOutcome()
    candidates: list[Candidate] = []
    problems: tuple[str, ...] = ()
    if ctx.backend is not None:
        candidates, problems = model_candidates(ctx, targets)
    covered = {c.target.full_name for c in candidates if not c.rejected}
    candidates += [skeleton_candidate(t) for t in targets if t.full_name not in covered]
    candidates = unique_paths(candidates)
    run = execute and ctx.config.tests.run and any(c.source != "skeleton" for c in candidates)
    ctx.progress.start(len(candidates), "checking suggested tests")
    try:
        results, _ = check_candidates(
            candidates,
            head.read,
            declared_imports(head.read),
            ctx.config.tests,
            run=run,
            base_env=os.environ if env is None else env,
            isolation=isolation,
            execute=execute,
        )
    finally:
        ctx.progress.advance(len(candidates))
        ctx.progress.finish()
    order = {t.full_name: i for i, t in enumerate(targets)}
    ranked = sorted(
        results, key=lambda r: (order.get(r.target, len(order)), r.source == "skeleton")
    )
    return SuggestOutcome(tuple(ranked), problems)


def model_candidates(
    ctx: SuggestContext, targets: Sequence[Target]
) -> tuple[list[Candidate], tuple[str, ...]]:
    """The model's test modules for ``targets`` (all requests in one concurrent batch), and
    one line when requests failed (their targets get skeletons)."""
    if ctx.backend is None:
        return [], ()
    groups = batches(targets, ctx.config, ctx.backend, ctx.max_model_len)
    results = ctx.backend.complete(requests_for(groups, ctx.config))
    found, notes = candidates_from(results, groups, ctx.model or "model")
    if not notes:
        return found, ()
    return found, (
        f"the test writer failed on {len(notes)} of {len(groups)} requests; "
        f"their functions got skeletons (first: {notes[0]})",
    )


def skeleton_candidate(t: Target) -> Candidate:
    return Candidate(test_path(t), t, skeleton_code(t), "skeleton")


def unique_paths(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Give every candidate its own file name (``--tests-out`` writes them side by side)."""
    seen: set[str] = set()
    out = []
    for c in candidates:
        p = PurePosixPath(c.path)
        name, n = p.name, 2
        while name in seen:
            name = f"{p.stem}_{n}{p.suffix}"
            n += 1
        seen.add(name)
        out.append(c if name == p.name else replace(c, path=str(p.with_name(name))))
    return out
