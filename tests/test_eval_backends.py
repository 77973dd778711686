"""`reviewbot eval --backend vllm` against the fake vLLM server: the harness works with any
backend, through the normal config (flags or REVIEWBOT_* variables)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.fakes.vllm_server import FakeRequest, FakeVLLM, Reply, finding
from tests.llama_server import ALIAS, LlamaServer
from tests.test_eval import TINY, write_jsonl

MODEL = "codellama/CodeLlama-7b-Instruct-hf"


def security_on_first_changed_line(req: FakeRequest) -> dict[str, Any]:
    return {
        "findings": [
            finding(path, lines[0], "injection", category="security", severity="error")
            for path, lines in req.changed_lines().items()
            if lines
        ]
    }


def test_model_findings_are_scored(tmp_path: Path) -> None:
    dataset = write_jsonl(tmp_path / "tiny.jsonl", TINY)
    config = tmp_path / "eval.yml"
    config.write_text("static_checks: false\nllm:\n  retries: 1\n  read_timeout: 10\n")
    with FakeVLLM(security_on_first_changed_line, model=MODEL) as srv:
        env = {"REVIEWBOT_LLM_URL": srv.url, "REVIEWBOT_MODEL": MODEL}
        res = run_cli(
            [
                "eval",
                str(dataset),
                "--backend",
                "vllm",
                "--config",
                str(config),
                "--format",
                "json",
                "--jobs",
                "2",
            ],
            tmp_path,
            env=env,
        )
        answered = srv.completions()
    assert res.code == 0, res.err
    data = json.loads(res.out)
    # every change touches one line, and the fake model flags the first changed line of
    # each: each vulnerable line is hit, and each fix line is flagged too
    assert data["overall"] == {
        "cases": 3,
        "hits": 3,
        "false_positives": 3,
        "recall": 1.0,
        "fp_rate": 1.0,
        "precision": 0.5,
    }
    assert data["by_source"] == {f"model:{MODEL}": {"hits": 3, "false_positives": 3}}
    assert data["backend"] == "vllm" and data["model"] == MODEL and data["model_errors"] == 0
    assert len(answered) == 6  # two reviews per case, one chunk each


def test_model_failures_fall_back_and_are_counted(tmp_path: Path) -> None:
    dataset = write_jsonl(tmp_path / "tiny.jsonl", TINY[:1])
    config = tmp_path / "eval.yml"
    config.write_text("llm:\n  retries: 1\n  read_timeout: 10\n")
    with FakeVLLM(lambda req: Reply.error(500, "boom"), model=MODEL) as srv:
        res = run_cli(
            [
                "eval",
                str(dataset),
                "--backend",
                "vllm",
                "--llm-url",
                srv.url,
                "--model",
                MODEL,
                "--config",
                str(config),
            ],
            tmp_path,
        )
    assert res.code == 0, res.err
    assert "2 reviews fell back to static checks" in res.out
    overall = next(ln for ln in res.out.splitlines() if ln.startswith("overall"))
    assert overall.split()[1:3] == ["1", "1"]  # the static finding still counts


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.timeout(900, func_only=True)
def test_eval_with_the_tiny_real_model(tmp_path: Path, llama: LlamaServer) -> None:
    """SmolLM2-135M behind llama.cpp's server: the run completes and every number is
    consistent. Nothing is asserted about how good a 135M model is at finding bugs."""
    dataset = write_jsonl(tmp_path / "tiny.jsonl", TINY[:1])  # ~20 s per review on 2 cores
    config = tmp_path / "eval.yml"
    config.write_text(
        "static_checks: false\nllm:\n  max_tokens: 400\n"
        "  max_prompt_tokens: 1200\n  read_timeout: 300\n"
    )
    res = run_cli(
        [
            "eval",
            str(dataset),
            "--backend",
            "openai",
            "--llm-url",
            llama.url,
            "--model",
            ALIAS,
            "--config",
            str(config),
            "--format",
            "json",
        ],
        tmp_path,
    )
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert data["backend"] == "openai" and data["model"] == ALIAS
    assert data["model_errors"] == 0, [c["errors"] for c in data["cases"]]
    overall = data["overall"]
    assert overall["cases"] == 1
    assert overall["hits"] == sum(c["hit"] for c in data["cases"])
    assert set(data["by_source"]) <= {f"model:{ALIAS}"}
