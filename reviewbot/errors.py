"""The one exception tree of reviewbot.

Every error a user can cause or meet derives from :class:`ReviewbotError`. Each carries a
message that says what went wrong and, in ``hint``, what to do next. ``reviewbot.cli`` is
the only place that turns these into exit codes and printed lines.

    ReviewbotError            exit 2 (usage or input)
    ├── ConfigError           bad .reviewbot.yml / environment / flags
    ├── DiffError             malformed or unsupported diff text
    ├── GitError              a git command failed
    ├── BackendError          the LLM backend is unusable (bad model name, unreachable, ...)
    └── GitHubError           GitHub answered with an error we cannot work around
        └── PublishError      exit 4: published in part (rerun on the same commit completes it)
    InternalError             exit 3 (a bug in reviewbot)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_PARTIAL = 4


class ReviewbotError(Exception):
    """Base of all expected errors; ``str(err)`` is the user-facing message."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class ConfigError(ReviewbotError):
    """A configuration value is unknown, has the wrong type, or is out of range."""


class DiffError(ReviewbotError):
    """The diff text cannot be parsed safely."""


class GitError(ReviewbotError):
    """A git subprocess failed."""


class BackendError(ReviewbotError):
    """The configured LLM backend cannot be used."""


class GitHubError(ReviewbotError):
    """GitHub refused a request in a way reviewbot cannot recover from."""


class PublishError(GitHubError):
    """GitHub refused a write after others had landed: the PR holds part of the result.

    The message says what was posted and what was not; a rerun completes it."""

    exit_code = EXIT_PARTIAL


class InternalError(ReviewbotError):
    """A bug in reviewbot itself."""

    exit_code = EXIT_INTERNAL
