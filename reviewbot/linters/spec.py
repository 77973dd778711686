"""One ``linters:`` entry, and the checks across its keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.errors import ConfigError
from reviewbot.imports.model import FORMAT_NAMES

MAX_LINTERS = 20
MAX_TIMEOUT = 3600.0
NOT_RUN_NOTE = (
    "linters configured in .reviewbot.yml were not run: on a pull request reviewbot never "
    "runs a linter (its config in the pull request can run code); run it in a workflow step "
    "and pass its output with the Action's `import` input"
)


@dataclass(frozen=True, slots=True)
class LinterConfig:
    name: str = ""
    """Shown in notes and errors; also the tool name when the output does not carry one."""
    command: tuple[str, ...] = ()
    """The argv; the changed files matching ``files`` are appended."""
    format: str | None = None
    """One of the import formats; None: told from the output."""
    timeout: float = 120.0
    """Seconds before the linter is killed (its results are then missing, with a note)."""
    files: tuple[str, ...] = ()
    """Globs (as ``include``) of the changed files it is run on; empty: every changed file."""


def check_linters(linters: Sequence[LinterConfig], origin: str) -> None:
    """Raise :class:`ConfigError` for an entry that cannot be run as written."""
    if len(linters) > MAX_LINTERS:
        raise ConfigError(
            f"{origin}: 'linters' has {len(linters)} entries, at most {MAX_LINTERS} are allowed"
        )
    seen: set[str] = set()
    for i, lt in enumerate(linters, 1):
        where = f"{origin}: 'linters' entry {i}"
        if not lt.name:
            raise ConfigError(f"{where} has no name", hint="add name: <tool>")
        if lt.name in seen:
            raise ConfigError(f"{where}: the name {lt.name!r} is used twice")
        seen.add(lt.name)
        if not lt.command or not lt.command[0]:
            raise ConfigError(
                f"{where} ({lt.name}) has no command",
                hint="command: [tool, --flag, ...] (a list, never a shell line)",
            )
        if lt.format is not None and lt.format not in FORMAT_NAMES:
            raise ConfigError(
                f"{where} ({lt.name}): 'format' must be one of "
                + ", ".join(FORMAT_NAMES)
                + f", got {lt.format[:40]!r}"
            )
        if not 0.1 <= lt.timeout <= MAX_TIMEOUT:
            raise ConfigError(
                f"{where} ({lt.name}): 'timeout' must be between 0.1 and {MAX_TIMEOUT:g} seconds"
            )
