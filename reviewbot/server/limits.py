"""What one webhook request may cost the server: bytes held, seconds taken, parser depth.

- :class:`BodyBudget` bounds the body bytes held by all requests at once. Each request may
  hold up to ``max_body_bytes``; together they may hold ``max_body_total_bytes``. A request
  that would go over waits for nobody: it is answered 503 with ``Retry-After``.
- :func:`read_body` reads a body under the size limit, the budget and a deadline
  (``body_timeout``), so a client trickling a byte a second is cut off.
- :func:`parse_json` is ``json.loads`` minus what a webhook never sends: ``NaN`` and
  ``Infinity``, and nesting deep enough to exhaust the parser's recursion.

The header and keep-alive deadlines sit below the ASGI app, in
:mod:`reviewbot.server.protocol`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import ClientDisconnect, Request


class TooLarge(Exception):
    """The body is over ``max_body_bytes``."""


class OverBudget(Exception):
    """Holding this body would put the server over ``max_body_total_bytes``."""


class BodyTimeout(Exception):
    """The body did not arrive within ``body_timeout``."""


class Disconnected(Exception):
    """The client went away before its body was read."""


class BadJSON(ValueError):
    """The body is not JSON a webhook sends (the message says why)."""


class BodyBudget:
    """Bytes held by the bodies of the requests in flight, bounded by ``total``.

    Used from the event loop only (no lock): reserving and releasing never await.
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.held = 0

    def reserve(self, n: int) -> bool:
        if self.held + n > self.total:
            return False
        self.held += n
        return True

    def release(self, n: int) -> None:
        self.held = max(0, self.held - n)


class Reservation:
    """One request's share of the budget; :meth:`close` gives all of it back."""

    def __init__(self, budget: BodyBudget) -> None:
        self.budget = budget
        self.bytes = 0

    def grow_to(self, n: int) -> None:
        if n > self.bytes:
            if not self.budget.reserve(n - self.bytes):
                raise OverBudget
            self.bytes = n

    def close(self) -> None:
        self.budget.release(self.bytes)
        self.bytes = 0


async def read_body(
    request: Request, *, limit: int, reservation: Reservation, timeout: float
) -> bytes:
    """The whole body, read within ``timeout`` seconds and held against ``reservation``.

    A declared ``Content-Length`` is checked against the limit and reserved before anything
    is read; a chunked body is reserved as it arrives."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise TooLarge
        reservation.grow_to(int(declared))
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise TooLarge
                reservation.grow_to(size)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeout from None
    except ClientDisconnect:
        raise Disconnected from None
    return b"".join(chunks)


def _no_constants(name: str) -> Any:
    raise BadJSON(f"{name} is not a JSON number")


def parse_json(body: bytes) -> Any:
    """Strict JSON: raises :class:`BadJSON` for invalid text, ``NaN``/``Infinity``, or
    nesting too deep to parse."""
    try:
        return json.loads(body, parse_constant=_no_constants)
    except BadJSON:
        raise
    except RecursionError:
        raise BadJSON("body is nested too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise BadJSON(
            "body is not JSON; set the webhook content type to application/json"
        ) from None
