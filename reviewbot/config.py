"""Configuration: loaded once at the entry point into a frozen :class:`Config`, passed down.

Sources, lowest precedence first: built-in defaults, ``.reviewbot.yml`` (or ``--config``),
``REVIEWBOT_*`` environment variables, command-line flags (``overrides``). Unknown keys and
wrong types raise :class:`ConfigError` naming the key and the file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from reviewbot.errors import ConfigError
from reviewbot.findings import Category, Severity

CONFIG_FILENAME = ".reviewbot.yml"


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


@dataclass(frozen=True, slots=True)
class LLMConfig:
    url: str | None = None
    """OpenAI-compatible base URL ending in /v1 (vLLM: http://host:8000/v1)."""
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api: str = "auto"
    """chat | completions | auto (completions with the CodeLlama prompt for codellama models)."""
    structured_output: str = "auto"
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
    on_fail: str = "show"
    """show | drop: what to do with a suggested test that fails on the change."""
    timeout: float = 60.0
    max_functions: int = 20


@dataclass(frozen=True, slots=True)
class Config:
    backend: str | None = None
    """static | vllm | openai | local | vllm-offline; None chooses: vllm when llm.url is set,
    else static."""
    llm: LLMConfig = field(default_factory=LLMConfig)
    local: LocalConfig = field(default_factory=LocalConfig)
    tests: TestsConfig = field(default_factory=TestsConfig)
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

    def effective_backend(self) -> str:
        if self.backend:
            return self.backend
        if self.local.model_path and not self.llm.url:
            return "local"
        return "vllm" if self.llm.url else "static"


_BACKENDS = ("static", "vllm", "openai", "local", "vllm-offline")
_SECTIONS: dict[str, type[Any]] = {"llm": LLMConfig, "local": LocalConfig, "tests": TestsConfig}

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
}


def _coerce(value: Any, typ: Any, key: str, origin: str) -> Any:
    """Convert a YAML/env value to the declared type or raise ConfigError."""
    def bad(expected: str) -> ConfigError:
        return ConfigError(
            f"{origin}: '{key}' must be {expected}, got {value!r}",
            hint=f"fix '{key}' in {origin}",
        )

    opt = get_origin(typ)
    args = get_args(typ)
    if args and type(None) in args and opt is not frozenset and opt is not tuple:
        if value is None or value == "":
            return None
        typ = next(a for a in args if a is not type(None))
        opt = get_origin(typ)
        args = get_args(typ)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
            return False
        raise bad("true or false")
    if typ is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise bad("an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad("an integer") from None
    if typ is float:
        if isinstance(value, bool):
            raise bad("a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad("a number") from None
    if typ is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise bad("a string")
        return str(value)
    if isinstance(typ, type) and issubclass(typ, StrEnum):
        try:
            return typ(str(value).lower())
        except ValueError:
            raise bad("one of " + ", ".join(m.value for m in typ)) from None
    if opt in (tuple, frozenset):
        items = ([s.strip() for s in value.split(",") if s.strip()]
                 if isinstance(value, str) else value)
        if not isinstance(items, list | tuple):
            raise bad("a list")
        inner = args[0]
        converted = [_coerce(v, inner, key, origin) for v in items]
        return tuple(converted) if opt is tuple else frozenset(converted)
    raise bad(str(typ))  # pragma: no cover - every field type is handled above


def _apply(obj: Any, data: Mapping[str, Any], origin: str, prefix: str = "") -> Any:
    hints = get_type_hints(type(obj))
    names = {f.name for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            known = ", ".join(sorted(names))
            raise ConfigError(
                f"{origin}: unknown key '{dotted}'",
                hint=f"known keys{' under ' + prefix.rstrip('.') if prefix else ''}: {known}",
            )
        typ = hints[key]
        if isinstance(typ, type) and dataclasses.is_dataclass(typ):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: '{dotted}' must be a mapping, got {value!r}")
            changes[key] = _apply(getattr(obj, key), value, origin, f"{dotted}.")
        else:
            changes[key] = _coerce(value, typ, dotted, origin)
    return dataclasses.replace(obj, **changes)


def _nest(dotted: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def _validate(cfg: Config, origin: str) -> Config:
    if cfg.backend is not None and cfg.backend not in _BACKENDS:
        raise ConfigError(
            f"{origin}: 'backend' must be one of {', '.join(_BACKENDS)}, got {cfg.backend!r}"
        )
    if cfg.llm.api not in ("auto", "chat", "completions"):
        raise ConfigError(f"{origin}: 'llm.api' must be auto, chat or completions")
    if cfg.llm.structured_output not in ("auto", "json_schema", "json_object", "guided_json",
                                         "none"):
        raise ConfigError(
            f"{origin}: 'llm.structured_output' must be auto, json_schema, json_object, "
            "guided_json or none"
        )
    if cfg.tests.on_fail not in ("show", "drop"):
        raise ConfigError(f"{origin}: 'tests.on_fail' must be show or drop")
    for key, val, low in (
        ("llm.concurrency", cfg.llm.concurrency, 1),
        ("llm.max_prompt_tokens", cfg.llm.max_prompt_tokens, 256),
        ("llm.max_tokens", cfg.llm.max_tokens, 16),
        ("llm.samples", cfg.llm.samples, 1),
        ("llm.consensus", cfg.llm.consensus, 1),
        ("max_comments", cfg.max_comments, 0),
        ("jobs", cfg.jobs, 0),
    ):
        if val < low:
            raise ConfigError(f"{origin}: '{key}' must be at least {low}, got {val}")
    if cfg.llm.consensus > cfg.llm.samples:
        raise ConfigError(f"{origin}: 'llm.consensus' cannot exceed 'llm.samples'")
    if not 0.0 <= cfg.llm.temperature <= 2.0:
        raise ConfigError(f"{origin}: 'llm.temperature' must be between 0 and 2")
    if cfg.llm.url is not None and not cfg.llm.url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{origin}: 'llm.url' must be an http(s) URL ending in /v1, got {cfg.llm.url!r}"
        )
    return cfg


def parse_yaml_config(text: str, origin: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping of settings")
    return data


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
        cfg = _apply(cfg, _nest(defaults), "defaults")
    origin = "defaults"
    if text is not None:
        origin = str(path or CONFIG_FILENAME)
        cfg = _apply(cfg, parse_yaml_config(text, origin), origin)
    else:
        file = path if path is not None else (root / CONFIG_FILENAME if root else None)
        if path is not None and not path.is_file():
            raise ConfigError(f"config file {path} does not exist", hint="check --config")
        if file is not None and file.is_file():
            origin = str(file)
            try:
                content = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read config file {file}: {exc}") from exc
            cfg = _apply(cfg, parse_yaml_config(content, origin), origin)
    cfg = _validate(cfg, origin)
    environ = os.environ if env is None else env
    names = sorted(k for k in environ if k in ENV_KEYS)
    for name in names:  # one at a time, so an error names the variable
        cfg = _apply(cfg, _nest({ENV_KEYS[name]: environ[name]}), f"environment {name}")
    if names:
        cfg = _validate(cfg, "environment (" + ", ".join(names) + ")")
    if overrides:
        clean = {k: v for k, v in overrides.items() if v is not None}
        cfg = _validate(_apply(cfg, _nest(clean), "command line"), "command line")
    return cfg
