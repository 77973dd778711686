"""Model-written test suggestions through the whole engine, against the fake vLLM server."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from reviewbot.backends.base import LLMResult
from reviewbot.commands.review_flow import write_tests
from reviewbot.config import Config
from reviewbot.reporters import markdown
from reviewbot.reporters.json_report import result_to_json
from reviewbot.reporters.text import render_text
from reviewbot.result import CheckLevel
from reviewbot.suggest.check import FAILS, PASSES
from reviewbot.suggest.model import candidates_from, user_prompt
from tests.conftest import FIXTURES, GitRepo
from tests.fakes.vllm_server import FakeRequest, FakeVLLM, Reply
from tests.suggest_support import calc_repo, config, head_targets, review

MODEL = "Qwen/Qwen2.5-Coder-7B-Instruct"
TOKEN = "ghs_" + "Z9y8X7w6V5u4T3s2R1q0"
GOLDEN = FIXTURES / "suggest" / "tests_user_prompt.txt"

VALID = """\
import pytest
from calc.ops import divide


def test_divide():
    assert divide(1, 4) == 0.25


def test_divide_by_zero():
    with pytest.raises(ZeroDivisionError):
        divide(1, 0)
"""
FAILING = "from calc.ops import divide\n\n\ndef test_third():\n    assert divide(1, 3) == 0.3333\n"
SYNTAX = "from calc.ops import add\n\ndef test_add(:\n    assert add(1, 2) == 3\n"
HANGS = (
    "import time\nfrom calc.ops import add\n\n\ndef test_add_slowly():\n"
    "    time.sleep(600)\n    assert add(1, 2) == 3\n"
)
UNKNOWN = (
    "import numpy_not_installed\nfrom calc.ops import Accumulator\n\n\ndef test_push():\n"
    "    assert Accumulator().push(numpy_not_installed.float64(2)) == 2\n"
)
ENV = f"""\
import os
from calc.ops import Accumulator


def test_push_sees_no_token():
    acc = Accumulator(1.0)
    assert acc.push(2.0, times=2) == 5.0
    assert os.environ.get("GITHUB_TOKEN") is None
    assert "{TOKEN}" not in repr(dict(os.environ))
"""
CANNED: dict[str, list[dict[str, str]]] = {
    "calc.ops.divide": [
        {"path": "tests/test_divide.py", "code": VALID},
        {"path": "tests/test_divide.py", "code": FAILING},
    ],
    "calc.ops.add": [
        {"path": "tests/test_add.py", "code": SYNTAX},
        {"path": "../../etc/evil.sh", "code": HANGS},
    ],
    "calc.ops.Accumulator.push": [
        {"path": "tests/test_acc.py", "code": UNKNOWN},
        {"path": "test_acc_env.py", "code": ENV},
    ],
    "calc.rounding.round_to": [],
}


def asked(req: FakeRequest) -> list[str]:
    return re.findall(r"^- (\S+) \(", req.user, re.MULTILINE)


def responder(req: FakeRequest) -> dict[str, Any] | Reply:
    if "test writer" not in req.system:
        return {"findings": []}
    tests = [dict(entry, target=name) for name in asked(req) for entry in CANNED[name]]
    return Reply(json.dumps({"tests": tests}), delay=0.2)


def model_config(srv: FakeVLLM, **extra: Any) -> Config:
    return config(
        **{"llm.url": srv.url, "llm.model": MODEL, "tests.run": True, "tests.timeout": 3, **extra}
    )


@pytest.fixture
def calc(git_repo: GitRepo) -> GitRepo:
    return calc_repo(git_repo)


def test_canned_suggestions_reach_the_levels_they_deserve(
    calc: GitRepo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with FakeVLLM(responder, model=MODEL, max_model_len=8192) as srv:
        t0 = time.monotonic()
        result = review(calc, model_config(srv))
        elapsed = time.monotonic() - t0
        test_requests = [r for r in srv.completions() if "test writer" in r.system]
    # 4 targets, 2 per request (max_tokens 1024): 2 requests, sent together
    assert sorted(len(asked(r)) for r in test_requests) == [2, 2]
    assert all("tests" in json.dumps(r.response_format) for r in test_requests)
    assert all(r.body.get("temperature", 0) <= 0.2 for r in test_requests)
    assert srv.max_in_flight == 2
    got = {(t.target, t.path): t for t in result.tests}
    valid = got["calc.ops.divide", "tests/test_divide.py"]
    assert (valid.level, valid.outcome, valid.shown) == (CheckLevel.RAN, PASSES, True)
    assert valid.source == f"model:{MODEL}"
    failing = got["calc.ops.divide", "tests/test_divide_2.py"]  # renamed: one file each
    assert (failing.level, failing.outcome, failing.shown) == (CheckLevel.RAN, FAILS, True)
    assert failing.reason.startswith("test_third: assert 0.33 == 0.3333")
    syntax = got["calc.ops.add", "tests/test_add.py"]
    assert (syntax.level, syntax.outcome, syntax.shown) == (CheckLevel.UNCHECKED, "rejected", False)
    assert syntax.reason.startswith("does not parse")
    hang = got["calc.ops.add", "tests/test_ops_add.py"]  # unsafe path replaced
    assert (hang.level, hang.outcome, hang.shown) == (CheckLevel.COLLECTED, "rejected", False)
    assert hang.reason == "test_add_slowly did not finish within 3s; killed"
    unknown = got["calc.ops.Accumulator.push", "tests/test_acc.py"]
    assert (unknown.level, unknown.shown) == (CheckLevel.UNCHECKED, False)
    assert unknown.reason.startswith("imports numpy_not_installed")
    env = got["calc.ops.Accumulator.push", "test_acc_env.py"]
    assert (env.level, env.outcome) == (CheckLevel.RAN, PASSES), env.reason
    # no model test for round_to: it gets a skeleton, checked to level 2
    skel = got["calc.rounding.round_to", "tests/test_rounding_round_to.py"]
    assert (skel.source, skel.level, skel.outcome) == ("skeleton", CheckLevel.COLLECTED, "skeleton")
    assert elapsed < 30  # one hang costs the 3 s timeout, not the test's 600 s

    doc = result_to_json(result)
    levels = {(t["target"], t["path"]): (t["level_name"], t["outcome"]) for t in doc["tests"]}
    assert levels["calc.ops.divide", "tests/test_divide.py"] == ("ran", PASSES)
    assert levels["calc.ops.add", "tests/test_add.py"] == ("unchecked", "rejected")
    md = markdown.tests_section(result.tests)
    assert md.startswith("<details><summary>Suggested tests (4 checked of 7)</summary>")
    assert FAILS in md and SYNTAX not in md and HANGS not in md
    assert "fails on this change — possible bug" in render_text(result)
    written = write_tests(result, tmp_path / "out")
    assert sorted(p.name for p in written) == [
        "test_acc_env.py",
        "test_divide.py",
        "test_divide_2.py",
        "test_rounding_round_to.py",
    ]


def test_failing_tests_are_dropped_when_configured(calc: GitRepo) -> None:
    with FakeVLLM(responder, model=MODEL) as srv:
        result = review(
            calc, model_config(srv, **{"tests.on_fail": "drop", "tests.max_functions": 2})
        )
    failing = next(t for t in result.tests if t.code == FAILING)
    assert (failing.level, failing.outcome, failing.shown) == (CheckLevel.RAN, "rejected", False)


def test_without_run_suggestions_stop_at_collected(calc: GitRepo) -> None:
    with FakeVLLM(responder, model=MODEL) as srv:
        result = review(calc, model_config(srv, **{"tests.run": False, "tests.max_functions": 2}))
    by_code = {t.code: t for t in result.tests}
    assert (by_code[VALID].level, by_code[VALID].outcome) == (CheckLevel.COLLECTED, "collected")
    assert (by_code[HANGS].level, by_code[HANGS].outcome) == (CheckLevel.COLLECTED, "collected")
    assert by_code[SYNTAX].level is CheckLevel.UNCHECKED
    assert result.timings["tests"] < 15


def test_model_failure_falls_back_to_skeletons(calc: GitRepo) -> None:
    def broken(req: FakeRequest) -> dict[str, Any] | Reply:
        if "test writer" in req.system:
            return Reply.error(400, "bad request")
        return {"findings": []}

    with FakeVLLM(broken, model=MODEL) as srv:
        result = review(calc, model_config(srv))
    assert [t.source for t in result.tests] == ["skeleton"] * 4
    assert all(t.level is CheckLevel.COLLECTED for t in result.tests)


def test_unknown_target_is_rejected_at_level_one(calc: GitRepo) -> None:
    def wrong(req: FakeRequest) -> dict[str, Any]:
        if "test writer" not in req.system:
            return {"findings": []}
        return {
            "tests": [{"target": "calc.ops.multiply", "path": "tests/test_m.py", "code": VALID}]
        }

    with FakeVLLM(wrong, model=MODEL) as srv:
        result = review(calc, model_config(srv, **{"tests.max_functions": 1}))
    bad = next(t for t in result.tests if t.source.startswith("model:"))
    assert (bad.level, bad.shown) == (CheckLevel.UNCHECKED, False)
    assert bad.reason.startswith("targets calc.ops.multiply, not one of the changed functions")


def test_user_prompt_golden(calc: GitRepo) -> None:
    targets, _ = head_targets(calc)
    text = user_prompt([(t, 120) for t in targets[1:3]])
    masked = re.sub(r"(?<=UNTRUSTED-)[0-9a-f]{16}(?=>>>)", "NONCE", text)  # random nonces
    assert masked == GOLDEN.read_text(encoding="utf-8")


def test_answer_entries_become_candidates(calc: GitRepo) -> None:
    targets, _ = head_targets(calc)
    divide, push = targets[1], targets[2]
    answer = {
        "tests": [
            {"target": "divide", "path": "/abs/test_x.py", "code": "```python\n" + VALID + "```"},
            {"target": "Accumulator.push", "path": "tests/push_cases.py", "code": "  "},
            {"target": "calc.ops.divide", "path": "tests/test_more.py", "code": VALID},
            {"target": "calc.ops.divide", "path": "tests/test_third.py", "code": VALID},
            "not an entry",
        ]
    }
    results = [LLMResult("tests-0", samples=(answer,)), LLMResult("tests-1", error="timeout")]
    found, notes = candidates_from(
        results, [[(divide, 120), (push, 120)], [(targets[0], 120)]], "m"
    )
    assert [(c.target.name, c.path, c.rejected) for c in found] == [
        ("divide", "tests/test_ops_divide.py", ""),  # absolute path replaced
        ("push", "tests/test_push_cases.py", "the answer has no code"),
        ("divide", "tests/test_more.py", ""),  # at most two per target: test_third is ignored
    ]
    assert found[0].code == VALID  # the ``` fence inside the JSON string is removed
    assert notes == ["tests-1: timeout"]
