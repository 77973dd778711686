"""Prompt templates (``prompts/`` shipped as ``reviewbot.prompts``), rendered strictly.

Templates use ``string.Template`` syntax (``$name``); a variable the template names but the
caller did not pass is an error, never an empty string. Stable instructions come first
(the system prompt is identical for every chunk so vLLM's prefix cache is reused), the
varying code last.

Everything taken from the change under review (diff lines, context code, paths, symbol
names) is untrusted and goes through :func:`fenced`: every value is passed through
:func:`neutralise` (chat-template control tokens are broken up, visibly) and the block is
fenced by marker lines carrying a random nonce from :mod:`secrets` that the block cannot
contain. The nonce is never derived from the text, so a change cannot predict and forge
the closing marker.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any

from reviewbot.errors import InternalError

PROMPT_VERSION = "review-v2"
NONCE_BYTES = 8
"""The nonce is ``2 * NONCE_BYTES`` hex digits (fixed length: token costs stay exact)."""

NonceSource = Callable[[], str]


@cache
def load_text(name: str) -> str:
    return resources.files("reviewbot.prompts").joinpath(name).read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """A fresh copy of a packaged JSON schema: callers may change it (the text is cached)."""
    data: dict[str, Any] = json.loads(load_text(name))
    return data


def render(name: str, **values: str) -> str:
    template = string.Template(load_text(name))
    try:
        return template.substitute(values)
    except (KeyError, ValueError) as exc:
        raise InternalError(f"prompt template {name} needs a value for {exc}") from exc


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def nonce_for(text: str, draw: NonceSource = new_nonce) -> str:
    """A random fence marker that does not occur in ``text`` (drawn again on a collision)."""
    while True:
        nonce = draw()
        if nonce and nonce not in text:
            return nonce


# Chat-template control tokens of the model families reviewbot is served with: Llama 2 /
# CodeLlama ([INST], <<SYS>>, <s>), Gemma (<start_of_turn>), and every ``<|...|>`` special
# token shape (ChatML, Llama 3, Phi, GPT; DeepSeek's full-width ``<｜...｜>`` too).
_WORD_TOKENS = re.compile(
    r"\[/?INST\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|\[/?SYSTEM_PROMPT\]", re.IGNORECASE
)
_PIPE_TOKENS = re.compile(r"<([|｜])([^|｜\n]{1,80})([|｜])>")
_PIPE_OPEN = re.compile(r"<([|｜])")


def _break_word(match: re.Match[str]) -> str:
    token = match.group(0)
    return f"{token[0]} {token[1:]}"  # "[/INST]" -> "[ /INST]", "</s>" -> "< /s>"


def neutralise(text: str) -> str:
    """``text`` with every chat-template control token broken visibly but readably:
    ``[/INST]`` -> ``[ /INST]``, ``</s>`` -> ``< /s>``, ``<|im_start|>`` -> ``<\\|im_start\\|>``.

    Applied to untrusted values only, never to reviewbot's own template text.
    """
    out = _one_pass(text)
    if _PIPE_TOKENS.search(out):  # cannot happen after one pass; be certain anyway
        out = _PIPE_OPEN.sub(lambda m: f"<\\{m.group(1)}", out)
    return out


def _one_pass(text: str) -> str:
    out = _WORD_TOKENS.sub(_break_word, text)
    return _PIPE_TOKENS.sub(lambda m: f"<\\{m.group(1)}{m.group(2)}\\{m.group(3)}>", out)


def neutralised_lines(lines: Sequence[str]) -> dict[int, str] | None:
    """The lines :func:`neutralise` changes, by index, as it changes them; the others it
    leaves as they are. No control token spans a line feed, so ``neutralise`` of the lines
    joined by line feeds is these lines joined. None when that is not certain: a line that
    one pass leaves with a token (which never happens; neutralise then takes a second
    pass over all of the text)."""
    joined = "\n".join(lines)
    found = [
        m.start() for pattern in (_WORD_TOKENS, _PIPE_TOKENS) for m in pattern.finditer(joined)
    ]
    if not found:
        return {}
    starts = list(accumulate((len(line) + 1 for line in lines), initial=0))
    hit = {bisect_right(starts, at) - 1 for at in found}
    out: dict[int, str] = {}
    for i in sorted(hit):
        once = _one_pass(lines[i])
        if _PIPE_TOKENS.search(once):
            return None
        out[i] = once
    return out


def fenced(name: str, untrusted: Mapping[str, str], draw: NonceSource = new_nonce) -> str:
    """Render the fenced template ``name``: every value neutralised, ``$nonce`` a fresh
    random marker found nowhere in the rendered block except in its marker lines."""
    safe = {key: neutralise(value) for key, value in untrusted.items()}
    markers = load_text(name).count("$nonce")
    while True:
        nonce = nonce_for("\n".join(safe.values()), draw)
        text = render(name, nonce=nonce, **safe)
        if text.count(nonce) == markers:
            return text


def codellama_prompt(system: str, user: str) -> str:
    """The raw CodeLlama-Instruct prompt for /v1/completions."""
    return render("codellama.txt", system=system.strip(), user=user.strip()).rstrip("\n")
