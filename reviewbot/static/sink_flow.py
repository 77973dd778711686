"""A data-flow sink as data: :class:`SinkRow`, and the one loop that judges, anchors, reports.

A row says which arguments of a call are dangerous (positions and keywords), how the
argument is judged (its ``shape``), the weakest taint that is reported, and how the hit
reads: a title and a message template, the severity and confidence policy. Which calls a
row applies to is the family's business: :mod:`py_sinks` indexes its rows by callee and
method name (with the file's import aliases), other families (:mod:`py_web`,
:mod:`py_security`) pick theirs with :func:`named`. Then :func:`sink_hit` does the rest:

    value   the taint of the argument itself; a string built in place (or assigned to the
            name passed) counts by its slots of at least ``threshold``
    url     like ``value``, but only the slots before a constant ``/path`` or
            ``scheme://host/`` count (``"/items/" + id`` cannot change the host;
            ``"//" + x`` and ``"https://" + host`` can)
    text    only strings built by formatting whose literal text matches the row's pattern
            (an LDAP filter, an XPath expression); a value passed as is is not judged
    whole   the taint of the argument expression as it is (``mark_safe(x)``, ``eval(x)``)
    built   only a string built in place, by its slots (``format_html(f"...")``)

``whole`` is the weakest taint reported for a ``value``/``url`` argument passed as is (a
function that forwards its parameter to ``requests.get`` is a wrapper, its caller chooses
the URL). Local input (``sys.argv``, ``os.environ``) does not count in a built string's
slots: the operator chooses it.

Message templates are :meth:`str.format` strings over ``{name}`` (the callee as written),
``{last}`` (its last part), ``{origin}`` (where the value comes from, or the row's
``origin`` when the taint names nothing), ``{short}`` (``origin`` with request data named
as such), ``{note}`` (where the value goes when the finding is anchored at an assignment),
``{from_origin}`` (`` from `` and the taint's origin, or nothing), ``{how}`` (how a ``built``
string is built), ``{what}`` and ``{advice}``, and what the caller of :func:`flow_hit` adds.
Rules whose dangerous value is not an argument of the call (an item of a command list, a
value given to a template) pick it themselves and call :func:`flow_hit` with a row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import args, kwarg, last_name, text, unparen
from reviewbot.static.rules import RULES
from reviewbot.static.sources import LOCAL_INPUT
from reviewbot.static.strings import Built, built
from reviewbot.static.taint import CONST, Level, Scope, Sink, Taint, strongest

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True, slots=True)
class Grade:
    """Severity by taint: ``above`` at ``at`` or stronger, ``below`` under it; None is the
    catalogue's severity for the rule."""

    at: Level
    above: Severity | None = None
    below: Severity | None = None

    def of(self, taint: Taint) -> Severity | None:
        return self.above if taint.level >= self.at else self.below


BY_SOURCE = Grade(Level.SOURCE, Severity.ERROR, Severity.WARNING)
"""Request data an error, weaker taint a warning."""

Shape = Literal["value", "url", "text", "whole", "built"]
FIELDS = frozenset(
    {"name", "last", "origin", "short", "note", "from_origin", "how", "what", "advice"}
)
"""The template fields every hit fills (see the module docstring)."""

_TITLE = "{what} from {short}"
_MESSAGE = "The {what} passed to `{name}` comes from {origin}{note}. {advice}"


@dataclass(frozen=True, slots=True)
class SinkRow:
    rule: str
    """Catalogue id the hit carries."""
    sink: Sink
    what: str = ""
    """What the argument is, for the default title: "redirect target"."""
    advice: str = ""
    """The fix, one or two sentences (the default message ends with it)."""
    callees: frozenset[str] = frozenset()
    """Dotted callee names as written: ``flask.redirect``, ``redirect``."""
    methods: frozenset[str] = frozenset()
    """Method names on any receiver (``conn.search_s``)."""
    clients: frozenset[str] = frozenset()
    """With ``methods``: only on a receiver bound to one of these constructors."""
    match: Callable[[str], bool] | None = None
    """For :func:`named`: callee names no set lists (a pattern, a last name)."""
    positions: tuple[int, ...] = (0,)
    keywords: tuple[str, ...] = ()
    splats: bool = False
    """Is a ``*args`` at a dangerous position judged too?"""
    shape: Shape = "value"
    """value | url | text | whole | built (see the module docstring)."""
    pattern: re.Pattern[str] | None = None
    """For ``text``: what the built literal must look like."""
    threshold: Level = Level.PARAM
    """The weakest taint of a built string's slot that counts (value, url, text)."""
    whole: Level = Level.SOURCE
    """The weakest taint of a value or url argument passed as is that counts."""
    fires: Level = Level.PARAM
    """The weakest taint reported."""
    scalars: bool = False
    """Is a value known to be a number (an ``int`` parameter) reported too?"""
    anchor: Level | None = None
    """The weakest taint an assignment must carry to anchor the hit (default: the
    weaker of ``threshold`` and ``whole``)."""
    quiet: Callable[[Node], bool] | None = None
    """The call needs no check (``torch.load(..., weights_only=True)``); asked first."""
    safe: Callable[[Node], bool] | None = None
    """The argument is safe as it is (a rendered template); asked after its taint."""
    title: str = _TITLE
    message: str = _MESSAGE
    reaches: str = "`{name}`"
    """Where the value goes, for a hit anchored at an assignment."""
    origin: str = "a value from outside this function"
    """``{origin}`` when the taint names none."""
    grade: Grade | None = BY_SOURCE
    """Severity policy; None: always the catalogue's."""
    confidence: tuple[float, float] = (0.9, 0.6)
    """For request data, for weaker taint."""


def first_arg_row(
    sink: Sink,
    rule: str,
    fires: Level,
    title: str,
    message: str,
    origin: str,
    *,
    shape: Shape = "whole",
    callees: frozenset[str] = frozenset(),
    match: Callable[[str], bool] | None = None,
    quiet: Callable[[Node], bool] | None = None,
    safe: Callable[[Node], bool] | None = None,
    grade: Grade | None = None,
    confidence: float = 0.9,
) -> SinkRow:
    """A row for the first positional argument (a ``*args`` too) taken as it is: a number
    counts, ``fires`` is also the anchor's threshold, the catalogue's severity unless
    ``grade`` says else, one confidence for every taint."""
    return SinkRow(
        rule,
        sink,
        callees=callees,
        match=match,
        splats=True,
        shape=shape,
        fires=fires,
        scalars=True,
        anchor=fires,
        quiet=quiet,
        safe=safe,
        title=title,
        message=message,
        origin=origin,
        grade=grade,
        confidence=(confidence, confidence),
    )


def named(rows: Iterable[SinkRow], name: str) -> list[SinkRow]:
    """The rows whose ``callees`` list ``name`` or whose ``match`` accepts it."""
    return [r for r in rows if name in r.callees or (r.match is not None and r.match(name))]


def arguments(call: Node, row: SinkRow) -> list[Node]:
    positional = args(call)
    out = [
        positional[i]
        for i in row.positions
        if i < len(positional)
        and (row.splats or positional[i].type not in ("list_splat", "dictionary_splat"))
    ]
    for k in row.keywords:
        v = kwarg(call, k)
        if v is not None:
            out.append(v)
    return out


def sink_hit(ctx: Ctx, scope: Scope, call: Node, name: str, row: SinkRow) -> StaticHit | None:
    """The hit for the first dangerous argument of ``call`` that carries enough taint and
    whose flow the change touches, or None."""
    if row.quiet is not None and row.quiet(call):
        return None
    for arg in arguments(call, row):
        taint, carriers, how = judge(scope, arg, row)
        if row.safe is not None and row.safe(arg):
            continue
        hit = flow_hit(ctx, scope, row, call, taint, [arg, *carriers], name, how=how)
        if hit is not None:
            return hit
    return None


def flow_hit(
    ctx: Ctx,
    scope: Scope,
    row: SinkRow,
    at: Node,
    taint: Taint,
    carriers: list[Node],
    name: str = "",
    *,
    span: tuple[int, int] | None = None,
    **fields: str,
) -> StaticHit | None:
    """The hit for ``taint`` reaching the sink ``at`` through ``carriers``, reported where
    the change touches the flow (:meth:`Ctx.anchor`), or None when the taint is too weak
    or the change touches no part of the flow. ``fields`` fill the row's templates beside
    the standard ones (see the module docstring)."""
    if taint.level < row.fires or (taint.scalar and not row.scalars):
        return None
    level = row.anchor if row.anchor is not None else min(row.threshold, row.whole)
    anchor = ctx.anchor(
        at, scope, carriers, row.sink, level, row.reaches.format(name=name, **fields), span
    )
    if anchor is None:
        return None
    origin = taint.origin or row.origin
    values = {
        "name": name,
        "last": last_name(name),
        "origin": origin,
        "short": _short(origin),
        "note": anchor.note,
        "what": row.what,
        "advice": row.advice,
        "from_origin": f" from {taint.origin}" if taint.origin else "",
        "how": "",
        **fields,
    }
    source = taint.level >= Level.SOURCE
    return RULES[row.rule].hit(
        anchor.line,
        anchor.end,
        row.title.format(**values),
        row.message.format(**values),
        severity=row.grade.of(taint) if row.grade is not None else None,
        confidence=row.confidence[0] if source else row.confidence[1],
    )


def _short(origin: str) -> str:
    return "request data" if origin.startswith("request data") else origin


def judge(scope: Scope, arg: Node, row: SinkRow) -> tuple[Taint, list[Node], str]:
    """The taint that counts for this row, the expressions that carry it (besides ``arg``)
    and, for a ``built`` row, how the string is built."""
    if row.shape == "whole":
        return scope.level(arg, row.sink), [], ""
    if row.shape == "built":
        b = built(arg, scope)
        return (b.taint(scope, row.sink), [], b.how) if b is not None else (CONST, [], "")
    builds = builds_of(scope, arg)
    if row.shape == "text":
        found = [
            (b, s)
            for b, s in builds
            if row.pattern is not None and b.known and row.pattern.search(b.text)
        ]
        return _slots_taint(scope, found, row, all_slots=True)
    if builds:
        return _slots_taint(scope, builds, row, all_slots=row.shape != "url")
    taint = scope.level(arg, row.sink)
    return (taint if taint.level >= row.whole else CONST), [arg], ""


def _slots_taint(
    scope: Scope, builds: list[tuple[Built, Node]], row: SinkRow, all_slots: bool
) -> tuple[Taint, list[Node], str]:
    taints: list[Taint] = []
    carriers: list[Node] = []
    for b, _where in builds:
        for s in b.slots:
            if s.expr is None or (
                not all_slots and b.known and fixed_destination(b.text[: s.offset])
            ):
                continue
            t = scope.level(s.expr, row.sink)
            if t.level >= row.threshold and not t.origin.startswith(LOCAL_INPUT):
                taints.append(t)
                carriers.append(s.expr)
    return strongest(taints), carriers, ""


_FIXED = re.compile(r"^\s*(?:/[^/\\\x00]|[a-zA-Z][\w+.-]*://[^/?#\\\x00@]+[/?#])")


def fixed_destination(prefix: str) -> bool:
    """Does this literal start pin the host: ``/path`` or ``scheme://host/``?"""
    return bool(_FIXED.match(prefix))


def builds_of(scope: Scope, arg: Node) -> list[tuple[Built, Node]]:
    """The strings built at run time that reach ``arg``: in place, or assigned to the name
    passed (every reaching assignment), each with the node that builds it."""
    a = unparen(arg)
    b = built(a, scope)
    if b is not None:
        return [(b, b.node)]
    out: list[tuple[Built, Node]] = []
    if a.type == "identifier":
        for d in scope.reaching(text(a), a):
            if d.kind not in ("assign", "aug") or d.value is None:
                continue
            db = built(d.value, scope)
            if db is not None:
                out.append((db, d.stmt))
    return out
