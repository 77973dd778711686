"""GitHub webhook signatures: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``.

The HMAC is computed over the exact bytes received (never a re-serialized JSON document) and
compared with :func:`hmac.compare_digest`, so the comparison takes the same time whether the
first or the last hex digit differs.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The header value GitHub sends for ``body`` under ``secret``."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the valid signature of ``body``; False when missing or wrong."""
    if not secret or not header or not header.startswith(PREFIX):
        return False
    expected = sign(secret, body)
    # compare_digest on ASCII bytes: a non-ASCII header cannot raise, it just fails.
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("utf-8", "replace"))
