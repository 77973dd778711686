"""Configuration: loaded once at the entry point into a frozen :class:`Config`, passed down.

Sources, lowest precedence first: built-in defaults, ``.reviewbot.yml`` (or ``--config``),
``REVIEWBOT_*`` environment variables, command-line flags (``overrides``). Unknown keys and
wrong types raise :class:`ConfigError` naming the key and the file.

Every key is checked strictly, from the file and the environment alike: lists hold strings
(or enum values), integers and numbers lie in the ranges of ``_INT_RANGES`` /
``_FLOAT_RANGES``, string choices are StrEnums. The file's text is untrusted (the
server reads it from every repository): :mod:`reviewbot.config_yaml` caps its size and
refuses aliases, deep nesting and huge numbers before anything is built, and every value
quoted in an error passes through :func:`~reviewbot.config_yaml.shown`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from reviewbot.config_yaml import (
    CONFIG_FILENAME,
    MAX_INT_DIGITS,
    clip,
    parse_yaml_config,
    read_config_file,
    shown,
)
from reviewbot.errors import ConfigError
from reviewbot.findings import Category, Severity
from reviewbot.linters.spec import LinterConfig, check_linters

__all__ = ["CONFIG_FILENAME", "ENV_KEYS", "BackendName", "Config", "ExactChoice", "FailOn",
           "FilterMode", "LLMApi", "LLMConfig", "LocalConfig", "OnFail", "RuffConfig",
           "StructuredOutput", "TestsConfig", "load_config", "parse_yaml_config"]

_N = TypeVar("_N", int, float)


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


class ExactChoice(StrEnum):
    """A string key with a fixed set of values, matched exactly as written: unlike
    :class:`FilterMode` and :class:`FailOn`, case and surrounding spaces are not forgiven, and
    a value that is not a string is "a string" in the error."""


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


_SECTIONS: dict[str, type[Any]] = {"llm": LLMConfig, "local": LocalConfig, "tests": TestsConfig,
                                   "ruff": RuffConfig}
# String keys (and list entries) that must match a pattern: (regex, what it looks like).
_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "ruff.extend_select": (re.compile(r"[A-Z]{1,4}[0-9]{0,4}"), "a ruff code such as B006 or PLE"),
    "ruff.ignore": (re.compile(r"[A-Z]{1,4}[0-9]{0,4}"), "a ruff code such as B006 or PLE"),
}
# Inclusive ranges; an int key not listed here is bounded by +-2**53.
_INT_RANGES: dict[str, tuple[int, int]] = {
    "llm.seed": (0, 2**53),
    "llm.max_tokens": (16, 1_000_000),
    "llm.max_prompt_tokens": (256, 10_000_000),
    "llm.concurrency": (1, 4096),
    "llm.retries": (0, 100),
    "llm.samples": (1, 100),
    "llm.consensus": (1, 100),
    "local.n_ctx": (0, 10_000_000),
    "local.n_threads": (0, 4096),
    "local.n_gpu_layers": (-1, 100_000),
    "tests.max_functions": (0, 10_000),
    "max_comments": (0, 10_000),
    "context_lines": (0, 100_000),
    "max_context_lines": (0, 1_000_000),
    "jobs": (0, 4096),
}
_FLOAT_RANGES: dict[str, tuple[float, float]] = {
    "llm.temperature": (0.0, 2.0),
    "llm.connect_timeout": (0.1, 86_400.0),
    "llm.read_timeout": (0.1, 86_400.0),
    "tests.timeout": (0.1, 86_400.0),
    "ruff.timeout": (0.1, 3_600.0),
    "time_budget": (0.0, 86_400.0),
}
_MAX_INT = 2**53
MAX_STRING = 4096
"""Characters in one string value (a URL, a model name, a glob)."""
MAX_ITEMS = 1000
"""Entries in one list (globs, rules, categories)."""
_ENV_INT = re.compile(rf"[+-]?[0-9]{{1,{MAX_INT_DIGITS}}}")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")

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


def _coerce(value: Any, typ: Any, key: str, origin: str, from_env: bool,
            entry: int | None = None) -> Any:
    """Check a value against the declared type, or raise ConfigError naming ``key``.

    File and caller values must already have the type (a YAML list for a list, an int for an
    int); ``from_env`` values are strings, parsed strictly ("1,2" lists, ASCII integers)."""
    def bad(expected: str) -> ConfigError:
        where = f"'{key}'" if entry is None else f"'{key}' entry {entry + 1}"
        return ConfigError(
            f"{origin}: {where} must be {expected}, got {shown(value)}",
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
    text = value.strip() if from_env and isinstance(value, str) else None
    if typ is bool:
        if isinstance(value, bool):
            return value
        if text is not None and text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise bad("true or false")
    if typ is int:
        if text is not None and _ENV_INT.fullmatch(text):
            value = int(text)
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad(f"an integer (at most {MAX_INT_DIGITS} digits)")
        return _in_range(value, _INT_RANGES.get(key, (-_MAX_INT, _MAX_INT)), key, origin)
    if typ is float:
        if text is not None and len(text) <= 40:
            try:
                value = float(text)
            except ValueError:
                raise bad("a number") from None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad("a number")
        if isinstance(value, int) and abs(value) > _MAX_INT:
            raise bad(f"a number of at most {_MAX_INT}")
        if not math.isfinite(value):
            raise bad("a finite number")
        return _in_range(float(value), _FLOAT_RANGES.get(key, (-1e15, 1e15)), key, origin)
    exact = isinstance(typ, type) and issubclass(typ, ExactChoice)
    if typ is str or exact:
        if not isinstance(value, str):
            raise bad("a string")
        if len(value) > MAX_STRING:
            raise bad(f"a string of at most {MAX_STRING} characters")
        if not exact:
            pattern = _PATTERNS.get(key)
            if pattern is not None and not pattern[0].fullmatch(value):
                raise bad(pattern[1])
            return value
        try:
            return typ(value)  # the value exactly: no _missing_ forgives case or spaces
        except ValueError:
            raise bad("one of " + ", ".join(m.value for m in typ)) from None
    if isinstance(typ, type) and issubclass(typ, StrEnum):
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return typ((text or value).lower())
        except ValueError:
            raise bad("one of " + ", ".join(m.value for m in typ)) from None
    if isinstance(typ, type) and dataclasses.is_dataclass(typ):
        if from_env or not isinstance(value, Mapping):
            raise bad("a mapping")
        return _apply(typ(), value, origin, f"{key} entry {(entry or 0) + 1}.")
    if opt in (tuple, frozenset):
        items: Any = value
        if text is not None:
            items = [s.strip() for s in text.split(",") if s.strip()]
        if not isinstance(items, list | tuple | set | frozenset):
            raise bad("a list" + (" (comma-separated)" if from_env else ", e.g. [a, b]"))
        if len(items) > MAX_ITEMS:
            raise bad(f"a list of at most {MAX_ITEMS} entries")
        converted = [_coerce(v, args[0], key, origin, from_env, i) for i, v in enumerate(items)]
        return tuple(converted) if opt is tuple else frozenset(converted)
    raise bad(str(typ))  # pragma: no cover - every field type is handled above


def _in_range(value: _N, bounds: tuple[_N, _N], key: str, origin: str) -> _N:
    low, high = bounds
    if low <= value <= high:
        return value
    limit = f"at least {low}" if value < low else f"at most {high}"
    raise ConfigError(f"{origin}: '{key}' must be {limit}, got {shown(value)}",
                      hint=f"fix '{key}' in {origin}")


def _apply(obj: Any, data: Mapping[Any, Any], origin: str, prefix: str = "",
           from_env: bool = False) -> Any:
    hints = get_type_hints(type(obj))
    names = {f.name for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        dotted = prefix + (clip(key, 60) if isinstance(key, str) else shown(key))
        if key not in names:
            known = ", ".join(sorted(names))
            raise ConfigError(
                f"{origin}: unknown key '{dotted}'",
                hint=f"known keys{' under ' + prefix.rstrip('.') if prefix else ''}: {known}",
            )
        typ = hints[key]
        if isinstance(typ, type) and dataclasses.is_dataclass(typ):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: '{dotted}' must be a mapping, got {shown(value)}",
                                  hint=f"write '{dotted}:' followed by indented keys")
            changes[key] = _apply(getattr(obj, key), value, origin, f"{dotted}.", from_env)
        else:
            changes[key] = _coerce(value, typ, dotted, origin, from_env)
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
            cfg = _apply(cfg, parse_yaml_config(read_config_file(file), origin), origin)
    cfg = _validate(cfg, origin)
    environ = os.environ if env is None else env
    names = sorted(k for k in environ if k in ENV_KEYS)
    for name in names:  # one at a time, so an error names the variable
        cfg = _apply(cfg, _nest({ENV_KEYS[name]: environ[name]}), f"environment {name}",
                     from_env=True)
    if names:
        cfg = _validate(cfg, "environment (" + ", ".join(names) + ")")
    if overrides:
        clean = {k: v for k, v in overrides.items() if v is not None}
        cfg = _validate(_apply(cfg, _nest(clean), "command line"), "command line")
    return cfg
