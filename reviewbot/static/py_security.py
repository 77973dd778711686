"""Other Python security rules: eval, deserialisation, yaml, TLS, secrets, password hashes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import (
    args,
    call_name,
    is_constant,
    is_string,
    kwarg,
    line,
    string_text,
    text,
    unparen,
    words,
)
from reviewbot.static.rules import RULES
from reviewbot.static.sink_flow import Grade, SinkRow, first_arg_row, named, sink_hit
from reviewbot.static.taint import Level, Scope, Sink

if TYPE_CHECKING:
    from tree_sitter import Node

CODE = Sink("code", frozenset({"literal_eval"}))
DATA = Sink("data")

_EVAL = frozenset({"eval", "exec", "builtins.eval", "builtins.exec"})
_DESERIALIZE = frozenset(
    {
        "pickle.loads",
        "pickle.load",
        "cPickle.loads",
        "cPickle.load",
        "_pickle.loads",
        "_pickle.load",
        "dill.loads",
        "dill.load",
        "marshal.loads",
        "marshal.load",
        "jsonpickle.decode",
        "pd.read_pickle",
        "pandas.read_pickle",
        "shelve.open",
        "joblib.load",
        "torch.load",
    }
)
_YAML = frozenset({"yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.unsafe_load_all"})
_SECRET_WORDS = re.compile(
    r"(?:^|_)(?:password|passwd|pwd|secret|secret_key|api_key|apikey|access_key|access_token|"
    r"auth_token|private_key|client_secret|token|secret_access_key)$"
)
_PLACEHOLDER = re.compile(
    r"^(?:<.*>|\$\{.*\}|\{.*\}|%\(.*\)s|%s|x+|\*+|\.+|-+|changeme|change[-_]me|password|secret|"
    r"your[-_ ].*|example.*|dummy.*|test.*|fake.*|sample.*|none|null|todo|placeholder.*)$",
    re.IGNORECASE,
)
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pw", "pass", "passphrase", "passwords"})
_WEAK = frozenset({"md5", "sha1"})
_HTTP_WORDS = frozenset(
    {
        "requests",
        "httpx",
        "session",
        "client",
        "http",
        "https",
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "request",
        "urlopen",
        "send",
        "fetch",
        "cert",
        "download",
        "upload",
        "aiohttp",
        "connect",
        "connection",
        "api",
        "stream",
        "transport",
        "ssl",
        "tls",
        "async",
        "pool",
        "manager",
        "urllib3",
        "verify",
    }
)


def check_security(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for n in scope.select("call", "assignment", "keyword_argument", "pair", "cert_none"):
        if n.type == "call":
            hits += _call(ctx, scope, n)
        elif n.type in ("assignment", "keyword_argument", "pair") and ctx.touched(n):
            hits += _secret(ctx, n)
        elif (
            n.type == "attribute" and text(n) == "ssl.CERT_NONE" and ctx.touched(n) and (_is_set(n))
        ):
            hits.append(_tls(n, "ssl.CERT_NONE turns off certificate checking"))
    return hits


CODE_ROWS: tuple[SinkRow, ...] = (
    first_arg_row(
        CODE,
        "py.eval",
        Level.LOCAL,
        "{name}() on a non-constant value",
        "`{name}` runs its argument as Python code; the value comes from {origin}{note}. Use "
        "ast.literal_eval for data, json.loads for JSON, or a dict of allowed operations.",
        "outside this literal",
        callees=_EVAL,
        grade=Grade(Level.PARAM, None, Severity.WARNING),
    ),
    first_arg_row(
        DATA,
        "py.unsafe-deserialization",
        Level.PARAM,
        "{name}() on data that may not be trusted",
        "`{name}` can run arbitrary code while loading (pickle-based formats call constructors "
        "named in the data); the data comes from {origin}{note}. Use JSON or another data-only "
        "format for anything that crosses a trust boundary.",
        "outside this function",
        callees=_DESERIALIZE,
        grade=Grade(Level.SOURCE, Severity.ERROR),
        quiet=lambda call: (
            call_name(call) == "torch.load" and kwarg(call, "weights_only") is not None
        ),
        safe=lambda value: (
            unparen(value).type == "call" and call_name(unparen(value)).endswith("dumps")
        ),
    ),
)
"""Calls that run their first argument as code or load objects from it."""


def _call(ctx: Ctx, scope: Scope, n: Node) -> list[StaticHit]:
    name = call_name(n)
    positional = args(n)
    first = positional[0] if positional else None
    rows = named(CODE_ROWS, name) if first is not None else []
    if rows:
        hits = (sink_hit(ctx, scope, n, name, row) for row in rows)
        return [h for h in hits if h is not None][:1]
    if ctx.touched(n):
        return _touched_call(ctx, n, name, positional)
    return []


def _touched_call(ctx: Ctx, n: Node, name: str, positional: list[Node]) -> list[StaticHit]:
    """The checks of a call the change touches: yaml.load, TLS checks off, weak hashes."""
    first = positional[0] if positional else None
    argl = n.child_by_field_name("arguments")
    splat = argl is not None and any(c.type == "dictionary_splat" for c in argl.named_children)
    if name in _YAML and first is not None and not is_constant(first) and not splat:
        loader = kwarg(n, "Loader") or (positional[1] if len(positional) > 1 else None)
        if (
            "unsafe" not in name
            and loader is not None
            and re.search(r"Safe|BaseLoader|FullLoader", text(loader))
        ):
            return []
        return [
            RULES["py.yaml-load"].hit(
                line(n),
                line(n),
                f"{name} without a safe loader",
                "yaml.load with the default or unsafe Loader builds arbitrary Python objects from "
                "tags in the document (code execution on untrusted input).",
                suggestion=None,
            )
        ]
    verify = kwarg(n, "verify")
    if verify is not None and verify.type == "false" and set(words(name)) & _HTTP_WORDS:
        return [_tls(n, f"`{name}(..., verify=False)` accepts any certificate")]
    if name.endswith("_create_unverified_context"):
        return [_tls(n, "an unverified SSL context accepts any certificate")]
    return _weak_hash(n, name, positional)


def _is_set(n: Node) -> bool:
    """``x.verify_mode = ssl.CERT_NONE`` or ``cert_reqs=ssl.CERT_NONE``, not a comparison."""
    parent = n.parent
    if parent is None:
        return False
    if parent.type == "assignment":
        return parent.child_by_field_name("right") == n
    return parent.type == "keyword_argument" and parent.child_by_field_name("value") == n


def _tls(n: Node, what: str) -> StaticHit:
    return RULES["py.tls-verify-disabled"].hit(
        line(n),
        line(n),
        "TLS certificate verification disabled",
        f"{what}, so anyone on the network path can impersonate the server (MITM). Keep "
        "verification on; point verify= / cafile= at a CA bundle for private CAs.",
    )


def _weak_hash(n: Node, name: str, positional: list[Node]) -> list[StaticHit]:
    algo = name.rsplit(".", 1)[-1].lower()
    data = positional
    if name in ("hashlib.new", "new") and positional and is_string(unparen(positional[0])):
        algo = string_text(unparen(positional[0])).lower()
        data = positional[1:]
    if algo not in _WEAK or not (name.startswith("hashlib.") or name in _WEAK):
        return []
    if not any(_mentions_password(d) for d in data):
        return []
    return [
        RULES["py.weak-password-hash"].hit(
            line(n),
            line(n),
            f"{algo} used to hash a password",
            f"{algo} is fast and unsalted here, so leaked hashes are cracked quickly. "
            "Hash passwords with a slow, salted KDF: "
            "argon2, bcrypt, scrypt or hashlib.pbkdf2_hmac.",
            suggestion=None,
        )
    ]


def _mentions_password(n: Node) -> bool:
    stack = [n]
    while stack:
        cur = stack.pop()
        if cur.type == "identifier" and set(words(text(cur))) & _PASSWORD_WORDS:
            return True
        stack.extend(cur.named_children)
    return False


def _secret(ctx: Ctx, n: Node) -> list[StaticHit]:
    if n.type == "assignment":
        target, value = n.child_by_field_name("left"), n.child_by_field_name("right")
        if target is not None and target.type == "attribute":
            target = target.child_by_field_name("attribute")
    elif n.type == "keyword_argument":
        target, value = n.child_by_field_name("name"), n.child_by_field_name("value")
    else:
        target, value = n.child_by_field_name("key"), n.child_by_field_name("value")
    if target is None or value is None or not is_string(value) or not is_constant(value):
        return []
    name = string_text(target) if is_string(target) else text(target)
    if not _SECRET_WORDS.search("_".join(words(name))):
        return []
    secret = string_text(value)
    if (
        len(secret) < 8
        or re.search(r"[\s\\\[\]^$*(){}<>|]", secret)
        or _PLACEHOLDER.match(secret)
        or set(words(secret)) <= set(words(name))
        or "_".join(words(secret)) == "_".join(words(name))
        or re.fullmatch(r"[A-Z0-9_]+", secret)
        or re.match(r"^[a-z]+://", secret)
        or len(set(secret)) < 4
    ):
        return []
    if re.search(
        r"(?:^|/)(?:tests?|testing|fixtures|examples?)/|(?:^|/)test_[^/]*$|_test\.py$", ctx.src.path
    ):
        return []
    return [
        RULES["py.hardcoded-secret"].hit(
            line(n),
            line(n),
            f"hard-coded secret in `{name}`",
            "A credential written in the source ends up in every clone, backup and log of the "
            "repository, and rotating it needs a code change. Read it from the environment or a "
            "secret store.",
            confidence=0.7,
        )
    ]
