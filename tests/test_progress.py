"""The progress bar: drawn on a terminal, silent in CI, decided from the injected environment."""

from __future__ import annotations

import io
import os

import pytest

from reviewbot.progress import NullProgress, TerminalProgress, progress_for


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_outside_ci_gets_a_bar_that_draws() -> None:
    stream = Terminal()
    progress = progress_for(stream, {})
    assert isinstance(progress, TerminalProgress)
    progress.start(4, "reviewing")
    progress.advance(4)
    progress.finish()
    assert "reviewing [" in stream.getvalue() and "4/4" in stream.getvalue()


def test_ci_in_the_injected_environment_silences_the_bar() -> None:
    assert isinstance(progress_for(Terminal(), {"CI": "true"}), NullProgress)


def test_the_process_environment_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "CI", "true")
    assert isinstance(progress_for(Terminal(), {}), TerminalProgress)


def test_a_pipe_gets_no_bar() -> None:
    assert isinstance(progress_for(io.StringIO(), {}), NullProgress)
