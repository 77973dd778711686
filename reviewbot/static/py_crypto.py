"""Weak cryptography: MD5/SHA-1 for security (CWE-328), broken ciphers and ECB (CWE-327),
short RSA/DSA/DH keys (CWE-326) and ``random`` for secrets (CWE-338).

These are API rules, not data flow: the call itself is the weakness. Whether a hash or a
random number is "for security" is read from the names around it (the assigned name, the
enclosing function, the arguments): ``token``, ``signature``, ``nonce``, ``salt``... count;
``cache``, ``etag``, ``checksum``, ``jitter`` veto. Without such a name nothing is reported:
MD5 for a cache key is fine.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import (
    args,
    call_name,
    is_string,
    kwarg,
    last_name,
    line,
    statement_of,
    string_text,
    text,
    unparen,
    words,
)
from reviewbot.static.rules import RULES
from reviewbot.static.taint import Scope

if TYPE_CHECKING:
    from tree_sitter import Node

_HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha": "SHA-1"}
_HASH_CALLS = frozenset(
    {
        "hashlib.md5",
        "hashlib.sha1",
        "md5",
        "sha1",
        "MD5.new",
        "SHA.new",
        "SHA1.new",
        "Crypto.Hash.MD5.new",
        "Crypto.Hash.SHA1.new",
        "hashes.MD5",
        "hashes.SHA1",
    }
)
_SECURITY_WORDS = frozenset(
    {
        "sign",
        "signs",
        "signature",
        "signatures",
        "signed",
        "signing",
        "token",
        "tokens",
        "secret",
        "secrets",
        "auth",
        "authenticate",
        "authentication",
        "csrf",
        "xsrf",
        "nonce",
        "hmac",
        "otp",
        "totp",
        "credential",
        "credentials",
        "salt",
        "apikey",
        "session",
        "sessionid",
        "reset",
        "jwt",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "pin",
        "iv",
        "activation",
        "confirm",
        "confirmation",
        "invite",
        "invitation",
        "captcha",
        "private",
    }
)
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "secret",
        "private",
        "session",
        "access",
        "encryption",
        "signing",
        "license",
        "activation",
        "crypto",
        "aes",
    }
)
_NOT_SECURITY = frozenset(
    {
        "cache",
        "cached",
        "caching",
        "etag",
        "checksum",
        "checksums",
        "fingerprint",
        "filename",
        "file",
        "files",
        "path",
        "dedupe",
        "dedup",
        "jitter",
        "delay",
        "backoff",
        "sleep",
        "color",
        "colour",
        "sample",
        "shuffle",
        "test",
        "tests",
        "mock",
        "fake",
        "demo",
        "shard",
        "bucket",
        "partition",
        "lb",
        "retry",
        "timeout",
        "seed",
        "choose",
        "pick",
        "port",
        "legacy",
        "vocab",
        "vocabulary",
        "word",
        "words",
        "sentence",
        "corpus",
        "text",
        "next",
        "prev",
        "generated",
        "cert",
        "certificate",
        "mac",
        "url",
        "uri",
        "key_cache",
    }
)
_ALPHABET = re.compile(
    r"string\.|ascii|letters|digits|alphabet|chars|characters|charset|"
    r"punctuation|printable|hexdigits"
)
_PICKERS = frozenset({"choice", "choices", "sample", "shuffle"})
_CIPHERS = {
    "DES": "DES",
    "DES3": "3DES",
    "TripleDES": "3DES",
    "ARC4": "RC4",
    "ARC2": "RC2",
    "Blowfish": "Blowfish",
    "CAST": "CAST",
    "CAST5": "CAST5",
    "XOR": "XOR",
    "IDEA": "IDEA",
    "SEED": "SEED",
    "des": "DES",
    "triple_des": "3DES",
}
_CIPHER_MODULES = re.compile(r"(?:^|\.)(?:Cipher|Cryptodome\.Cipher|Crypto\.Cipher)$")
_KEYGEN = {
    "rsa.generate_private_key": ("key_size", 1),
    "dsa.generate_private_key": ("key_size", 0),
    "dh.generate_parameters": ("key_size", 1),
    "RSA.generate": ("bits", 0),
    "DSA.generate": ("bits", 0),
    "rsa.newkeys": ("nbits", 0),
    "Crypto.PublicKey.RSA.generate": ("bits", 0),
    "Crypto.PublicKey.DSA.generate": ("bits", 0),
}
_RANDOM_FUNCS = frozenset(
    {
        "random",
        "randint",
        "randrange",
        "choice",
        "choices",
        "sample",
        "getrandbits",
        "uniform",
        "randbytes",
        "shuffle",
    }
)


def check_crypto(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for n in scope.select("call"):
        if not ctx.touched(n):
            continue
        name = call_name(n)
        hit = (
            _weak_hash(scope, n, name)
            or _weak_cipher(n, name)
            or _weak_key(n, name)
            or _insecure_random(scope, n, name)
        )
        if hit is not None:
            hits.append(hit)
    return hits


def security_context(scope: Scope, n: Node, extra: list[Node]) -> bool:
    """Do the names around ``n`` say it protects something (and none says otherwise)?"""
    found: set[str] = set()
    stmt = statement_of(n)
    target = _target(stmt)
    if target is not None:
        found |= _name_words(target)
    fn = scope.node
    if stmt.type == "return_statement" and fn.type == "function_definition":
        # What the function returns is what it is named after.
        found |= _name_words(text(fn.child_by_field_name("name")))
    for e in extra:
        for ident in _identifiers(e):
            found |= _name_words(ident)
    if found & _NOT_SECURITY:
        return False
    return bool(found & _SECURITY_WORDS) or "key" in found and bool(found & _KEY_QUALIFIERS)


def _name_words(name: str) -> set[str]:
    w = set(words(name))
    if "key" in w and not w & _KEY_QUALIFIERS and len(w) > 1:
        w.discard("key")
    return w


def _target(stmt: Node) -> str | None:
    node = stmt
    if node.type == "expression_statement" and node.named_children:
        node = node.named_children[0]
    if node.type in ("assignment", "augmented_assignment"):
        left = node.child_by_field_name("left")
        if left is not None:
            return text(left.child_by_field_name("attribute") if left.type == "attribute" else left)
    return None


def _identifiers(n: Node) -> list[str]:
    out: list[str] = []
    stack = [n]
    while stack:
        cur = stack.pop()
        if cur.type == "identifier":
            out.append(text(cur))
        elif cur.type == "attribute":
            attr = cur.child_by_field_name("attribute")
            out.append(text(attr))
            obj = cur.child_by_field_name("object")
            if obj is not None:
                stack.append(obj)
            continue
        if cur.type != "call":
            stack.extend(cur.named_children)
        else:
            a = cur.child_by_field_name("arguments")
            if a is not None:
                stack.append(a)
    return out


def _weak_hash(scope: Scope, n: Node, name: str) -> StaticHit | None:
    positional = args(n)
    algo = _HASH_NAMES.get(last_name(name).lower()) if name in _HASH_CALLS else None
    if algo is None and name in _HASH_CALLS:
        algo = _HASH_NAMES.get(name.split(".")[-2].lower() if "." in name else "")
    data = positional
    if name == "hashlib.new" and positional and is_string(unparen(positional[0])):
        algo = _HASH_NAMES.get(string_text(unparen(positional[0])).lower())
        data = positional[1:]
    if algo is None:
        return None
    used = kwarg(n, "usedforsecurity")
    if used is not None and used.type == "false":
        return None
    if any(w in _PASSWORDS for d in data for i in _identifiers(d) for w in words(i)):
        return None  # py.weak-password-hash says it better
    signing = (
        name.startswith("hashes.")
        and n.parent is not None
        and any(w in ("sign", "verify", "signer", "verifier") for w in words(_outer_call(n)))
    )
    if not signing and not security_context(scope, n, data):
        return None
    return RULES["py.weak-hash"].hit(
        line(n),
        line(n),
        f"{algo} used for security",
        f"{algo} collisions can be computed cheaply, so a signature, token or integrity check "
        "built on it can be forged. Use SHA-256 or better (hmac with hashlib.sha256 for "
        "keyed checks); if this hash is not for security, say so with "
        "usedforsecurity=False.",
    )


_PASSWORDS = frozenset({"password", "passwd", "pwd", "pw", "passphrase", "passwords"})


def _outer_call(n: Node) -> str:
    p = n.parent
    while p is not None and p.type != "call":
        p = p.parent
    return call_name(p) if p is not None else ""


def _weak_cipher(n: Node, name: str) -> StaticHit | None:
    parts = name.split(".")
    algo: str | None = None
    if (
        len(parts) >= 2
        and parts[-1] == "new"
        and parts[-2] in _CIPHERS
        and (len(parts) == 2 or _CIPHER_MODULES.search(".".join(parts[:-2])))
    ):
        algo = _CIPHERS[parts[-2]]
    elif (
        len(parts) >= 2
        and parts[-2] in ("algorithms", "pyDes", "decrepit")
        and (parts[-1] in _CIPHERS)
    ):
        algo = _CIPHERS[parts[-1]]
    elif (
        name in ("modes.ECB", "cryptography.hazmat.primitives.ciphers.modes.ECB")
        or any(text(a).endswith(".MODE_ECB") for a in args(n))
        or ((m := kwarg(n, "mode")) is not None and text(m).endswith(".MODE_ECB"))
    ):
        algo = "ECB mode"
    if algo is None:
        return None
    why = (
        "ECB encrypts equal blocks to equal ciphertext, so patterns in the data show"
        if algo == "ECB mode"
        else f"{algo} is broken or has a block/key size that is attacked in practice"
    )
    return RULES["py.weak-cipher"].hit(
        line(n),
        line(n),
        f"weak cipher: {algo}",
        f"{why}. Use AES-GCM or ChaCha20-Poly1305 (cryptography's AESGCM / "
        "ChaCha20Poly1305), which also authenticate the data.",
    )


def _weak_key(n: Node, name: str) -> StaticHit | None:
    spec = _KEYGEN.get(name)
    if spec is None:
        return None
    kw, pos = spec
    size = kwarg(n, kw)
    positional = args(n)
    if size is None and pos < len(positional):
        size = positional[pos]
    if size is None or unparen(size).type != "integer":
        return None
    try:
        bits = int(text(unparen(size)).replace("_", ""), 0)
    except ValueError:
        return None
    if bits >= 2048:
        return None
    return RULES["py.weak-key"].hit(
        line(n),
        line(n),
        f"{bits}-bit key",
        f"`{name}` makes a {bits}-bit key; keys under 2048 bits are within reach of "
        "factoring / discrete-log attacks. Use at least 2048 bits (3072 for keys that must "
        "last), or an elliptic-curve key.",
    )


def _insecure_random(scope: Scope, n: Node, name: str) -> StaticHit | None:
    parts = name.split(".")
    if len(parts) != 2 or parts[0] != "random" or parts[1] not in _RANDOM_FUNCS:
        return None
    population = args(n)[:1]
    if parts[1] in _PICKERS and not (
        population and (is_string(unparen(population[0])) or _ALPHABET.search(text(population[0])))
    ):
        return None  # a pick from a list (a token from a vocabulary), not a secret drawn
    if not security_context(scope, n, []):
        return None
    return RULES["py.insecure-random"].hit(
        line(n),
        line(n),
        f"`{name}` used for a secret",
        "The random module is a Mersenne Twister: its output is predictable from a few "
        "hundred values, so tokens, passwords or nonces drawn from it can be guessed. Use "
        "the secrets module (secrets.token_urlsafe, secrets.choice, secrets.randbelow).",
    )
