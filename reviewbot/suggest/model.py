"""Test suggestions from the model: prompts per batch of targets, answers to candidates.

Targets are packed into requests like the review packs hunks: in diff order, each request
under the prompt budget (``engine.prompt_budget``) and with at most
``max_tokens // ANSWER_TOKENS_PER_TARGET`` targets, so the answer has room for a test module
per function. All requests go to ``backend.complete`` at once (the backend sends them
concurrently). The answer is JSON (prompts/tests.schema.json); every entry becomes a
:class:`Candidate` that is checked before it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from reviewbot.answer_budget import string_cap, suggestions_schema
from reviewbot.backends.base import Backend, BackendInfo, LLMRequest, LLMResult
from reviewbot.backends.schema_check import shape_problem
from reviewbot.budget import prompt_budget
from reviewbot.config import Config
from reviewbot.prompts_render import fenced, load_schema, render
from reviewbot.suggest.check import Candidate
from reviewbot.suggest.skeleton import test_path
from reviewbot.suggest.targets import Target

ANSWER_TOKENS_PER_TARGET = 400
MAX_PER_TARGET = 2
"""Test modules kept per target from one answer (the rest are ignored)."""
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_+-]*[ \t]*\n(.*?)\n?```\s*$", re.DOTALL)
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")


def target_line(t: Target) -> str:
    owner = t.qualname.split(".", 1)[0]
    how = f"from {t.module} import {owner}"
    kind = "" if t.kind == "function" else f", {t.kind}"
    asynchronous = ", async" if t.is_async else ""
    return f"- {t.full_name} ({how}; file {t.path}, line {t.line}{kind}{asynchronous})"


def render_item(t: Target, max_lines: int) -> str:
    lines = t.code.split("\n")
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"# ... {len(lines) - max_lines} more lines not shown"]
    code = "\n".join(lines)
    if t.context:
        code = f"{t.context}\n    ...\n" + "\n".join(
            "    " + ln if ln else ln for ln in code.split("\n")
        )
    # The target line names files and functions of the change: untrusted, so fenced too.
    return fenced("tests_item.txt", {"target": target_line(t), "code": code})


Batch = list[tuple[Target, int]]
"""Targets of one request, each with the most code lines shown for it."""


def user_prompt(batch: Batch) -> str:
    return render("tests_user.txt", items="\n\n".join(render_item(t, lines) for t, lines in batch))


def batches(
    targets: Sequence[Target], config: Config, backend: Backend, max_model_len: int | None
) -> list[Batch]:
    """Targets packed into requests under the prompt budget, diff order kept."""
    count = backend.count_tokens
    overhead = count(render("tests_system.txt")) + count(render("tests_user.txt", items=""))
    budget = prompt_budget(config, BackendInfo(backend.name, None, max_model_len), overhead)
    per_request = max(1, config.llm.max_tokens // ANSWER_TOKENS_PER_TARGET)
    out: list[Batch] = []
    current: Batch = []
    used = 0
    for t in targets:
        lines = config.max_context_lines
        cost = count(render_item(t, lines))
        while cost > budget and lines > 8:
            lines //= 2
            cost = count(render_item(t, lines))
        if current and (used + cost > budget or len(current) >= per_request):
            out.append(current)
            current, used = [], 0
        current.append((t, lines))
        used += cost
    if current:
        out.append(current)
    return out


def requests_for(groups: Sequence[Batch], config: Config) -> list[LLMRequest]:
    system = render("tests_system.txt")
    schema = suggestions_schema(string_cap(config.effective_backend()))
    return [
        LLMRequest(f"tests-{i}", system, user_prompt(g), schema, config.llm.max_tokens)
        for i, g in enumerate(groups)
    ]


def resolve(name: str, batch: Sequence[Target]) -> Target | None:
    """The batch target an answer names (full name, name in module, or a unique short name)."""
    name = name.strip().strip("`").removesuffix("()")
    for t in batch:
        if name in (t.full_name, t.qualname) or name.endswith("." + t.qualname):
            return t
    short = [t for t in batch if t.name == name.rsplit(".", 1)[-1]]
    return short[0] if len(short) == 1 else None


def safe_path(raw: object, t: Target) -> str:
    """A relative ``test_*.py`` path; the model's when it is sane, else one derived from t."""
    if not isinstance(raw, str) or not _SAFE_PATH.match(raw) or len(raw) > 200:
        return test_path(t)
    p = PurePosixPath(raw)
    if p.is_absolute() or ".." in p.parts or p.suffix != ".py":
        return test_path(t)
    if not (p.name.startswith("test_") or p.name.endswith("_test.py")):
        p = p.with_name(f"test_{p.name}")
    return str(p)


def unfence(code: str) -> str:
    m = _FENCE.match(code)
    return m.group(1) if m else code


def candidates_from(
    results: Sequence[LLMResult], groups: Sequence[Batch], model: str
) -> tuple[list[Candidate], list[str]]:
    """Candidates from the answers, and a note per request that produced nothing usable."""
    by_key = {r.key: r for r in results}
    out: list[Candidate] = []
    notes: list[str] = []
    source = f"model:{model}"
    schema = load_schema("tests.schema.json")
    for i, batch in enumerate(groups):
        group = [t for t, _ in batch]
        res = by_key.get(f"tests-{i}")
        sample = (
            next((s for s in res.samples if shape_problem(s, schema) is None), None)
            if res
            else None
        )
        if sample is None:
            why = res.error if res and res.error else "no usable answer"
            if res and res.samples:
                why = f"malformed answer: {shape_problem(res.samples[0], schema)}"
            notes.append(f"tests-{i}: {why}")
            continue
        out.extend(_batch_candidates(sample["tests"], group, source))
    return out, notes


def _batch_candidates(
    entries: Sequence[Any], group: Sequence[Target], source: str
) -> list[Candidate]:
    """One answer's entries as candidates (at most MAX_PER_TARGET per target)."""
    out: list[Candidate] = []
    per_target: dict[str, int] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        raw_target = entry.get("target")
        code = entry.get("code")
        t = resolve(raw_target, group) if isinstance(raw_target, str) else None
        if t is None:
            shown = str(raw_target)[:120] if raw_target is not None else "nothing"
            out.append(
                Candidate(
                    safe_path(entry.get("path"), group[0]),
                    group[0],
                    code if isinstance(code, str) else "",
                    source,
                    rejected=f"targets {shown}, not one of the changed "
                    "functions it was asked about",
                )
            )
            continue
        if per_target.get(t.full_name, 0) >= MAX_PER_TARGET:
            continue
        per_target[t.full_name] = per_target.get(t.full_name, 0) + 1
        if not isinstance(code, str) or not code.strip():
            out.append(
                Candidate(
                    safe_path(entry.get("path"), t),
                    t,
                    "",
                    source,
                    rejected="the answer has no code",
                )
            )
            continue
        out.append(
            Candidate(safe_path(entry.get("path"), t), t, unfence(code).rstrip() + "\n", source)
        )
    return out
