"""ruff over a review's changed Python files, started as early as the files are known.

A git source of ``A..B`` reads most head files while git still looks for renames
(:func:`reviewbot.sources.read_heads`). :meth:`RuffRuns.start_early` starts ruff on the
Python files among them before the engine parses the diff, so ruff works on the second core
while this process parses and prepares the change, instead of beside the static checks
that use both. Once the prepared files are known, :meth:`RuffRuns.start_rest` starts a
second run for the ruff inputs the first did not cover (a file not read early, or one whose
prepared source is not the head read early); usually there are none. :meth:`collect` keeps
the early run's answers for the covered files only: a file read early that the review then
skips costs ruff time, never a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

from reviewbot.config import Config
from reviewbot.context.languages import language_for
from reviewbot.selection import head_skip_reason, path_skip_reason
from reviewbot.static.ruff_run import RuffJob, RuffOutcome

RuffInput = tuple[str, bytes, bool]
"""(reviewed path, head bytes, whether they are the whole file)."""


class RuffRuns:
    """The ruff runs of one review (nothing runs when ``config`` turns ruff off). Use as a
    context manager: the processes and their temporary folders go away however the review
    ends."""

    def __init__(self, config: Config, find_ruff: Callable[[], str | None]) -> None:
        self._config = config
        self._on = config.static_checks and config.ruff.enabled
        self._find_ruff = find_ruff
        self._binary: str | None = None
        self._located = False
        self._early: RuffJob | None = None
        self._sent: dict[str, bytes] = {}
        self._covered: set[str] = set()
        self._rest: RuffJob | None = None

    def _bin(self) -> str | None:
        if not self._located:
            self._binary, self._located = self._find_ruff(), True
        return self._binary

    def start_early(self, heads: Mapping[str, bytes]) -> None:
        """Start ruff on the Python files of ``heads`` (head bytes by path, already read)
        that the config does not leave out."""
        if not self._on:
            return
        include, exclude = self._config.include, self._config.exclude
        files = [
            (path, data, True)
            for path, data in heads.items()
            if language_for(path) == "python"
            and path_skip_reason(path, include, exclude) is None
            and head_skip_reason(data) is None
        ]
        if files and self._bin() is not None:
            self._sent = {path: data for path, data, _ in files}
            # one thread: the other core is this process's, parsing the diff
            self._early = RuffJob(files, self._config.ruff, self._binary, threads=1)

    def start_rest(self, inputs: Sequence[RuffInput]) -> None:
        """Start ruff on what the early run does not cover of ``inputs`` (the review's ruff
        inputs, :func:`reviewbot.static_stage.ruff_inputs`)."""
        if not self._on:
            return
        rest = []
        for path, data, whole in inputs:
            sent = self._sent.get(path)
            if whole and sent is not None and (sent is data or sent == data):
                self._covered.add(path)
            else:
                rest.append((path, data, whole))
        if rest or not self._covered:  # an empty job says nothing, or why ruff is missing
            self._rest = RuffJob(rest, self._config.ruff, self._bin() if rest else None)

    def collect(self) -> RuffOutcome:
        """Both runs' answers for the review's inputs; a note when either failed."""
        early = RuffOutcome()
        if self._early is not None:  # not waited for when the review needs none of it
            early = self._early.collect() if self._covered else RuffOutcome()
            self._early.close()
        rest = self._rest.collect() if self._rest is not None else RuffOutcome()
        hits = {p: found for p, found in early.hits.items() if p in self._covered}
        hits.update(rest.hits)
        note = rest.note or (early.note if self._covered else None)
        return RuffOutcome(hits, note)

    def close(self) -> None:
        for job in (self._early, self._rest):
            if job is not None:
                job.close()

    def __enter__(self) -> RuffRuns:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
