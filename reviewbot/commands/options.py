"""Typed options a command hands to the shared flows, read once from its parsed flags.

The flows never see an ``argparse.Namespace``: a command builds these frozen records from
its own flags, and a command without some flag (the hook has no ``--format``) says what it
wants instead of faking the flag's default.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class ConfigFlags:
    """The flags ``add_config_arguments`` adds; None: not given (config decides)."""

    config: Path | None = None
    """``--config``: the config file to read instead of the repository's."""
    backend: str | None = None
    llm_url: str | None = None
    model: str | None = None
    fail_on: str | None = None
    filter_mode: str | None = None
    max_prompt_tokens: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ConfigFlags:
        return cls(
            config=args.config,
            backend=args.backend,
            llm_url=args.llm_url,
            model=args.model,
            fail_on=args.fail_on,
            filter_mode=args.filter_mode,
            max_prompt_tokens=args.max_prompt_tokens,
        )

    def overrides(self) -> dict[str, Any]:
        """Config key -> flag value (None for a flag not given)."""
        return {
            "backend": self.backend,
            "llm.url": self.llm_url,
            "llm.model": self.model,
            "fail_on": self.fail_on,
            "filter_mode": self.filter_mode,
            "llm.max_prompt_tokens": self.max_prompt_tokens,
        }


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What the local review flow (``reviewbot diff``, ``reviewbot hook``) is asked to do."""

    config: ConfigFlags = field(default_factory=ConfigFlags)
    format: str = "text"
    """A name in ``reviewbot.reporters.FORMATS``."""
    output: Path | None = None
    """Write the report here; None: standard output."""
    tests_out: Path | None = None
    """Write the checked test suggestions into this directory."""
    suggest_tests: bool = True
    """False: config's ``tests.enabled`` is turned off (``--no-tests``; always in the hook)."""
    run_tests: bool | None = None
    """Config's ``tests.run`` over the file's; None: the file's, else the CLI default (on)."""
    imports: tuple[str, ...] = ()
    """``--import`` files, relative to the working directory."""
    import_format: str | None = None
    """``--import-format``; None: told from each file's content."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """More config overrides the command sets (the hook's connect timeout, ``--strict``)."""

    def config_overrides(self) -> dict[str, Any]:
        """The flags' config keys, then ``extra``, then the test switches."""
        overrides = self.config.overrides()
        overrides.update(self.extra)
        if not self.suggest_tests:
            overrides["tests.enabled"] = False
        if self.run_tests is not None:
            overrides["tests.run"] = self.run_tests
        return overrides
