"""Structured JSON logs, one object per line, carrying the delivery id of the request or job.

Fields passed with ``extra=`` become keys of the object; a key that names a secret
(token, secret, password, authorization, private key) is replaced by ``"[redacted]"`` so
a careless ``extra`` cannot leak one. Headers and payloads are never logged.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any, TextIO

delivery_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "reviewbot_delivery_id", default=None
)

_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_SECRET_WORDS = ("token", "secret", "password", "authorization", "private_key", "api_key")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        current = delivery_id.get()
        if current is not None:
            out["delivery_id"] = current
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if any(word in key.lower() for word in _SECRET_WORDS):
                value = "[redacted]"
            elif not isinstance(value, str | int | float | bool | type(None)):
                value = str(value)
            out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["error_type"] = record.exc_info[0].__name__
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    """Send reviewbot's, huey's and uvicorn's logs to ``stream`` as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # huey logs every task start/finish at INFO; keep its warnings and errors.
    logging.getLogger("huey").setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    import github  # noqa: F401 - PyGithub adds a plain-text handler when imported: undo it

    gh = logging.getLogger("github")
    gh.handlers = []
    gh.propagate = True
    gh.setLevel(max(logging.WARNING, root.level))
