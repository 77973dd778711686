"""Path traversal (CWE-22) and tar extraction (tar slip).

A path is reported when request data reaches a file operation, and (as a warning) when a
parameter joined onto a base directory does (the ``joined`` mark of the taint view). Calls
into functions of the same file are followed: a helper whose parameter reaches a file sink
makes the call a sink, within the bounds of :mod:`reviewbot.static.calls`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.calls import Program, bind, is_marked, marked
from reviewbot.static.file_sinks import PATH, PROBES, path_targets
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import (
    call_name,
    end_line,
    kwarg,
    last_name,
    line,
    text,
    unparen,
)
from reviewbot.static.rules import RULES
from reviewbot.static.sink_flow import Grade, SinkRow, flow_hit
from reviewbot.static.taint import Level, Scope, Taint

if TYPE_CHECKING:
    from tree_sitter import Node

_ESCAPES = (
    " reaches `{name}`{via}{note} without a containment check; '../' or an absolute "
    "path escapes the intended directory. Use werkzeug.utils.secure_filename / "
    "safe_join, or resolve with os.path.realpath and check the result starts with the "
    "base directory."
)
PATH_FROM_REQUEST = SinkRow(
    "py.path-traversal",
    PATH,
    fires=Level.SOURCE,
    scalars=True,
    anchor=Level.SOURCE,
    title="path traversal: user-controlled path",
    message="A path from {origin}" + _ESCAPES,
    origin="user input",
    grade=None,
    confidence=(0.9, 0.9),
)
PATH_JOINED = SinkRow(
    "py.path-traversal",
    PATH,
    anchor=Level.PARAM,
    title="path traversal: unchecked name joined onto a base directory",
    message="A path from {origin} joined onto a base directory" + _ESCAPES,
    origin="a parameter",
    grade=Grade(Level.CONST, Severity.WARNING),
    confidence=(0.6, 0.6),
)
"""A parameter joined onto a base directory (the ``joined`` mark): a warning."""


def check_path(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    program = scope.program
    for n in scope.select("call"):
        name = call_name(n)
        if last_name(name) in ("extractall", "extract") and ctx.touched(n):
            hits += _tar_extract(scope, n, name)
        targets = path_targets(scope, n, name)
        if targets:
            hits += _flow(ctx, scope, n, name, targets)
        elif (
            program is not None
            and (name in program.functions or name.startswith(("self.", "cls.")))
            and _may_read_requests(ctx)
        ):
            hits += _through_helper(ctx, scope, program, n, name)
    return hits


def _reported(taint: Taint) -> bool:
    """Request data, or a parameter joined onto a base path (a name meant to stay inside)."""
    return taint.level >= Level.SOURCE or (
        taint.level >= Level.PARAM and taint.joined and not taint.scalar
    )


def _flow(
    ctx: Ctx,
    scope: Scope,
    n: Node,
    name: str,
    targets: list[Node],
    via: str = "",
    probe: bool | None = None,
) -> list[StaticHit]:
    probe = name in PROBES if probe is None else probe
    for t in targets:
        taint = scope.level(t, PATH)
        if not _reported(taint) or (probe and taint.level < Level.SOURCE):
            continue  # finding a program with os.path.isfile(join(d, name)) is no attack
        row = PATH_FROM_REQUEST if taint.level >= Level.SOURCE else PATH_JOINED
        hit = flow_hit(ctx, scope, row, n, taint, [t], name, via=via)
        if hit is not None:
            return [hit]
    return []


_REQUEST_WORDS = (
    b"request",
    b"get_argument",
    b"get_query_argument",
    b"get_body_argument",
    b"get_cookie",
    b"get_secure_cookie",
)
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ROUTE_DECORATOR = re.compile(
    rb"@[\w.]*\.(?:route|get|post|put|patch|delete|api_route|websocket)\b"
)


def _may_read_requests(ctx: Ctx) -> bool:
    """Could the file read request data at all? Flows into helpers are followed only then
    (a cheap bound: most files of a project serve no requests)."""
    found = ctx.cache.get("path-request-hint")
    if found is None:
        found = ctx.cache["path-request-hint"] = request_hint(ctx.src.data)
    return bool(found)


def request_hint(data: bytes) -> bool:
    """Does ``data`` name request data (``request``, a ``req`` word, a Tornado-style
    ``get_argument`` or ``get_cookie``) or a route decorator? Substring searches run at
    memory speed; a regex runs only at each ``@`` (one regex of all the alternatives cost
    9 ns a byte of every file)."""
    if any(word in data for word in _REQUEST_WORDS):
        return True
    at = data.find(b"req")
    while at >= 0:
        end = at + 3
        if (at == 0 or data[at - 1] not in _WORD_BYTES) and (
            end == len(data) or data[end] not in _WORD_BYTES
        ):
            return True
        at = data.find(b"req", end)
    at = data.find(b"@")
    while at >= 0:
        if _ROUTE_DECORATOR.match(data, at):
            return True
        at = data.find(b"@", at + 1)
    return False


def _through_helper(
    ctx: Ctx, scope: Scope, program: Program[Scope], n: Node, name: str
) -> list[StaticHit]:
    """A call to a function of this file that passes an argument on to a file sink."""
    found = program.callee(n)
    if found is None:
        return []
    fn, bound = found
    argl = n.child_by_field_name("arguments")
    if (
        argl is None
        or not _might_sink(ctx, program, fn, 0)
        or not any(_reported(scope.level(a, PATH)) for a in argl.named_children)
    ):
        return []  # nothing worth following into the helper
    reached = _sink_params(ctx, program, fn)
    if not reached:
        return []
    params = list(program.scope(fn).params)
    for value, param in bind(n, params, bound):
        hit = reached.get(param) if param is not None else next(iter(reached.values()))
        if hit is None:
            continue
        sink_name, sink_line = hit
        found_hits = _flow(
            ctx,
            scope,
            n,
            name,
            [value],
            f" (through `{sink_name}` at line {sink_line})",
            probe=sink_name in PROBES,
        )
        if found_hits:
            return found_hits
    return []


_SINK_WORD = re.compile(
    rb"\bopen\s*\(|\bos\.\w+\s*\(|\bshutil\.|send_file|send_from_directory|FileResponse"
    rb"|\bFile\s*\(|ZipFile|tarfile\.|\.(?:read_text|read_bytes|write_text|write_bytes|unlink"
    rb"|rmdir|mkdir|touch|iterdir|rmtree|rename|save|save_as)\s*\(|path\.join|joinpath"
    rb"|\(\s*\[?\s*[bu]?['\"](?:cat|chgrp|chmod|chown|cp|dd|head|install|ln|mkdir|mv|readlink"
    rb"|rm|rmdir|rsync|stat|tail|tar|tee|touch|truncate|unzip)['\"\s]"
)
"""A cheap test for the text of a function that may hold a file sink (see path_targets)."""
_CALLED = re.compile(rb"(?<![\w.])(?:self\.|cls\.)?(\w+)\s*\(")


def _might_sink(ctx: Ctx, program: Program[Scope], fn: Node, depth: int) -> bool:
    """A cheap, conservative test of :func:`_sink_params`: does the text of ``fn``, or of a
    function of the file it calls (three deep), name a file sink?"""
    cache: dict[tuple[int, int], bool] = ctx.cache.setdefault("path-might-sink", {})
    key = (fn.id, depth)
    if key in cache:
        return cache[key]
    cache[key] = False  # a cycle adds nothing
    body = fn.text or b""
    found = bool(_SINK_WORD.search(body))
    if not found and depth < 3:
        cls = _class_of(fn)
        for name in set(_CALLED.findall(body)):
            short = name.decode()
            callee = program.functions.get(short) or (
                program.functions.get(f"{cls}.{short}") if cls else None
            )
            if (
                callee is not None
                and not isinstance(callee, str)
                and callee.id != fn.id
                and _might_sink(ctx, program, callee, depth + 1)
            ):
                found = True
                break
    cache[key] = found
    return found


def _class_of(fn: Node) -> str:
    block = fn.parent
    while block is not None and block.type == "decorated_definition":
        block = block.parent
    cls = block.parent if block is not None else None
    return (
        text(cls.child_by_field_name("name"))
        if cls is not None and cls.type == "class_definition"
        else ""
    )


def _sink_params(ctx: Ctx, program: Program[Scope], fn: Node) -> dict[str, tuple[str, int]]:
    """The parameters of ``fn`` that reach a file sink in it (or in a helper it calls,
    within the program's depth and time bounds), with that sink's name and line."""
    cache: dict[int, dict[str, tuple[str, int]]] = ctx.cache.setdefault("path-sink-params", {})
    if fn.id in cache:
        return cache[fn.id]
    if not program.enter(fn):
        return {}
    out: dict[str, tuple[str, int]] = {}
    try:
        base = program.scope(fn)
        sinks: list[tuple[Node, tuple[str, int]]] = []
        for call in base.select("call"):
            name = call_name(call)
            targets = path_targets(base, call, name)
            sinks += [(t, (name, line(call))) for t in targets]
            inner = program.callee(call) if not targets else None
            if inner is not None:
                reached = _sink_params(ctx, program, inner[0])
                for value, param in bind(call, list(program.scope(inner[0]).params), inner[1]):
                    hit = reached.get(param) if param is not None else None
                    if hit is not None:
                        sinks.append((value, hit))
        sinks.sort(key=lambda s: s[1][0] in PROBES)  # a real sink before a probe
        for param in base.params:
            if param in out or base.params[param].scalar:
                continue
            variant = base.with_params(marked(base.params, param))
            for target, where in sinks:
                if is_marked(variant.level(target, PATH)):
                    out[param] = where
                    break
    finally:
        program.leave(fn)
    cache[fn.id] = out
    return out


def _tar_extract(scope: Scope, n: Node, name: str) -> list[StaticHit]:
    fn = n.child_by_field_name("function")
    obj = fn.child_by_field_name("object") if fn is not None and fn.type == "attribute" else None
    if obj is None or kwarg(n, "filter") is not None or kwarg(n, "members") is not None:
        return []
    origin = unparen(obj)
    if origin.type == "identifier":
        defs = scope.reaching(text(origin), origin)
        origin = next((unparen(d.value) for d in defs if d.value is not None), origin)
    if origin.type != "call" or call_name(origin) not in (
        "tarfile.open",
        "tarfile.TarFile",
        "TarFile.open",
    ):
        return []
    return [
        RULES["py.tar-extract"].hit(
            line(n),
            end_line(n),
            f"{last_name(name)}() without a filter",
            "Tar members can be named ../x or /etc/x, or be links pointing outside the target, "
            "so extracting an archive you did not create can overwrite any file (tar slip). Pass "
            'filter="data" (Python 3.12+, backported to 3.8+) or check each member\'s path.',
        )
    ]
