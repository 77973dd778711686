"""The names the taint view knows: what reads outside input, what cleans it, what passes it on.

:func:`source_of` says whether an attribute or a callee reads request data (SOURCE) or the
local user's input (PARAM); :func:`is_safe_call` whether a call's result is clean for a
sink (a scalar, an escaped or validated value). The name tables at the end tell the taint
walk (:mod:`reviewbot.static.taint`) which calls hand their arguments' taint on unchanged,
which names are builtins and which receivers are modules rather than values.
"""

from __future__ import annotations

import re

from reviewbot.static.levels import Level, Sink, Taint
from reviewbot.static.pynodes import last_name, words

_SAFE_CALLS = frozenset(
    {
        "int",
        "float",
        "bool",
        "len",
        "abs",
        "round",
        "ord",
        "hash",
        "id",
        "sum",
        "isinstance",
        "hasattr",
        "callable",
        "UUID",
        "count",
        "index",
        "find",
        "rfind",
        "isdigit",
        "isalnum",
        "isalpha",
        "isnumeric",
        "isdecimal",
        "startswith",
        "endswith",
        "exists",
        "isfile",
        "isdir",
        "getsize",
        "time",
        "now",
        "utcnow",
        "today",
        "uuid4",
        "uuid1",
        "range",
        "xrange",
    }
)
_SAFE_WORDS = frozenset(
    {
        "escape",
        "escaped",
        "sanitize",
        "sanitise",
        "sanitized",
        "sanitised",
        "sanitizer",
        "clean",
        "cleaned",
        "validate",
        "validated",
        "quote",
        "quoted",
        "secure",
        "safe",
        "bleach",
        "slugify",
        "purify",
        "whitelist",
        "allowlist",
        "check",
        "checked",
    }
)
_NOT_SAFE = frozenset({"check_output", "check_call", "safe_load_all"})
_REQUEST_ATTRS = (
    "args|form|values|files|cookies|headers|data|json|GET|POST|REQUEST|FILES|COOKIES|META|"
    "body|query_params|query_string|params|match_info|path_params|query|content|stream|"
    "get_json|get_data|getlist|get_argument|get_arguments|get|getHeader|getCookie|"
    "getParameter|get_query_argument|get_body_argument"
)
_SOURCE_ATTR = re.compile(rf"(?:^|\.)(?:request|req)\.(?:{_REQUEST_ATTRS})$")
_SOURCE_CALL = re.compile(
    r"(?:^|\.)get_(?:query_|body_)?arguments?$|(?:^|\.)get_(?:secure_)?cookie$"
)
_LOCAL_INPUT_CALL = re.compile(
    r"^(?:input|raw_input|os\.getenv|os\.environ\.get|getpass\.getpass|sys\.stdin\.\w+)$"
)
_LOCAL_INPUT = frozenset({"sys.argv", "os.environ", "sys.stdin"})


LOCAL_INPUT = "local input"
"""How the origin of the local user's input (sys.argv, os.environ, input()) begins."""


def is_safe_call(name: str, sink: Sink) -> bool:
    last = last_name(name)
    if last in _NOT_SAFE:
        return False
    if last in _SAFE_CALLS or last in sink.safe_calls or name in sink.safe_calls:
        return True
    return any(w in _SAFE_WORDS for w in words(last))


def source_of(dotted: str, call: bool = False) -> Taint | None:
    """The taint of an attribute (or, with ``call``, a callee) that reads outside input.

    Request data is SOURCE. Input of the local user (sys.argv, os.environ, input()) is
    PARAM: the person at the terminal is as trusted as the caller of a function, so it
    counts for injection into SQL or a shell, not for path traversal."""
    if (
        dotted in _LOCAL_INPUT
        or any(dotted.startswith(s + ".") for s in _LOCAL_INPUT)
        or (call and _LOCAL_INPUT_CALL.search(dotted))
    ):
        return Taint(Level.PARAM, f"{LOCAL_INPUT} `{dotted}`")
    if _SOURCE_ATTR.search(dotted) or (call and _SOURCE_CALL.search(dotted)):
        return Taint(Level.SOURCE, f"request data `{dotted}`")
    return None


MODULES = frozenset(
    {
        "os",
        "sys",
        "subprocess",
        "shlex",
        "re",
        "json",
        "html",
        "cgi",
        "urllib",
        "hashlib",
        "pickle",
        "yaml",
        "shutil",
        "path",
        "posixpath",
    }
)
PASSTHROUGH = frozenset(
    {
        "str",
        "unicode",
        "repr",
        "format",
        "bytes",
        "list",
        "tuple",
        "dict",
        "set",
        "sorted",
        "reversed",
        "map",
        "filter",
        "zip",
        "enumerate",
        "iter",
        "next",
        "chr",
        "ascii",
        # str methods: the result is made of the receiver and the arguments
        "join",
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "replace",
        "split",
        "rsplit",
        "splitlines",
        "encode",
        "decode",
        "title",
        "capitalize",
        "casefold",
        "zfill",
        "ljust",
        "rjust",
        "center",
        "removeprefix",
        "removesuffix",
        "partition",
        "rpartition",
        "expandtabs",
        "format_map",
        "swapcase",
        "translate",
    }
)
BUILTINS = frozenset(
    {
        "chr",
        "ord",
        "str",
        "int",
        "float",
        "len",
        "repr",
        "list",
        "dict",
        "set",
        "tuple",
        "bool",
        "bytes",
        "range",
        "sorted",
        "min",
        "max",
        "abs",
        "map",
        "filter",
        "zip",
        "enumerate",
        "print",
        "type",
        "object",
        "True",
        "False",
        "None",
    }
)
