"""`reviewbot diff --backend vllm` end to end against the fake vLLM server."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GitRepo, run_cli
from tests.fakes.vllm_server import FakeRequest, FakeVLLM, Reply, finding, on_changed_lines

MODEL = "codellama/CodeLlama-7b-Instruct-hf"
BASE = (
    "import os\n\n\ndef load(path):\n    return open(path).read()\n\n\ndef keep():\n    return 1\n"
)
HEAD = (
    "import os\n\n\ndef load(path):\n    data = open(path).read()\n    return eval(data)\n\n\n"
    "def keep():\n    return 1\n\n\ndef added(x):\n    total = 0\n    for i in range(x):\n"
    "        total += i\n    return total\n"
)
CONFIG = "llm:\n  retries: 1\n  read_timeout: 10\n"


def repo_with_change(git_repo: GitRepo) -> GitRepo:
    git_repo.write(".reviewbot.yml", CONFIG)
    git_repo.write("app.py", BASE)
    git_repo.commit("base")
    git_repo.write("app.py", HEAD)
    return git_repo


def review(repo: GitRepo, url: str, *extra: str, env: dict[str, str] | None = None) -> Any:
    res = run_cli(
        [
            "diff",
            "--backend",
            "vllm",
            "--llm-url",
            url,
            "--model",
            MODEL,
            "--format",
            "json",
            "--no-tests",
            *extra,
        ],
        repo.root,
        env=env,
    )
    data = json.loads(res.out) if res.out.strip().startswith("{") else None
    return res, data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_model_findings_are_placed_and_off_chunk_ones_dropped(git_repo: GitRepo) -> None:
    repo = repo_with_change(git_repo)
    with FakeVLLM(on_changed_lines(outside=True), model=MODEL) as srv:
        res, data = review(repo, srv.url)
        answered = srv.completions()
    assert res.code == 1, res.err  # the static eval finding is an error
    assert res.err == ""
    model = [f for f in data["findings"] if f["source"] == f"model:{MODEL}"]
    assert [(f["path"], f["line"], f["title"]) for f in model] == [("app.py", 5, "possible bug")]
    assert any(f.get("rule_id") == "py.eval" and f["line"] == 6 for f in data["findings"])
    assert data["dropped"]["outside chunk"] == len(answered) >= 1
    cov = data["coverage"]
    assert cov["chunks_model_reviewed"] == cov["chunks_total"] == len(answered)
    assert data["model"] == MODEL and data["model_error"] is None
    prompt = answered[0].body["prompt"]
    assert prompt.startswith("[INST] <<SYS>>\nYou are reviewbot") and "app.py" in prompt


def test_server_down_gives_static_findings_and_one_clear_line(git_repo: GitRepo) -> None:
    repo = repo_with_change(git_repo)
    url = f"http://127.0.0.1:{free_port()}/v1"
    res, data = review(repo, url)
    assert res.code == 1
    assert [f.get("rule_id") for f in data["findings"]] == ["py.eval"]
    assert res.err == (
        f"reviewbot: model skipped, static checks only: no LLM server at "
        f"{url}/models (connection refused)\n"
    )
    assert data["model_error"] == f"no LLM server at {url}/models (connection refused)"
    res_none, _ = review(repo, url, "--fail-on", "none")
    assert res_none.code == 0
    text = run_cli(
        ["diff", "--backend", "vllm", "--llm-url", url, "--model", MODEL, "--no-tests"], repo.root
    )
    assert text.code == 1 and text.err == ""
    assert f"note: model skipped: no LLM server at {url}/models (connection refused)" in text.out


def test_require_model_turns_server_down_into_exit_2(git_repo: GitRepo) -> None:
    repo = repo_with_change(git_repo)
    url = f"http://127.0.0.1:{free_port()}/v1"
    res, data = review(repo, url, env={"REVIEWBOT_REQUIRE_MODEL": "1"})
    assert res.code == 2 and data is None
    assert f"no LLM server at {url}/models (connection refused)" in res.err


def test_unknown_model_falls_back_with_the_served_list(git_repo: GitRepo) -> None:
    repo = repo_with_change(git_repo)
    with FakeVLLM(model="other/model") as srv:
        res, data = review(repo, srv.url)
    assert res.code == 1
    assert data["model_error"] == (
        f"model '{MODEL}' is not served at {srv.url}; it serves: other/model"
    )


def test_every_chunk_failing_still_delivers_static_findings(git_repo: GitRepo) -> None:
    repo = repo_with_change(git_repo)
    with FakeVLLM(lambda req: Reply.error(500, "engine dead"), model=MODEL) as srv:
        res, data = review(repo, srv.url)
    assert res.code == 1
    assert [f.get("rule_id") for f in data["findings"]] == ["py.eval"]
    assert data["model_error"].startswith("the model answered no chunk (HTTP 500 from ")
    assert data["coverage"]["chunks_model_reviewed"] == 0
    assert "engine dead" in res.err and res.err.count("\n") == 1


def test_many_chunks_are_sent_concurrently(git_repo: GitRepo) -> None:
    git_repo.write(".reviewbot.yml", CONFIG)
    git_repo.commit("base")
    for i in range(12):
        body = "".join(f"def f{i}_{j}(x):\n    return x * {j} + {i}\n\n\n" for j in range(6))
        git_repo.write(f"pkg/mod{i}.py", body)
    git_repo.commit("twelve new modules")
    with FakeVLLM(lambda req: Reply(json.dumps({"findings": []}), delay=0.3), model=MODEL) as srv:
        res, data = review(git_repo, srv.url, "HEAD~1", "--max-prompt-tokens", "900")
        n = len(srv.completions())
        peak = srv.max_in_flight
    assert res.code == 0, res.err
    assert data["coverage"]["chunks_total"] == n >= 6
    assert data["coverage"]["chunks_model_reviewed"] == n
    assert peak == min(n, 16)


def test_samples_keep_findings_enough_samples_agree_on(git_repo: GitRepo) -> None:
    repo = repo_with_change(git_repo)
    repo.write(".reviewbot.yml", CONFIG + "  samples: 3\n  consensus: 2\n")

    def respond(req: FakeRequest) -> Reply:
        line = req.changed_lines()["app.py"][0]
        agreed = finding("app.py", line, "reads whole file", severity="warning")
        lone = finding("app.py", line + 1, "only one sample says this", severity="warning")
        return Reply(
            [
                json.dumps({"findings": [agreed, lone]}),
                json.dumps({"findings": [agreed]}),
                json.dumps({"findings": []}),
            ]
        )

    with FakeVLLM(respond, model=MODEL) as srv:
        res, data = review(repo, srv.url)
        assert all(r.body["n"] == 3 for r in srv.requests)
    model = [f for f in data["findings"] if f["source"].startswith("model:")]
    assert [(f["title"], f["confidence"]) for f in model] == [("reads whole file", 0.67)]
    assert data["dropped"]["no consensus"] == 1
    assert res.code == 1


def test_answer_paths_are_repaired_only_on_a_slash_boundary(git_repo: GitRepo) -> None:
    repo = repo_with_change(git_repo)
    repo.write("app.py", HEAD)

    def answer(req: FakeRequest) -> dict[str, Any]:
        line = req.changed_lines()["app.py"][0]
        return {
            "findings": [
                finding("src/app.py", line, "looks wrong"),  # prefixed: the same file
                finding("xapp.py", line, "another file"),
            ]
        }  # a different file

    with FakeVLLM(answer, model=MODEL) as srv:
        res, data = review(repo, srv.url)
    model = [f for f in data["findings"] if f["source"] == f"model:{MODEL}"]
    assert [(f["path"], f["title"]) for f in model] == [("app.py", "looks wrong")], res.err
    assert data["dropped"]["outside chunk"] >= 1


def test_some_chunks_failing_are_said_on_stderr_and_in_every_report(git_repo: GitRepo) -> None:
    """One chunk of two failing (the other answered) is not silent: one stderr line, and a
    note in the JSON, text and markdown reports; the test writer's failures likewise."""
    git_repo.write(
        ".reviewbot.yml", "llm:\n  retries: 0\n  read_timeout: 10\n  max_prompt_tokens: 700\n"
    )
    git_repo.write("app.py", BASE)
    git_repo.write("other.py", "def keep():\n    return 1\n")
    git_repo.commit("base")
    git_repo.write("app.py", HEAD)
    git_repo.write("other.py", "def keep():\n    return 2\n\n\ndef more(y):\n    return y * 2\n")

    def respond(req: FakeRequest) -> Any:
        if "test writer" in req.prompt:
            return Reply.error(500, "tests engine dead")
        if "other.py" in req.prompt and "app.py" not in req.prompt:
            return Reply.error(500, "engine dead")
        return {"findings": []}

    with FakeVLLM(respond, model=MODEL) as srv:
        res, data = review(git_repo, srv.url, "--fail-on", "none")
        text = run_cli(
            [
                "diff",
                "--backend",
                "vllm",
                "--llm-url",
                srv.url,
                "--model",
                MODEL,
                "--no-tests",
                "--fail-on",
                "none",
            ],
            git_repo.root,
        )
        md = run_cli(
            [
                "diff",
                "--backend",
                "vllm",
                "--llm-url",
                srv.url,
                "--model",
                MODEL,
                "--format",
                "markdown",
                "--fail-on",
                "none",
            ],
            git_repo.root,
        )
    cov = data["coverage"]
    assert res.code == 0 and cov["chunks_total"] == 2 and cov["chunks_model_reviewed"] == 1, cov
    assert data["model_error"] is None  # the model was used: not a fallback
    line = "the model failed on 1 of 2 chunks; their lines got static checks only (first: HTTP 500"
    assert res.err.startswith(f"reviewbot: {line}") and res.err.count("\n") == 1, res.err
    assert any(n.startswith(line) for n in cov["notes"])
    assert line in text.out and line in text.err
    assert line in md.out
    writer = "the test writer failed on 2 of 2 requests; their functions got skeletons"
    assert writer in md.err and writer in md.out, md.err


def test_every_backend_flag_offers_the_registry_and_config_accepts_the_same(tmp_path: Path) -> None:
    """The names come from ``reviewbot.backends.REGISTRY``: each command's ``--backend``
    lists them in that order, and ``backend:`` in the config accepts exactly those."""
    from reviewbot.backends import REGISTRY
    from reviewbot.cli import build_parser
    from reviewbot.config import load_config
    from reviewbot.errors import ConfigError

    names = list(REGISTRY)
    assert names == ["static", "vllm", "openai", "local", "vllm-offline"]
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None
    seen = set()
    for name, sub in commands.items():
        for action in sub._actions:
            if "--backend" in action.option_strings:
                assert list(action.choices or ()) == names, name
                seen.add(name)
    assert seen == {"diff", "pr", "hook", "eval"}
    for name in names:
        assert load_config(tmp_path, None, {}, {"backend": name}).backend == name
    with pytest.raises(ConfigError):
        load_config(tmp_path, None, {}, {"backend": "nonsense"})
