"""Reporters turn a ReviewResult into output. Registry: format name -> render function."""

from __future__ import annotations

from collections.abc import Callable

from reviewbot.result import ReviewResult

Renderer = Callable[[ReviewResult, bool], str]
"""(result, color) -> text."""


def _text(result: ReviewResult, color: bool) -> str:
    from reviewbot.reporters.text import render_text

    return render_text(result, color=color)


def _json(result: ReviewResult, color: bool) -> str:
    from reviewbot.reporters.json_report import render_json

    return render_json(result)


def _sarif(result: ReviewResult, color: bool) -> str:
    from reviewbot.reporters.sarif import render_sarif

    return render_sarif(result)


def _markdown(result: ReviewResult, color: bool) -> str:
    from reviewbot.reporters.markdown import render_markdown

    return render_markdown(result)


FORMATS: dict[str, Renderer] = {
    "text": _text,
    "json": _json,
    "sarif": _sarif,
    "markdown": _markdown,
}
