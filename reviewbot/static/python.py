"""Python rules: build the taint scopes of the functions the change touches, run each rule.

Rule families live in their own modules: :mod:`py_sql` (SQL), :mod:`py_shell` (shell),
:mod:`py_paths` (path traversal, tar slip), :mod:`py_web` (XSS), :mod:`py_security` (eval,
deserialisation, TLS, secrets, hashes), :mod:`py_bugs` (bugs and performance),
:mod:`py_sinks` (data-flow sinks as table rows: open redirect, SSRF, XML, LDAP, XPath),
:mod:`py_commands` (shell=True lists, split command lines), :mod:`py_crypto` (weak hashes,
ciphers, keys, random) and :mod:`py_config` (cleartext transport, debug mode, mktemp, XML
entity resolution). Each gets a :class:`~reviewbot.static.pyctx.Ctx` and one
:class:`~reviewbot.static.taint.Scope` at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from reviewbot.context.extract import SourceFile
from reviewbot.static.base import StaticHit
from reviewbot.static.py_bugs import check_bugs
from reviewbot.static.py_commands import check_commands
from reviewbot.static.py_config import check_config
from reviewbot.static.py_crypto import check_crypto
from reviewbot.static.py_paths import check_path
from reviewbot.static.py_security import check_security
from reviewbot.static.py_shell import check_shell
from reviewbot.static.py_sinks import check_sinks
from reviewbot.static.py_sql import check_sql
from reviewbot.static.py_web import check_xss
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import SCOPE_TYPES, call_name_cache
from reviewbot.static.taint import Scope

if TYPE_CHECKING:
    from tree_sitter import Node

_DEFINITIONS = SCOPE_TYPES | {"decorated_definition", "comment"}
"""Top-level nodes that hold none of the module scope's nodes (see :func:`pynodes.index_scope`)."""

ScopeRule = Callable[[Ctx, Scope], list[StaticHit]]
SCOPE_RULES: tuple[ScopeRule, ...] = (
    check_sql,
    check_shell,
    check_path,
    check_xss,
    check_security,
    check_bugs,
    check_sinks,
    check_commands,
    check_crypto,
    check_config,
)


def analyze(src: SourceFile, changed: frozenset[int]) -> list[StaticHit]:
    with call_name_cache():  # one file's memo, dropped with its tree's nodes
        return _analyze(src, changed)


def _analyze(src: SourceFile, changed: frozenset[int]) -> list[StaticHit]:
    tree = src.tree
    if tree is None or not changed:
        return []
    module = Scope(tree.root_node)
    ctx = Ctx(src, changed, module)
    # Touched functions, each before the functions nested in it (later siblings first,
    # the order a stack walk from the root visits them).
    touched = ctx.touched_functions()
    touched.sort(key=lambda fn: (-fn.end_byte, fn.start_byte))
    # The module scope's nodes all lie in its top-level statements other than definitions;
    # a rule reports only where the change touches one of a scope's nodes (or a binding
    # statement of the scope), so a change inside functions only leaves it unanalysed (and
    # unindexed, unless a function's rule asks the module for a binding).
    own = [module] if _module_body_touched(ctx, tree.root_node) else []
    scopes = [*own, *(Scope(fn, module) for fn in touched)]
    best: dict[tuple[str, int, int], StaticHit] = {}
    for scope in scopes:
        for rule in SCOPE_RULES:
            for h in rule(ctx, scope):
                # One finding per weakness and place: HttpResponse(f"<p>{q}</p>") is both a
                # response write and an HTML build; keep the more severe.
                key = (h.cwe or h.rule_id, h.line, h.end_line)
                old = best.get(key)
                if old is None or h.severity.rank > old.severity.rank:
                    best[key] = h
    return sorted(best.values(), key=lambda h: (h.line, h.end_line, h.rule_id))


def _module_body_touched(ctx: Ctx, root: Node) -> bool:
    """Does the change touch a top-level statement that is not a definition?"""
    return any(
        child.type not in _DEFINITIONS and ctx.touched(child) for child in root.named_children
    )
