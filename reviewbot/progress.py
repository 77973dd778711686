"""A progress bar on stderr for long work: shown on a terminal, silent in CI logs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol, TextIO


class Progress(Protocol):
    def start(self, total: int, label: str) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    def start(self, total: int, label: str) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def finish(self) -> None:
        return None


class TerminalProgress:
    """A one-line bar redrawn with carriage returns, at most 10 times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0
        self.label = ""
        self._last = 0.0

    def start(self, total: int, label: str) -> None:
        self.total, self.done, self.label = total, 0, label
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw(force=self.done >= self.total)

    def finish(self) -> None:
        if self.total:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        self.total = 0

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()


def progress_for(stream: TextIO, env: Mapping[str, str]) -> Progress:
    """A bar on ``stream`` when it is a terminal and the injected ``env`` is not CI."""
    if env.get("CI") or not getattr(stream, "isatty", lambda: False)():
        return NullProgress()
    return TerminalProgress(stream)
