"""What every stage of one review shares: the config, the backend, the deadline, the
progress display and the clock. Built once by :func:`reviewbot.engine.run_review` and
passed down, never changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reviewbot.backends.base import Backend
from reviewbot.config import Config
from reviewbot.deadline import Deadline
from reviewbot.progress import Progress

__all__ = ["Run"]


@dataclass(frozen=True, slots=True)
class Run:
    config: Config
    backend: Backend
    deadline: Deadline
    progress: Progress
    clock: Callable[[], float]
