"""Pieces several commands share: flags that map to config keys, exit code from findings."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.backends import BACKEND_NAMES
from reviewbot.config import Config, FailOn, FilterMode, load_config
from reviewbot.errors import EXIT_FINDINGS, EXIT_OK
from reviewbot.result import ReviewResult

if TYPE_CHECKING:
    from reviewbot.commands.options import ConfigFlags
    from reviewbot.imports import ImportBatch


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", type=Path, help="path to a .reviewbot.yml (default: repository root)"
    )
    p.add_argument(
        "--backend",
        choices=BACKEND_NAMES,
        help="review backend (default: vllm when an LLM URL is set, else static)",
    )
    p.add_argument("--llm-url", help="OpenAI-compatible base URL ending in /v1 (REVIEWBOT_LLM_URL)")
    p.add_argument("--model", help="model name served at --llm-url (REVIEWBOT_MODEL)")
    p.add_argument(
        "--fail-on",
        choices=[m.value for m in FailOn],
        help="exit 1 when a finding at or above this severity remains (default: error)",
    )
    p.add_argument(
        "--filter-mode",
        choices=[m.value for m in FilterMode],
        help="which findings to keep by location (default: added)",
    )
    p.add_argument("--max-prompt-tokens", type=int, help="prompt token budget per chunk")


def add_import_arguments(p: argparse.ArgumentParser) -> None:
    from reviewbot.imports import FORMAT_NAMES

    p.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="FILE",
        help="add another linter's results (SARIF 2.1.0, rdjson, rdjsonl, "
        "checkstyle XML, eslint/shellcheck/mypy JSON); repeatable",
    )
    p.add_argument(
        "--import-format",
        choices=FORMAT_NAMES,
        metavar="FORMAT",
        help="the format of every --import file (default: told from the content; "
        + ", ".join(FORMAT_NAMES)
        + ")",
    )


def read_imports(
    names: Sequence[str], fmt: str | None, base: Path, root: Path | None
) -> list[ImportBatch]:
    """The ``--import`` files (relative names from ``base``), paths inside them made
    relative to ``root``."""
    from reviewbot.imports.read import read_import

    return [read_import(base / name, root, fmt, label=name) for name in names]


def load_cli_config(
    flags: ConfigFlags,
    root: Path | None,
    env: Mapping[str, str],
    extra: Mapping[str, Any] | None = None,
    defaults: dict[str, Any] | None = None,
) -> Config:
    """The config file (``--config``, else the repository's), then the environment, then
    the flags, then ``extra``."""
    overrides = flags.overrides()
    overrides.update(extra or {})
    return load_config(root, flags.config, env, overrides, defaults=defaults)


def exit_code(result: ReviewResult, config: Config) -> int:
    return EXIT_FINDINGS if config.fail_on.fails(f.severity for f in result.findings) else EXIT_OK
