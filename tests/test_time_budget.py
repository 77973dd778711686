"""The review's time budget (``time_budget``): past it no new work starts, and the review
says where it stopped. Real HTTP to the fake vLLM server for the model stage."""

from __future__ import annotations

import difflib
import threading
import time
from typing import Any

from reviewbot.backends.openai_http import make_vllm
from reviewbot.backends.static import StaticBackend
from reviewbot.config import load_config
from reviewbot.deadline import BUDGET_REASON, Deadline
from reviewbot.diff.parse import parse_diff
from reviewbot.engine import run_review
from reviewbot.prepare import prepare_files
from reviewbot.server.runner import DEFAULT_JOB_BUDGET_S, pinned_settings
from reviewbot.sources import MappingReader, ReviewSource
from reviewbot.static_stage import static_job
from tests.conftest import GitRepo, run_cli
from tests.fakes.vllm_server import FakeRequest, FakeVLLM


def _change(files: int, lines: int = 30) -> tuple[bytes, dict[str, bytes]]:
    patch, heads = [], {}
    for i in range(files):
        old = [f"v{k} = {k}" for k in range(lines)]
        new = [f"v{k} = eval(name{k})" if k % 3 == 0 else ln for k, ln in enumerate(old)]
        path = f"pkg/m{i}.py"
        patch.append(
            "".join(
                difflib.unified_diff(
                    [s + "\n" for s in old], [s + "\n" for s in new], f"a/{path}", f"b/{path}", n=3
                )
            )
        )
        heads[path] = ("\n".join(new) + "\n").encode()
    return "".join(patch).encode(), heads


def test_a_spent_budget_stops_static_checks_in_every_process() -> None:
    diff_text, heads = _change(4)
    diff = parse_diff(diff_text)
    config = load_config(env={})
    prepared, _ = prepare_files(diff, MappingReader(heads), config)
    past = Deadline(time.monotonic() - 1.0, 5.0)
    with static_job(prepared, config, past) as job:
        job.run_local()
        checks = job.results()
    assert [c.stopped for c in checks] == [True] * 4 and all(not c.findings for c in checks)
    with static_job(prepared, config) as job:  # no deadline: every file is checked
        job.run_local()
        assert not any(c.stopped for c in job.results())


def test_files_not_reached_in_time_are_named_and_counted() -> None:
    diff_text, heads = _change(60)
    config = load_config(env={}, overrides={"time_budget": 0.001})
    result = run_review(ReviewSource(diff_text, MappingReader(heads), "p"), config, StaticBackend())
    late = [s for s in result.coverage.skipped if s.reason == BUDGET_REASON]
    assert late, "60 files cannot all be prepared and checked within 1 ms"
    assert result.stopped and result.stopped.startswith("review stopped after ")
    assert f"{len(late)} files not checked" in result.stopped
    assert result.stopped in result.coverage.notes
    reviewed = result.coverage.files_reviewed
    assert f"reviewed {reviewed} of 60 files" in result.stopped
    assert {s.path for s in late}.isdisjoint({f.path for f in result.findings})
    unlimited = run_review(
        ReviewSource(diff_text, MappingReader(heads), "p"), load_config(env={}), StaticBackend()
    )
    assert unlimited.stopped is None and unlimited.coverage.files_reviewed == 60


def test_model_requests_after_the_deadline_are_not_sent() -> None:
    lock = threading.Lock()

    def slow(req: FakeRequest) -> dict[str, Any]:
        with lock:
            time.sleep(0.4)
        return {"findings": []}

    diff_text, heads = _change(12, lines=60)
    with FakeVLLM(slow) as srv:
        config = load_config(
            env={},
            overrides={
                "llm.url": srv.url,
                "llm.model": srv.model,
                "llm.concurrency": 1,
                "llm.max_prompt_tokens": 900,
                "time_budget": 1.5,
                "static_checks": False,
                "tests.enabled": False,
            },
        )
        backend = make_vllm(config)
        try:
            result = run_review(ReviewSource(diff_text, MappingReader(heads), "p"), config, backend)
        finally:
            backend.close()
        sent = len(srv.completions())
    cov = result.coverage
    assert cov.chunks_total > sent >= 1, (cov.chunks_total, sent)
    assert cov.chunks_model_reviewed == sent and cov.chunk_failures == ()
    assert result.stopped is not None
    assert f"{cov.chunks_total - sent} of {cov.chunks_total} chunks not sent" in result.stopped
    assert result.problems == ()  # not a model failure: the budget, said once
    assert result.model_error is None


def test_the_cli_takes_the_budget_from_the_environment(git_repo: GitRepo) -> None:
    diff_text, heads = _change(40)
    for path in heads:
        git_repo.write(path, "\n".join(f"v{k} = {k}" for k in range(30)) + "\n")
    git_repo.commit("base")
    for path, data in heads.items():
        git_repo.write(path, data)
    res = run_cli(
        ["diff", "--no-tests", "--fail-on", "none"],
        git_repo.root,
        env={"REVIEWBOT_TIME_BUDGET": "0.001"},
    )
    assert res.code == 0, res.err
    assert "review stopped after" in res.out and "time_budget 0.001 s" in res.out


def test_the_server_pins_a_job_budget_a_repository_cannot_raise() -> None:
    assert pinned_settings(load_config(env={}))["time_budget"] == DEFAULT_JOB_BUDGET_S
    operator = load_config(env={}, overrides={"time_budget": 120})
    assert pinned_settings(operator)["time_budget"] == 120
