"""The backend interface: a small Protocol, implemented by static, vllm/openai and local."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class LLMRequest:
    key: str
    """Caller's id for the request (e.g. 'chunk-3'); results come back with it."""
    system: str
    user: str
    schema: dict[str, Any]
    """JSON schema the answer must follow (sent as structured-output constraint)."""
    max_tokens: int | None = None
    deadline: float | None = None
    """A time.monotonic() value past which the request is not sent (the review's
    time_budget); the result is then an error reading reviewbot.deadline.BUDGET_REASON."""


@dataclass(frozen=True, slots=True)
class LLMResult:
    key: str
    samples: tuple[Any, ...] = ()
    """Parsed JSON answers, one per sample that could be parsed."""
    error: str | None = None
    """Why the request produced no usable answer (None on success)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    server_seconds: float | None = None
    """Generation time reported by the server itself, when it reports one."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """E.g. 'answer truncated at max_tokens; kept 2 complete findings'."""


@dataclass(frozen=True, slots=True)
class BackendInfo:
    name: str
    model: str | None
    """None for the static backend."""
    max_model_len: int | None = None


ProgressCallback = Callable[[int], None]
"""Called with the number of requests just completed."""


class Backend(Protocol):
    name: str

    def open(self) -> BackendInfo:
        """Check the backend is usable (server reachable, model served); BackendError if not."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressCallback | None = None
    ) -> list[LLMResult]:
        """Answer every request (concurrently where the backend can); never raises for a
        single failed request: its LLMResult carries the error."""
        ...

    def close(self) -> None: ...
