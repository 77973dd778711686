"""SQL built from strings (CWE-89): a query made by formatting or concatenation with a value
that is not constant, found at the build (and the execute() it reaches) or at a changed
execute() of a query built earlier."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import args, call_name, line, text, unparen, words
from reviewbot.static.rules import RULES
from reviewbot.static.sink_flow import Grade, SinkRow, flow_hit
from reviewbot.static.strings import (
    SLOT,
    Built,
    Slot,
    built,
    outermost_builds,
    risky_span,
    slot_taint,
    template_of,
)
from reviewbot.static.taint import Level, Scope, Sink, Taint, strongest

if TYPE_CHECKING:
    from tree_sitter import Node

SQL = Sink(
    "sql",
    frozenset(
        {
            "escape_string",
            "literal",
            "Identifier",
            "Literal",
            "quote_ident",
            "quote_literal",
            "AsIs",
        }
    ),
)
_SQL_STATEMENT = re.compile(
    r"\b(?:insert\s+(?:or\s+\w+\s+)?into|delete\s+from|replace\s+into|merge\s+into"
    r"|update\s+[\w.\"`\[\]\x00]+\s+set|(?:create|drop|alter|truncate)\s+(?:table|index|view)"
    r"|select\s[\s\S]*?\sfrom\s+[\w.\"`\[\]\x00]+(?:\s+(?:as\s+)?\w+)?\s*(?:$|;|,|\)|\bwhere\b"
    r"|\b(?:inner|left|right|outer|cross|natural)?\s*join\b|\border\s+by\b|\bgroup\s+by\b"
    r"|\blimit\b|\bunion\b|\bhaving\b))",
    re.IGNORECASE,
)
_SQL_SELECT_STAR = re.compile(r"\bselect\s+(?:\*|count\s*\(|distinct\b)", re.IGNORECASE)
_SQL_WHERE = re.compile(
    r"\bwhere\s+[\w.\"`\[\]]+\s*(?:=|<|>|!=|\blike\b|\bin\b|\bbetween\b|\bis\b)"
    r"|\b(?:and|or|having|on)\s+[\w.\"`]+\s*(?:=|<>|!=|\blike\b)\s*['\"]\x00['\"]",
    re.IGNORECASE,
)
_IDENT_BEFORE = re.compile(
    r"\b(?:from|into|update|join|table|exists|by|select|distinct)$", re.IGNORECASE
)
_PLACEHOLDER = re.compile(r"%s|%\(\w+\)s|\?|\$\d|(?<![:\w]):[a-zA-Z_]\w*")
_NUMERIC_SPEC = re.compile(r"%[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgG]$")
_SQL_CALL_WORDS = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "exec",
        "query",
        "sql",
        "raw",
        "mogrify",
        "select",
        "db",
    }
)
SQL_RECEIVERS = frozenset(
    {
        "cursor",
        "cur",
        "db",
        "conn",
        "connection",
        "session",
        "engine",
        "sql",
        "sqlite",
        "database",
        "c",
        "query",
        "con",
    }
)


def looks_like_sql(t: str) -> bool:
    return bool(_SQL_STATEMENT.search(t) or _SQL_SELECT_STAR.search(t) or _SQL_WHERE.search(t))


def _is_identifier_slot(t: str, offset: int) -> bool:
    """Does the slot stand for a table or column name rather than a value?"""
    before, after = t[:offset].rstrip(), t[offset + 1 :].lstrip()
    if before.endswith(("'", '"', "%")) or after.startswith(("'", '"', "%")):
        return False  # a quoted value
    if after.startswith(".") or before.endswith("."):
        return True  # schema.table
    if after.startswith("=") and re.search(r"(?:\bset|,)$", before, re.IGNORECASE):
        return True  # SET col = ...
    return bool(_IDENT_BEFORE.search(before))


def _numeric_slot(b: Built, slot: Slot) -> bool:
    if b.how != "%-formatting":
        return False
    return False if slot.expr is None else bool(_NUMERIC_SPEC.search(_raw_before(b, slot)))


def _raw_before(b: Built, slot: Slot) -> str:
    left = b.node.child_by_field_name("left")
    if left is None:
        return ""
    raw = text(left)
    idx = b.text[: slot.offset].count(SLOT)
    specs = list(
        re.finditer(
            r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
            r"[diouxXeEfFgGcrsa]",
            raw,
        )
    )
    return specs[idx].group(0) if idx < len(specs) else ""


def _dangerous_sql(
    scope: Scope, b: Built, prefix: str = ""
) -> tuple[Taint, bool, list[Slot]] | None:
    """(strongest taint, all-numeric, slots) of the injectable slots, or None."""
    full = prefix + b.text
    risky: list[Taint] = []
    slots: list[Slot] = []
    numeric = True
    for s in b.slots:
        taint = slot_taint(scope, b, s, SQL)
        if _is_identifier_slot(full, s.offset + len(prefix)):
            # A table or column name: from request data always; from a parameter only in
            # a query that binds no values (one that does is the dynamic-table idiom).
            if taint.level < Level.SOURCE and (
                taint.level < Level.PARAM or _PLACEHOLDER.search(full)
            ):
                continue
        elif taint.level < Level.LOCAL:
            continue
        risky.append(taint)
        slots.append(s)
        numeric = numeric and (_numeric_slot(b, s) or taint.scalar)
    return (strongest(risky), numeric, slots) if risky else None


def _consumers(scope: Scope, node: Node) -> list[Node]:
    """Calls that receive the value of ``node``: directly, or through the variable it is
    assigned to."""
    cur = node
    while cur.parent is not None and cur.parent.type == "parenthesized_expression":
        cur = cur.parent
    parent = cur.parent
    if parent is not None and parent.type == "argument_list" and parent.parent is not None:
        return [parent.parent]
    names = [
        d
        for ds in scope.defs.values()
        for d in ds
        if d.value is not None
        and d.value.start_byte <= node.start_byte
        and node.end_byte <= d.value.end_byte
    ]
    out: list[Node] = []
    for d in names:
        for n in scope.select("call"):
            if n.start_byte < d.pos:
                continue
            argl = n.child_by_field_name("arguments")
            if argl is None:
                continue
            for ident in (x for x in _descend(argl) if x.type == "identifier"):
                if text(ident) == d.name and d in scope.reaching(d.name, ident):
                    out.append(n)
                    break
    return out


def _descend(n: Node) -> Iterator[Node]:
    stack = list(n.named_children)
    while stack:
        cur = stack.pop()
        yield cur
        if cur.type not in ("lambda", "call"):
            stack.extend(cur.named_children)


def _is_sql_call(name: str) -> bool:
    parts = name.split(".")
    return bool(set(words(parts[-1])) & _SQL_CALL_WORDS) or any(
        set(words(p)) & SQL_RECEIVERS for p in parts[:-1]
    )


_SQL_ROW = SinkRow(
    "py.sql-injection",
    SQL,
    fires=Level.LOCAL,
    scalars=True,
    anchor=Level.LOCAL,
    reaches="{where}",
    confidence=(0.9, 0.9),
)
SQL_NUMBERS = replace(
    _SQL_ROW,
    title="SQL built from numbers by formatting",
    message="The query is built with {how}{from_origin}{runs}{note}. The values are numbers "
    "(a %d conversion or an int annotation), so this is not injectable today, but it bypasses "
    "parameter binding and annotations are not enforced. Pass values as query parameters.",
    grade=Grade(Level.CONST, Severity.WARNING),
    confidence=(0.5, 0.5),
)
SQL_EXECUTED = replace(
    _SQL_ROW,
    title="SQL injection: query built from a string",
    message="The SQL text is built with {how}{from_origin}{runs}{note}; a value containing a "
    'quote changes the query. Pass values as parameters, e.g. cursor.execute("... WHERE id = '
    '%s", (value,)); table or column names must come from an allow-list.',
    grade=None,
)
"""A query built from strings that an execute() of the function runs: always an error."""
SQL_STRING = replace(SQL_EXECUTED, grade=Grade(Level.PARAM, None, Severity.WARNING))
"""A query built from strings whose execution is not seen: a computed value is a warning."""


def check_sql(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    reported: set[int] = set()
    candidates: list[tuple[Built, str]] = [(b, "") for b in outermost_builds(scope)]
    candidates += _augmented(scope)
    for b, prefix in candidates:
        if not b.known or not looks_like_sql(prefix + b.text):
            continue
        danger = _dangerous_sql(scope, b, prefix)
        if danger is None:
            continue
        taint, numeric, risky = danger
        reported.add(b.node.id)
        calls = [c for c in _consumers(scope, b.node) if _is_sql_call(call_name(c))]
        target = calls[0] if calls else None
        where = f"`{call_name(target)}` at line {line(target)}" if target is not None else None
        row = SQL_NUMBERS if numeric else SQL_EXECUTED if target is not None else SQL_STRING
        hit = flow_hit(
            ctx,
            scope,
            row,
            b.node,
            taint,
            [s.expr for s in risky if s.expr is not None],
            span=risky_span(b, risky),
            how=b.how,
            where=where or "the query",
            runs=f" and executed by {where}" if where else "",
        )
        if hit is not None:
            hits.append(hit)
    hits += _sql_sinks_only(ctx, scope, reported)
    return hits


def _augmented(scope: Scope) -> list[tuple[Built, str]]:
    """``sql += "... '" + value + "'"`` where ``sql`` started as SQL text."""
    out: list[tuple[Built, str]] = []
    for defs in scope.defs.values():
        if not any(d.kind == "aug" for d in defs):
            continue  # nothing appended to this name
        first = next((d for d in defs if d.kind == "assign" and d.value is not None), None)
        if first is None or first.value is None:
            continue
        start = template_of(first.value, scope)
        if start is None:
            continue
        for d in defs:
            if d.kind != "aug" or d.value is None or d.pos < first.pos:
                continue
            b = built(d.value, scope)
            if b is not None and looks_like_sql(b.text):
                continue  # reported as a build of its own
            if b is None:
                b = Built(d.value, SLOT, (Slot(d.value, 0),), "+=")
            out.append((Built(d.stmt, b.text, b.slots, "+= concatenation"), start[0]))
    return out


def _sql_sinks_only(ctx: Ctx, scope: Scope, reported: set[int]) -> list[StaticHit]:
    """A changed execute() whose query was built (unchanged) earlier in the function."""
    rule = RULES["py.sql-injection"]
    out: list[StaticHit] = []
    for n in scope.select("call"):
        if not ctx.touched(n) or not _is_sql_call(call_name(n)):
            continue
        first = next(iter(args(n)), None)
        if first is None or unparen(first).type != "identifier":
            continue
        ident = unparen(first)
        for d in scope.reaching(text(ident), ident):
            b = built(d.value, scope) if d.value is not None else None
            if b is None or not b.known or not looks_like_sql(b.text) or ctx.touched(d.stmt):
                continue
            danger = _dangerous_sql(scope, b)
            if danger is None or danger[1]:
                continue
            out.append(
                rule.hit(
                    line(n),
                    line(n),
                    "SQL injection: formatted query executed",
                    f"`{call_name(n)}` runs the query built with {b.how} at line {line(d.stmt)}"
                    f"{' from ' + danger[0].origin if danger[0].origin else ''}. Build the query "
                    "with placeholders and pass the values as parameters.",
                )
            )
            break
    return out
