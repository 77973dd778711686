"""Test suggestions from a real (tiny) model: SmolLM2-135M behind llama.cpp's server.

Nothing is asserted about the quality of what the model writes; only that the pipeline
completes and every suggestion records how far it got through the checks.
"""

from __future__ import annotations

import json

import pytest

from reviewbot.result import CheckLevel
from tests.conftest import GitRepo, run_cli
from tests.fakes.recording_proxy import RecordingProxy
from tests.llama_server import ALIAS, LlamaServer
from tests.suggest_support import calc_repo

# the shared `llama` fixture (tests/conftest.py) starts the server outside the timeout
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300, func_only=True)]

CONFIG = """\
llm:
  max_tokens: 800
  max_prompt_tokens: 1200
  read_timeout: 300
tests:
  run: true
  timeout: 20
  max_functions: 2
static_checks: false
"""


def test_pipeline_completes_and_records_a_level_for_every_suggestion(
    git_repo: GitRepo, llama: LlamaServer
) -> None:
    git_repo.write(".reviewbot.yml", CONFIG)
    repo = calc_repo(git_repo)
    with RecordingProxy(llama.url.removesuffix("/v1")) as proxy:
        res = run_cli(
            [
                "diff",
                "HEAD~1..HEAD",
                "--backend",
                "openai",
                "--llm-url",
                proxy.url,
                "--model",
                ALIAS,
                "--format",
                "json",
                "--fail-on",
                "none",
            ],
            repo.root,
        )
        exchanges = list(proxy.exchanges)
    assert res.code == 0, res.err
    asked = [e for e in exchanges if e.path == "/v1/chat/completions"]
    assert asked, "the test writer never asked the model"
    for ex in asked:  # the server took every schema and stayed up (no 5xx, no lost connection)
        assert ex.status == 200, (ex.status, ex.response)
    data = json.loads(res.out)
    assert data["model"] == ALIAS and data["model_error"] is None, data["model_error"]
    tests = data["tests"]
    assert {t["target"] for t in tests} == {"calc.ops.add", "calc.ops.divide"}
    for t in tests:
        level = CheckLevel(t["level"])
        assert t["level_name"] == level.name.lower()
        assert t["source"] in ("skeleton", f"model:{ALIAS}")
        assert t["outcome"]
        if level < CheckLevel.COLLECTED or t["outcome"] == "rejected":
            assert t["reason"], t  # whatever stopped it is recorded
    assert "tests" in data["timings"]
