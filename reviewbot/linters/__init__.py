"""``linters:`` in ``.reviewbot.yml``: other linters reviewbot runs itself, locally only.

Each entry names an argv (never a shell string), the format of its output, a timeout and the
file globs it applies to; :func:`reviewbot.linters.run.run_linters` runs it on the changed
files and hands its output to :mod:`reviewbot.imports`.

Running a linter means running whatever the checked-out tree configures (an
``eslint.config.js`` is JavaScript), so linters run only in ``reviewbot diff`` and the hook,
on the user's own code. ``reviewbot action``, ``reviewbot pr`` and the webhook server never
run them (:data:`NOT_RUN_NOTE` says so in their report): there a workflow step runs the
linter and passes its output with ``import:``.
"""

from __future__ import annotations

from reviewbot.linters.spec import NOT_RUN_NOTE, LinterConfig, check_linters

__all__ = ["NOT_RUN_NOTE", "LinterConfig", "check_linters"]
