"""The I/O edges a command may touch: streams, environment, working directory.

Commands take an :class:`IO` instead of reading ``sys`` and ``os`` themselves, so tests
call the real ``reviewbot.cli.main`` with their own streams. Kept free of heavy imports:
``reviewbot --version`` loads it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass(slots=True)
class IO:
    """The I/O edges a command may touch (tests pass their own)."""

    stdout: TextIO
    stderr: TextIO
    stdin: TextIO
    env: Mapping[str, str]
    cwd: Path = field(default_factory=Path.cwd)


def default_io() -> IO:
    return IO(sys.stdout, sys.stderr, sys.stdin, os.environ, Path.cwd())
