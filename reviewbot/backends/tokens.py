"""Token counting through the server's own tokenizer, cached, with an estimate fallback.

Servers expose this differently; :func:`probe` tries the forms a backend may meet, in order,
and keeps the first that answers with a positive count:

- vLLM:             ``POST {root}/tokenize {"model", "prompt", "add_special_tokens": false}``
                    -> ``{"count": n, "max_model_len": ..., "tokens": [...]}``
- llama-cpp-python: ``POST {root}/extras/tokenize/count {"input", "model"}`` -> ``{"count": n}``
- llama.cpp server: ``POST {root}/tokenize {"content", "add_special": false}``
                    -> ``{"tokens": [...]}``

``root`` is the base URL without ``/v1``. When none answers, counts come from
:func:`reviewbot.token_estimate.estimate_tokens`, which over-counts on purpose.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from reviewbot.backends.http_client import Requester
from reviewbot.token_estimate import estimate_tokens

PROBE_TEXT = "def reviewbot_probe(x):\n    return x + 1\n"


@dataclass(frozen=True, slots=True)
class TokenizeForm:
    name: str
    path: str
    body: Callable[[str, str], dict[str, Any]]
    count: Callable[[Any], int | None]


def _count_field(data: Any) -> int | None:
    value = data.get("count") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _token_list(data: Any) -> int | None:
    tokens = data.get("tokens") if isinstance(data, dict) else None
    return len(tokens) if isinstance(tokens, list) else None


VLLM = TokenizeForm(
    "vllm",
    "/tokenize",
    lambda model, text: {"model": model, "prompt": text, "add_special_tokens": False},
    _count_field,
)
LLAMA_CPP_PYTHON = TokenizeForm(
    "llama-cpp-python",
    "/extras/tokenize/count",
    lambda model, text: {"input": text, "model": model},
    _count_field,
)
LLAMA_CPP = TokenizeForm(
    "llama.cpp",
    "/tokenize",
    lambda model, text: {"content": text, "add_special": False},
    _token_list,
)

FORMS_FOR = {"vllm": (VLLM,), "openai": (VLLM, LLAMA_CPP_PYTHON, LLAMA_CPP)}


class TokenCounter:
    """Counts tokens with the server when it can; thread-safe; caches every text it saw."""

    def __init__(
        self, requester: Requester, root: str, model: str, form: TokenizeForm | None
    ) -> None:
        self.requester = requester
        self.root = root
        self.model = model
        self.form = form
        self.server_calls = 0
        self._cache: dict[bytes, int] = {}
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        return self.form.name + " /tokenize" if self.form else "estimate"

    def __call__(self, text: str) -> int:
        if self.form is None:
            return estimate_tokens(text)
        key = hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).digest()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        n = _ask(self.requester, self.root, self.form, self.model, text)
        if n is None:
            return estimate_tokens(text)  # a transient failure: estimate, do not cache
        with self._lock:
            self.server_calls += 1
            self._cache[key] = n
        return n


def _ask(requester: Requester, root: str, form: TokenizeForm, model: str, text: str) -> int | None:
    result = requester.request("POST", root + form.path, form.body(model, text), retries=1)
    if not isinstance(result, httpx.Response):
        return None
    try:
        return form.count(result.json())
    except ValueError:
        return None


def probe(requester: Requester, root: str, model: str, flavor: str) -> TokenCounter:
    """A counter using the first tokenize form the server answers sensibly."""
    for form in FORMS_FOR.get(flavor, ()):
        result = requester.request(
            "POST", root + form.path, form.body(model, PROBE_TEXT), retries=0
        )
        if not isinstance(result, httpx.Response):
            continue
        try:
            n = form.count(result.json())
        except ValueError:
            continue
        if n is not None and n > 0:
            return TokenCounter(requester, root, model, form)
    return TokenCounter(requester, root, model, None)
