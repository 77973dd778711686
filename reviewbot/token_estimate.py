"""The token estimate used when a server cannot count tokens (and by the static backend)."""

from __future__ import annotations


def estimate_tokens(text: str) -> int:
    """Conservative token estimate: one token per 3 UTF-8 bytes, plus one per line.

    Llama-family tokenizers average 3.5-4 bytes per token on source code, so this
    over-counts; used when the server has no /tokenize endpoint.
    """
    return tokens_for_size(len(text.encode("utf-8", "surrogateescape")), text.count("\n"))


def tokens_for_size(nbytes: int, newlines: int) -> int:
    """:func:`estimate_tokens` of a text of ``nbytes`` UTF-8 bytes and ``newlines`` line
    feeds: what it depends on, so a caller that knows the size need not build the text."""
    return nbytes // 3 + newlines + 1
