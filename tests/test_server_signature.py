"""X-Hub-Signature-256: GitHub's documented test vector and real payloads."""

from __future__ import annotations

import json

from reviewbot.server.signature import sign, verify
from tests.test_server_support import SECRET, WEBHOOKS, delivery, payload

VECTOR = json.loads((WEBHOOKS / "signature-test-vector.json").read_text(encoding="utf-8"))


def test_githubs_documented_test_vector() -> None:
    secret, body = VECTOR["secret"].encode(), VECTOR["payload"].encode()
    assert sign(secret, body) == VECTOR["X-Hub-Signature-256"]
    assert sign(secret, body) == "sha256=" + VECTOR["signature_hex"]
    assert verify(secret, body, VECTOR["X-Hub-Signature-256"])


def test_vector_rejects_any_change() -> None:
    secret, body, header = (
        VECTOR["secret"].encode(),
        VECTOR["payload"].encode(),
        VECTOR["X-Hub-Signature-256"],
    )
    assert not verify(secret, body + b" ", header)
    assert not verify(secret + b"!", body, header)
    flipped = header[:-1] + ("0" if header[-1] != "0" else "1")
    assert not verify(secret, body, flipped)
    assert not verify(secret, body, header.replace("sha256=", "sha1="))
    assert not verify(secret, body, header.upper())


def test_missing_empty_and_garbage_headers() -> None:
    secret, body = b"s3cret", b"{}"
    for header in (None, "", "sha256=", "sha256=zz", "sha256=\u00e9\u00e9", sign(b"other", body)):
        assert not verify(secret, body, header)
    assert not verify(b"", body, sign(b"", body)), "an empty secret must never verify"


def test_real_payload_signed_over_the_raw_bytes() -> None:
    raw, headers = delivery("pull_request", payload("pull_request.opened"))
    assert verify(SECRET.encode(), raw, headers["X-Hub-Signature-256"])
    # The same JSON serialized differently is a different body: the HMAC is over bytes.
    reserialized = json.dumps(json.loads(raw), indent=2).encode()
    assert not verify(SECRET.encode(), reserialized, headers["X-Hub-Signature-256"])
