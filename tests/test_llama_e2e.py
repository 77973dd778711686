"""A real model server: llama.cpp's OpenAI-compatible server with SmolLM2-135M, and the same
model in-process through the ``local`` backend. Nothing is asserted about what the tiny
model says; only that the run completes, that constrained decoding gives schema-valid
answers, and that findings land on reviewed lines."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reviewbot.answer_budget import GRAMMAR_SAFE_STRING, findings_schema, suggestions_schema
from reviewbot.backends.answers import parse_answer
from reviewbot.diff.parse import parse_diff
from tests.conftest import GitRepo, require_slow, run_cli
from tests.fakes.recording_proxy import RecordingProxy
from tests.llama_server import ALIAS, LlamaServer, gguf_path, llama_cpp_available

# the shared `llama` fixture (tests/conftest.py) starts the server outside the timeout
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300, func_only=True)]

SCHEMA = findings_schema(800)  # LLM_CONFIG's max_tokens


def _without_bounds(node: object) -> object:
    """``node`` without numeric bounds: llama.cpp's grammar enforces the structure, types,
    enums and string lengths of a schema but not ``minimum`` / ``maximum`` (SmolLM2 has
    answered ``"line": 0``); reviewbot's own check drops such entries as malformed."""
    if isinstance(node, dict):
        return {k: _without_bounds(v) for k, v in node.items() if k not in ("minimum", "maximum")}
    if isinstance(node, list):
        return [_without_bounds(v) for v in node]
    return node


GRAMMAR_SCHEMA = _without_bounds(SCHEMA)
LLM_CONFIG = "llm:\n  max_tokens: 800\n  max_prompt_tokens: 1200\n  read_timeout: 300\n"
BASE = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.run(cmd).returncode\n"
HEAD = (
    "import subprocess\n\n\ndef run(cmd):\n    out = subprocess.run(cmd, shell=True)\n"
    "    return out.returncode\n\n\ndef first(items):\n    return items[0]\n"
)


def make_change(repo: GitRepo, config: str) -> set[tuple[str, int]]:
    repo.write(".reviewbot.yml", config)
    repo.write("tool.py", BASE)
    repo.commit("base")
    repo.write("tool.py", HEAD)
    diff = parse_diff(repo.git("diff", "--no-ext-diff").encode())
    return {
        (fd.path, ln.new_lineno)
        for fd in diff.files
        for h in fd.hunks
        for ln in h.added()
        if ln.new_lineno is not None
    }


def check_findings_on_changed_lines(data: dict[str, object], changed: set[tuple[str, int]]) -> None:
    findings = data["findings"]
    assert isinstance(findings, list)
    for f in findings:
        if f["source"].startswith("model:"):  # its range touches a changed line
            assert any((f["path"], n) in changed for n in range(f["line"], f["end_line"] + 1)), f


def test_openai_backend_against_llama_cpp_server(git_repo: GitRepo, llama: LlamaServer) -> None:
    changed = make_change(git_repo, LLM_CONFIG)
    with RecordingProxy(llama.url.removesuffix("/v1")) as proxy:
        res = run_cli(
            [
                "diff",
                "--backend",
                "openai",
                "--llm-url",
                proxy.url,
                "--model",
                ALIAS,
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
    assert data["model"] == ALIAS and data["model_error"] is None, data["model_error"]
    cov = data["coverage"]
    assert cov["chunks_total"] >= 1
    assert cov["chunks_model_reviewed"] == cov["chunks_total"], cov

    paths = [e.path for e in exchanges]
    assert "/v1/models" in paths and "/extras/tokenize/count" in paths  # real token counts
    answers = [e for e in exchanges if e.path == "/v1/chat/completions"]
    assert len(answers) == cov["chunks_total"]
    for ex in answers:
        assert ex.status == 200
        assert ex.request["response_format"] == {"type": "json_object", "schema": SCHEMA}
        choice = ex.response["choices"][0]
        content = choice["message"]["content"]
        if choice["finish_reason"] == "stop":
            jsonschema.validate(json.loads(content), GRAMMAR_SCHEMA)  # the grammar held
        else:
            assert choice["finish_reason"] == "length"
            parsed = parse_answer(content, "length")
            assert parsed.value is not None, parsed.error
            jsonschema.validate(parsed.value, GRAMMAR_SCHEMA)
        assert ex.response["usage"]["completion_tokens"] <= 800
    check_findings_on_changed_lines(data, changed)


def test_local_backend_with_the_same_model(git_repo: GitRepo) -> None:
    why = llama_cpp_available()
    if why:
        require_slow(why)
    gguf = gguf_path()
    assert gguf is not None
    config = (
        f"backend: local\nlocal:\n  model_path: {json.dumps(str(gguf))}\n  n_ctx: 2048\n"
        f"  n_threads: 2\n" + LLM_CONFIG
    )
    changed = make_change(git_repo, config)
    res = run_cli(["diff", "--format", "json", "--no-tests", "--fail-on", "none"], git_repo.root)
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert data["backend"] == "local" and data["model"] == Path(gguf).name
    assert data["model_error"] is None
    cov = data["coverage"]
    assert cov["chunks_total"] >= 1 and cov["chunks_model_reviewed"] == cov["chunks_total"], cov
    check_findings_on_changed_lines(data, changed)


def test_local_backend_answers_follow_the_schema() -> None:
    why = llama_cpp_available()
    if why:
        require_slow(why)
    from reviewbot.backends.base import LLMRequest
    from reviewbot.backends.local import make_local
    from reviewbot.config import load_config

    cfg = load_config(
        env={},
        overrides={
            "backend": "local",
            "local.model_path": str(gguf_path()),
            "local.n_ctx": 2048,
            "local.n_threads": 2,
            "llm.samples": 2,
            "llm.max_tokens": 400,
        },
    )
    backend = make_local(cfg)
    try:
        info = backend.open()
        assert info.max_model_len == 2048
        assert 0 < backend.count_tokens("def f(x):\n    return x\n") < 20
        user = (
            "File: a.py (python)\n+ 1 | def div(a, b):\n+ 2 |     return a / b\n"
            "Answer with the findings JSON."
        )
        schema = findings_schema(400)
        [res] = backend.complete([LLMRequest("chunk-0", "You review code.", user, schema)])
    finally:
        backend.close()
    assert res.error is None, res.error
    assert len(res.samples) == 2 and res.completion_tokens > 0
    for sample in res.samples:
        jsonschema.validate(sample, schema)


def test_llama_cpp_server_takes_every_schema_we_send(llama: LlamaServer) -> None:
    """Each schema reviewbot sends a llama.cpp server (findings at any max_tokens, tests) is
    parsed and answered; uncapped, a 1,200-character string kills this server (exit 139)."""
    import httpx

    cap = GRAMMAR_SAFE_STRING
    for schema in (findings_schema(4096, cap), findings_schema(800, cap), suggestions_schema(cap)):
        body = {
            "model": ALIAS,
            "max_tokens": 16,
            "temperature": 0,
            "messages": [{"role": "user", "content": "Answer with JSON."}],
            "response_format": {"type": "json_object", "schema": schema},
        }
        res = httpx.post(f"{llama.url}/chat/completions", json=body, timeout=120)
        assert res.status_code == 200, res.text[:300]
    assert httpx.get(f"{llama.url}/models", timeout=10).status_code == 200, llama.log_text()
