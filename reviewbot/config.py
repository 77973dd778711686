"""Configuration: loaded once at the entry point into a frozen :class:`Config`, passed down.

Sources, lowest precedence first: built-in defaults, ``.reviewbot.yml`` (or ``--config``),
``REVIEWBOT_*`` environment variables, command-line flags (``overrides``). Unknown keys and
wrong types raise :class:`ConfigError` naming the key and the file.

Every key is checked strictly, from the file and the environment alike, by
:mod:`reviewbot.config_values`: lists hold strings (or enum values), integers and numbers lie
in the ranges it lists, string choices are StrEnums. The file's text is untrusted (the
server reads it from every repository): :mod:`reviewbot.config_yaml` caps its size and
refuses aliases, deep nesting and huge numbers before anything is built, and every value
quoted in an error passes through :func:`~reviewbot.config_yaml.shown`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from reviewbot.config_values import MAX_ITEMS, MAX_STRING, ExactChoice, apply, nest
from reviewbot.config_yaml import CONFIG_FILENAME, parse_yaml_config, read_config_file, shown
from reviewbot.errors import ConfigError
from reviewbot.findings import Category, Severity
from reviewbot.linters.spec import LinterConfig, check_linters

__all__ = [
    "CONFIG_FILENAME",
    "ENV_KEYS",
    "MAX_ITEMS",
    "MAX_STRING",
    "BackendName",
    "Config",
    "ExactChoice",
    "FailOn",
    "FilterMode",
    "LLMApi",
    "LLMConfig",
    "LocalConfig",
    "OnFail",
    "RuffConfig",
    "StructuredOutput",
    "TestsConfig",
    "load_config",
    "parse_yaml_config",
]


class FilterMode(StrEnum):
    """Which findings survive, by where they are (reviewdog's filter modes)."""

    ADDED = "added"  # only on added/changed lines
    DIFF_CONTEXT = "diff_context"  # anywhere inside a hunk (added or context lines)
    FILE = "file"  # anywhere in a changed file; placed in the summary when not on a hunk
    NOFILTER = "nofilter"  # everything


class FailOn(StrEnum):
    NONE = "none"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    def threshold(self) -> Severity | None:
        return None if self is FailOn.NONE else Severity(self.value)

    def fails(self, severities: Iterable[Severity]) -> bool:
        """True when one of ``severities`` is at or above this level (never for ``none``)."""
        threshold = self.threshold()
        return threshold is not None and any(s.rank >= threshold.rank for s in severities)


class BackendName(ExactChoice):
    STATIC = "static"
    VLLM = "vllm"
    OPENAI = "openai"
    LOCAL = "local"
    VLLM_OFFLINE = "vllm-offline"


class LLMApi(ExactChoice):
    AUTO = "auto"  # completions with the CodeLlama prompt for codellama models, else chat
    CHAT = "chat"
    COMPLETIONS = "completions"


class StructuredOutput(ExactChoice):
    AUTO = "auto"
    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"
    GUIDED_JSON = "guided_json"
    NONE = "none"


class OnFail(ExactChoice):
    """What to do with a suggested test that fails on the change."""

    SHOW = "show"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class LLMConfig:
    url: str | None = None
    """OpenAI-compatible base URL ending in /v1 (vLLM: http://host:8000/v1)."""
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api: LLMApi = LLMApi.AUTO
    """chat | completions | auto (completions with the CodeLlama prompt for codellama models)."""
    structured_output: StructuredOutput = StructuredOutput.AUTO
    """auto | json_schema | json_object | guided_json | none."""
    temperature: float = 0.1
    seed: int = 1234
    max_tokens: int = 1024
    max_prompt_tokens: int = 6144
    concurrency: int = 16
    connect_timeout: float = 5.0
    read_timeout: float = 180.0
    retries: int = 3
    samples: int = 1
    consensus: int = 1
    """With samples > 1: keep a finding when at least this many samples report it."""
    require_model: bool = False
    """Fail (exit 2) instead of falling back to static checks when the model is unusable."""


@dataclass(frozen=True, slots=True)
class LocalConfig:
    """The in-process llama-cpp-python backend."""

    model_path: str | None = None
    n_ctx: int = 4096
    n_threads: int = 0
    """0 lets llama.cpp choose."""
    n_gpu_layers: int = 0


@dataclass(frozen=True, slots=True)
class TestsConfig:
    enabled: bool = True
    run: bool = False
    """Execute suggested tests (the CLI turns this on unless configured; never by default in
    the server or the Action)."""
    on_fail: OnFail = OnFail.SHOW
    """show | drop: what to do with a suggested test that fails on the change."""
    timeout: float = 60.0
    max_functions: int = 20


@dataclass(frozen=True, slots=True)
class RuffConfig:
    """The built-in ruff source (see reviewbot.static.ruff_rules for the codes it runs)."""

    enabled: bool = True
    extend_select: tuple[str, ...] = ()
    """Ruff codes or prefixes to run besides the curated set (``PLR``, ``SIM102``)."""
    ignore: tuple[str, ...] = ()
    """Codes or prefixes not to run."""
    timeout: float = 60.0
    """Seconds ruff may take; past it the review goes on without ruff's findings."""


@dataclass(frozen=True, slots=True)
class Config:
    backend: BackendName | None = None
    """static | vllm | openai | local | vllm-offline; None chooses: vllm when llm.url is set,
    else static."""
    llm: LLMConfig = field(default_factory=LLMConfig)
    local: LocalConfig = field(default_factory=LocalConfig)
    tests: TestsConfig = field(default_factory=TestsConfig)
    ruff: RuffConfig = field(default_factory=RuffConfig)
    categories: frozenset[Category] = frozenset(Category)
    min_severity: Severity = Severity.INFO
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_comments: int = 30
    filter_mode: FilterMode = FilterMode.ADDED
    fail_on: FailOn = FailOn.ERROR
    context_lines: int = 20
    """Lines of context around a hunk when the enclosing definition is too large."""
    max_context_lines: int = 120
    """An enclosing function longer than this is replaced by a window around the hunk."""
    static_checks: bool = True
    jobs: int = 0
    """Processes for the static checks of a large change: 0 = one per usable CPU, 1 = no
    extra processes (small changes always run in one)."""
    disabled_rules: tuple[str, ...] = ()
    review_drafts: bool = False
    time_budget: float = 0.0
    """Seconds a review may take (0: no limit). Past it no new work starts: files, model
    requests and test suggestions not reached are reported (see reviewbot.deadline)."""
    linters: tuple[LinterConfig, ...] = ()
    """Linters ``reviewbot diff`` and the hook run (never the Action or the server):
    see :mod:`reviewbot.linters`."""

    def effective_backend(self) -> BackendName:
        if self.backend:
            return self.backend
        if self.local.model_path and not self.llm.url:
            return BackendName.LOCAL
        return BackendName.VLLM if self.llm.url else BackendName.STATIC


_SECTIONS: dict[str, type[Any]] = {
    "llm": LLMConfig,
    "local": LocalConfig,
    "tests": TestsConfig,
    "ruff": RuffConfig,
}
# Environment variable -> dotted key.
ENV_KEYS: dict[str, str] = {
    "REVIEWBOT_BACKEND": "backend",
    "REVIEWBOT_LLM_URL": "llm.url",
    "REVIEWBOT_MODEL": "llm.model",
    "REVIEWBOT_LLM_API_KEY": "llm.api_key",
    "REVIEWBOT_LLM_API": "llm.api",
    "REVIEWBOT_STRUCTURED_OUTPUT": "llm.structured_output",
    "REVIEWBOT_MAX_PROMPT_TOKENS": "llm.max_prompt_tokens",
    "REVIEWBOT_CONCURRENCY": "llm.concurrency",
    "REVIEWBOT_READ_TIMEOUT": "llm.read_timeout",
    "REVIEWBOT_LOCAL_MODEL": "local.model_path",
    "REVIEWBOT_FAIL_ON": "fail_on",
    "REVIEWBOT_FILTER_MODE": "filter_mode",
    "REVIEWBOT_MIN_SEVERITY": "min_severity",
    "REVIEWBOT_MAX_COMMENTS": "max_comments",
    "REVIEWBOT_CATEGORIES": "categories",
    "REVIEWBOT_TESTS": "tests.enabled",
    "REVIEWBOT_TESTS_RUN": "tests.run",
    "REVIEWBOT_REQUIRE_MODEL": "llm.require_model",
    "REVIEWBOT_JOBS": "jobs",
    "REVIEWBOT_TIME_BUDGET": "time_budget",
    "REVIEWBOT_RUFF": "ruff.enabled",
}


def _validate(cfg: Config, origin: str) -> Config:
    """Checks across keys (each key's own type and range is checked as it is read)."""
    if cfg.llm.consensus > cfg.llm.samples:
        raise ConfigError(f"{origin}: 'llm.consensus' cannot exceed 'llm.samples'")
    check_linters(cfg.linters, origin)
    if cfg.llm.url is not None and not cfg.llm.url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{origin}: 'llm.url' must be an http(s) URL ending in /v1, got {shown(cfg.llm.url)}"
        )
    return cfg


def load_config(
    root: Path | None = None,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    text: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Config:
    """Build the frozen config.

    ``text`` supplies the file's content directly (the GitHub reader passes the base
    branch's ``.reviewbot.yml``). ``defaults`` are caller defaults below the file (the CLI
    turns ``tests.run`` on, the server does not). ``overrides`` are dotted keys from flags.
    """
    cfg = Config()
    if defaults:
        cfg = apply(cfg, nest(defaults), "defaults")
    origin = "defaults"
    if text is not None:
        origin = str(path or CONFIG_FILENAME)
        cfg = apply(cfg, parse_yaml_config(text, origin), origin)
    else:
        file = path if path is not None else (root / CONFIG_FILENAME if root else None)
        if path is not None and not path.is_file():
            raise ConfigError(f"config file {path} does not exist", hint="check --config")
        if file is not None and file.is_file():
            origin = str(file)
            cfg = apply(cfg, parse_yaml_config(read_config_file(file), origin), origin)
    cfg = _validate(cfg, origin)
    environ = os.environ if env is None else env
    names = sorted(k for k in environ if k in ENV_KEYS)
    for name in names:  # one at a time, so an error names the variable
        cfg = apply(
            cfg, nest({ENV_KEYS[name]: environ[name]}), f"environment {name}", from_env=True
        )
    if names:
        cfg = _validate(cfg, "environment (" + ", ".join(names) + ")")
    if overrides:
        clean = {k: v for k, v in overrides.items() if v is not None}
        cfg = _validate(apply(cfg, nest(clean), "command line"), "command line")
    return cfg
