"""The embedded default: no model. The engine runs only the deterministic checks."""

from __future__ import annotations

from collections.abc import Sequence

from reviewbot.backends.base import BackendInfo, LLMRequest, LLMResult, ProgressCallback
from reviewbot.token_estimate import estimate_tokens


class StaticBackend:
    name = "static"

    def open(self) -> BackendInfo:
        return BackendInfo("static", None, None)

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressCallback | None = None
    ) -> list[LLMResult]:
        return [LLMResult(r.key, error="static backend has no model") for r in requests]

    def close(self) -> None:
        return None
