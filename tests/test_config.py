"""Configuration: .reviewbot.yml, --config, REVIEWBOT_* overrides, flags; errors name the key
and where it came from (exit 2 from the CLI)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from reviewbot.config import (
    CONFIG_FILENAME,
    ENV_KEYS,
    BackendName,
    Config,
    FailOn,
    FilterMode,
    LLMApi,
    OnFail,
    StructuredOutput,
    load_config,
)
from reviewbot.errors import ConfigError
from reviewbot.findings import Category, Severity
from tests.conftest import GitRepo, run_cli
from tests.docs_support import docs_text

FULL = """\
backend: static
categories: [bug, security]
min_severity: warning
include: ["src/**"]
exclude: ["docs/**", "*.md"]
max_comments: 5
filter_mode: diff_context
fail_on: warning
context_lines: 7
max_context_lines: 50
static_checks: true
disabled_rules: [py.bare-except]
review_drafts: true
llm:
  url: http://gpu-box:8000/v1
  model: codellama/CodeLlama-7b-Instruct-hf
  api: completions
  max_tokens: 512
  max_prompt_tokens: 4096
  concurrency: 8
  samples: 3
  consensus: 2
local:
  n_ctx: 2048
tests:
  enabled: false
  on_fail: drop
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / CONFIG_FILENAME
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_without_a_file() -> None:
    cfg = load_config(None, None, {})
    assert cfg == Config()
    assert cfg.effective_backend() == "static"
    assert (cfg.fail_on, cfg.filter_mode, cfg.min_severity) == (
        FailOn.ERROR,
        FilterMode.ADDED,
        Severity.INFO,
    )


def test_full_file_is_read_into_a_frozen_config(tmp_path: Path) -> None:
    _write(tmp_path, FULL)
    cfg = load_config(tmp_path, None, {})
    assert cfg.categories == frozenset({Category.BUG, Category.SECURITY})
    assert (cfg.min_severity, cfg.filter_mode, cfg.fail_on) == (
        Severity.WARNING,
        FilterMode.DIFF_CONTEXT,
        FailOn.WARNING,
    )
    assert (cfg.include, cfg.exclude, cfg.disabled_rules) == (
        ("src/**",),
        ("docs/**", "*.md"),
        ("py.bare-except",),
    )
    assert (cfg.max_comments, cfg.context_lines, cfg.max_context_lines) == (5, 7, 50)
    assert (cfg.llm.url, cfg.llm.api, cfg.llm.max_tokens, cfg.llm.samples) == (
        "http://gpu-box:8000/v1",
        "completions",
        512,
        3,
    )
    assert (cfg.local.n_ctx, cfg.tests.enabled, cfg.tests.on_fail) == (2048, False, "drop")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.fail_on = FailOn.NONE  # type: ignore[misc]


@pytest.mark.parametrize(
    "text, key",
    [
        ("colour: red\n", "colour"),
        ("llm:\n  urll: http://x/v1\n", "llm.urll"),
        ("tests:\n  enable: true\n", "tests.enable"),
        ("local:\n  model: x.gguf\n", "local.model"),
    ],
)
def test_unknown_keys_are_errors_naming_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, None, {})
    msg = str(err.value)
    assert f"unknown key '{key}'" in msg and str(path) in msg
    assert "known keys" in msg  # the hint lists what is allowed


@pytest.mark.parametrize(
    "text, key, expected",
    [
        ("max_comments: many\n", "max_comments", "an integer"),
        ("max_comments: 2.5\n", "max_comments", "an integer"),
        ("max_comments: true\n", "max_comments", "an integer"),
        ("static_checks: maybe\n", "static_checks", "true or false"),
        ("fail_on: sometimes\n", "fail_on", "one of none, info, warning, error"),
        ("filter_mode: everything\n", "filter_mode", "one of added"),
        ("categories: [bug, typo]\n", "categories", "one of bug, security"),
        ("exclude: 5\n", "exclude", "a list"),
        ("llm: http://x/v1\n", "llm", "a mapping"),
        ("llm:\n  temperature: hot\n", "llm.temperature", "a number"),
        ("llm:\n  model: [a, b]\n", "llm.model", "a string"),
        ("tests:\n  timeout: soon\n", "tests.timeout", "a number"),
    ],
)
def test_wrong_types_are_errors_naming_key_and_file(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, None, {})
    msg = str(err.value)
    assert f"'{key}'" in msg and str(path) in msg and expected in msg, msg


@pytest.mark.parametrize(
    "text, needle",
    [
        ("llm:\n  concurrency: 0\n", "'llm.concurrency' must be at least 1"),
        ("llm:\n  samples: 1\n  consensus: 2\n", "'llm.consensus' cannot exceed"),
        ("llm:\n  url: gpu-box:8000\n", "'llm.url' must be an http(s) URL"),
        ("backend: magic\n", "'backend' must be one of"),
        ("tests:\n  on_fail: explode\n", "'tests.on_fail' must be one of show, drop"),
    ],
)
def test_invalid_values_name_key_and_file(tmp_path: Path, text: str, needle: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, None, {})
    assert needle in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("fail_on: [unclosed\n", "not valid YAML"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("!!python/object:os.system x\n", "not valid YAML"),  # safe_load refuses objects
    ],
)
def test_bad_yaml(tmp_path: Path, text: str, needle: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path, None, {})
    assert needle in str(err.value) and str(path) in str(err.value)


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    _write(tmp_path, "# nothing set\n")
    assert load_config(tmp_path, None, {}) == Config()


def test_environment_overrides_file_and_flags_override_environment(tmp_path: Path) -> None:
    _write(tmp_path, "fail_on: warning\nllm:\n  model: from-file\n  max_prompt_tokens: 4000\n")
    env = {
        "REVIEWBOT_FAIL_ON": "info",
        "REVIEWBOT_MODEL": "from-env",
        "REVIEWBOT_LLM_URL": "http://127.0.0.1:9/v1",
        "REVIEWBOT_MAX_PROMPT_TOKENS": "3000",
        "REVIEWBOT_CATEGORIES": "bug, style",
        "REVIEWBOT_TESTS": "no",
        "REVIEWBOT_FILTER_MODE": "nofilter",
        "REVIEWBOT_UNRELATED": "ignored",
    }
    cfg = load_config(tmp_path, None, env)
    assert (cfg.fail_on, cfg.llm.model, cfg.llm.url, cfg.llm.max_prompt_tokens) == (
        FailOn.INFO,
        "from-env",
        "http://127.0.0.1:9/v1",
        3000,
    )
    assert cfg.categories == frozenset({Category.BUG, Category.STYLE})
    assert (cfg.tests.enabled, cfg.filter_mode) == (False, FilterMode.NOFILTER)
    assert cfg.effective_backend() == "vllm"
    flags = load_config(tmp_path, None, env, {"fail_on": "none", "llm.model": None})
    assert (flags.fail_on, flags.llm.model) == (FailOn.NONE, "from-env")  # None = flag unset


def test_every_documented_environment_variable_maps_to_a_key() -> None:
    readme = docs_text()
    for name, key in ENV_KEYS.items():
        assert f"| `{name}` | `{key}`" in readme, name
    # and each one really changes its key away from the default
    samples = {
        "backend": "static",
        "llm.url": "http://h/v1",
        "llm.api": "chat",
        "llm.structured_output": "none",
        "fail_on": "none",
        "filter_mode": "file",
        "min_severity": "error",
        "categories": "bug",
        "local.model_path": "m.gguf",
        "tests.enabled": "false",
        "tests.run": "true",
        "llm.require_model": "true",
        "ruff.enabled": "false",
    }
    default = Config()
    for name, key in ENV_KEYS.items():
        cfg = load_config(None, None, {name: samples.get(key, "2000")})
        section, _, field = key.rpartition(".")
        before = getattr(getattr(default, section) if section else default, field)
        after = getattr(getattr(cfg, section) if section else cfg, field)
        assert after != before, name


@pytest.mark.parametrize(
    "env, needle",
    [
        ({"REVIEWBOT_FAIL_ON": "sometimes"}, "REVIEWBOT_FAIL_ON"),
        ({"REVIEWBOT_MAX_PROMPT_TOKENS": "lots"}, "REVIEWBOT_MAX_PROMPT_TOKENS"),
        ({"REVIEWBOT_CONCURRENCY": "0"}, "REVIEWBOT_CONCURRENCY"),
        ({"REVIEWBOT_LLM_URL": "gpu:8000"}, "REVIEWBOT_LLM_URL"),
    ],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, None, env)
    assert needle in str(err.value)


def test_explicit_config_path(tmp_path: Path) -> None:
    other = tmp_path / "ci" / "review.yml"
    other.parent.mkdir()
    other.write_text("max_comments: 3\n")
    _write(tmp_path, "max_comments: 9\n")
    assert load_config(tmp_path, other, {}).max_comments == 3
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, tmp_path / "missing.yml", {})


def test_secret_is_not_in_repr() -> None:
    cfg = load_config(None, None, {"REVIEWBOT_LLM_API_KEY": "sk-very-secret"})
    assert cfg.llm.api_key == "sk-very-secret"
    assert "sk-very-secret" not in repr(cfg)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("fail_on: sometimes\n", "'fail_on' must be one of"),
        ("colour: red\n", "unknown key 'colour'"),
    ],
)
def test_cli_config_errors_exit_2(git_repo: GitRepo, text: str, needle: str) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit()
    git_repo.write(CONFIG_FILENAME, text)
    res = run_cli(["diff", "--no-tests"], git_repo.root)
    assert res.code == 2 and needle in res.err and CONFIG_FILENAME in res.err
    assert "Traceback" not in res.err and res.out == ""
    other = git_repo.root / "elsewhere.yml"
    other.write_text(text)
    res = run_cli(["diff", "--no-tests", "--config", str(other)], git_repo.root)
    assert res.code == 2 and "elsewhere.yml" in res.err


def test_cli_bad_environment_exit_2(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit()
    res = run_cli(["diff", "--no-tests"], git_repo.root, env={"REVIEWBOT_MAX_COMMENTS": "lots"})
    assert res.code == 2 and "REVIEWBOT_MAX_COMMENTS" in res.err


def test_too_small_prompt_budget_is_a_config_error(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit()
    git_repo.write("a.py", "x = 2\n")
    res = run_cli(["diff", "--no-tests", "--max-prompt-tokens", "300"], git_repo.root)
    assert res.code == 2 and "llm.max_prompt_tokens (300)" in res.err


def test_choice_keys_are_enums_matched_exactly_as_written() -> None:
    cfg = load_config(
        env={},
        text="backend: vllm-offline\nllm:\n  api: completions\n"
        "  structured_output: guided_json\ntests:\n  on_fail: drop\n",
    )
    assert cfg.backend is BackendName.VLLM_OFFLINE and cfg.llm.api is LLMApi.COMPLETIONS
    assert cfg.llm.structured_output is StructuredOutput.GUIDED_JSON
    assert cfg.tests.on_fail is OnFail.DROP
    assert load_config(env={}).effective_backend() is BackendName.STATIC
    pinned = load_config(env={}, overrides={"backend": BackendName.OPENAI})  # the server's pin
    assert pinned.backend is BackendName.OPENAI
    for text, needle in [
        (
            "backend: VLLM\n",
            "'backend' must be one of static, vllm, openai, local, vllm-offline, got 'VLLM'",
        ),
        ("backend: 3\n", "'backend' must be a string, got 3"),
        (
            "llm:\n  structured_output: JSON_SCHEMA\n",
            "'llm.structured_output' must be one of auto, json_schema, json_object, guided_json,"
            " none, got",
        ),
    ]:
        with pytest.raises(ConfigError, match=re.escape(needle)):
            load_config(env={}, text=text)
    with pytest.raises(
        ConfigError,
        match=re.escape("'llm.api' must be one of auto, chat, completions, got ' chat'"),
    ):
        load_config(env={"REVIEWBOT_LLM_API": " chat"})
    # the enums that forgave case and spaces still do
    assert load_config(env={"REVIEWBOT_FILTER_MODE": " FILE"}).filter_mode is FilterMode.FILE


def test_fail_on_decides_one_way_for_every_caller() -> None:
    from reviewbot.config import FailOn
    from reviewbot.findings import Severity

    found = [Severity.INFO, Severity.WARNING]
    assert [level.fails(found) for level in FailOn] == [False, True, True, False]
    assert not FailOn.ERROR.fails([]) and FailOn.INFO.fails(iter([Severity.INFO]))
