"""Prompt templates (``prompts/`` shipped as ``reviewbot.prompts``), rendered strictly.

Templates use ``string.Template`` syntax (``$name``); a variable the template names but the
caller did not pass is an error, never an empty string. Stable instructions come first
(the system prompt is identical for every chunk so vLLM's prefix cache is reused), the
varying code last.
"""

from __future__ import annotations

import hashlib
import json
import string
from functools import cache
from importlib import resources
from typing import Any

from reviewbot.errors import InternalError

PROMPT_VERSION = "review-v1"


@cache
def load_text(name: str) -> str:
    return resources.files("reviewbot.prompts").joinpath(name).read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(load_text(name))
    return data


def render(name: str, **values: str) -> str:
    template = string.Template(load_text(name))
    try:
        return template.substitute(values)
    except (KeyError, ValueError) as exc:
        raise InternalError(f"prompt template {name} needs a value for {exc}") from exc


def nonce_for(text: str) -> str:
    """A fence marker the fenced text cannot contain (derived from its hash, so stable)."""
    salt = 0
    while True:
        nonce = hashlib.sha256(f"{salt}:{text}".encode("utf-8", "surrogateescape")).hexdigest()[:12]
        if nonce not in text:
            return nonce
        salt += 1


def codellama_prompt(system: str, user: str) -> str:
    """The raw CodeLlama-Instruct prompt for /v1/completions."""
    return render("codellama.txt", system=system.strip(), user=user.strip()).rstrip("\n")
