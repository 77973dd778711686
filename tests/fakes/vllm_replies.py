"""What a responder of the fake vLLM server (:mod:`tests.fakes.vllm_server`) gets and gives.

:class:`FakeRequest` is a parsed completion request, :class:`Reply` an answer with full
control (finish reason, delay, error, raw body); :func:`finding`, :func:`on_changed_lines`
and :func:`scripted` build common responders. :func:`fake_tokens` is the server's tokenizer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"\w+|[^\w\s]|\n")
_ROW = re.compile(r"^([+ \-]) +(\d+)? \| ")
_FILE = re.compile(r"^File: (.+?) \(([^()]*)\)(?: in `.*`)?$")


def fake_tokens(text: str) -> int:
    """Words, punctuation marks and newlines: roughly what a BPE tokenizer gives on code."""
    return len(_TOKEN.findall(text))


@dataclass
class Reply:
    content: str | Sequence[str] | None = None
    finish_reason: str = "stop"
    delay: float = 0.0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    """Send these bytes as the whole body instead of a completion object."""
    message: str | None = None
    """The error message when ``status`` is not 200."""
    completion_tokens: int | None = None
    timings: dict[str, float] | None = None
    """Extra llama.cpp-style ``timings`` to include (prompt_ms, predicted_ms)."""

    @classmethod
    def error(cls, status: int, message: str, retry_after: float | None = None) -> Reply:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return cls(status=status, message=message, headers=headers)


Responder = Callable[["FakeRequest"], "str | dict[str, Any] | list[Any] | Reply"]


@dataclass
class FakeRequest:
    path: str
    api: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0
    """The HTTP status the fake answered with (set once answered)."""

    @property
    def system(self) -> str:
        for m in self.body.get("messages", []):
            if m.get("role") == "system":
                return str(m.get("content") or "")
        return ""

    @property
    def user(self) -> str:
        users = [
            str(m.get("content") or "")
            for m in self.body.get("messages", [])
            if m.get("role") == "user"
        ]
        return users[-1] if users else ""

    @property
    def prompt(self) -> str:
        """The full prompt text (messages joined for chat)."""
        if self.api == "completions":
            p = self.body.get("prompt")
            return p if isinstance(p, str) else ""
        return "\n".join(str(m.get("content") or "") for m in self.body.get("messages", []))

    @property
    def n(self) -> int:
        return int(self.body.get("n") or 1)

    @property
    def max_tokens(self) -> int | None:
        return self.body.get("max_tokens")

    @property
    def response_format(self) -> dict[str, Any] | None:
        return self.body.get("response_format")

    def changed_lines(self) -> dict[str, list[int]]:
        """{path: new-file line numbers marked "+"} for the code in this prompt."""
        out: dict[str, list[int]] = {}
        path: str | None = None
        for line in self.prompt.splitlines():
            m = _FILE.match(line)
            if m:
                path = m.group(1)
                out.setdefault(path, [])
                continue
            r = _ROW.match(line)
            if path and r and r.group(1) == "+" and r.group(2):
                out[path].append(int(r.group(2)))
        return out


def finding(
    path: str,
    line: int,
    title: str = "possible bug",
    *,
    category: str = "bug",
    severity: str = "warning",
    message: str = "explain and fix",
    end_line: int | None = None,
) -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "end_line": end_line or line,
        "category": category,
        "severity": severity,
        "title": title,
        "message": message,
        "suggestion": None,
    }


def on_changed_lines(
    *, severity: str = "warning", outside: bool = False, title: str = "possible bug"
) -> Responder:
    """A finding on the first changed line of each file in the chunk; with ``outside`` one
    more on a line far outside it (the engine must drop it)."""

    def respond(req: FakeRequest) -> dict[str, Any]:
        items = []
        for path, lines in req.changed_lines().items():
            if lines:
                items.append(finding(path, lines[0], title, severity=severity))
                if outside:
                    items.append(finding(path, max(lines) + 5000, "off-chunk", severity=severity))
        return {"findings": items}

    return respond


def scripted(
    replies: Iterable[str | dict[str, Any] | Reply], then: Responder | None = None
) -> Responder:
    """Answer with ``replies`` in order (one per request), then with ``then``."""
    queue = list(replies)
    lock = threading.Lock()

    def respond(req: FakeRequest) -> str | dict[str, Any] | list[Any] | Reply:
        with lock:
            if queue:
                return queue.pop(0)
        return then(req) if then is not None else {"findings": []}

    return respond
