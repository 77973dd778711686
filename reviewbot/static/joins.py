"""Path joining in the taint view: a parameter joined onto a base path is marked ``joined``.

``os.path.join(base, name)``, ``base / name``, ``base + "/" + name``, ``f"{base}/{name}"``
and ``"%s/%s" % (base, name)`` all put ``name`` under ``base``; path-traversal rules report
such a component only when it comes from a parameter or the request (not from the local
user, who may name any file anyway).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from reviewbot.static.levels import Level, Taint
from reviewbot.static.pynodes import has_interpolation, text, unparen
from reviewbot.static.sources import LOCAL_INPUT

if TYPE_CHECKING:
    from tree_sitter import Node

PATH_JOIN = re.compile(r"^(?:(?:os\.path|posixpath|ntpath|path)\.)?join$|\.joinpath$")
_PERCENT_SPEC = re.compile(
    r"(?<!%)%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
    r"[diouxXeEfFgGcrsa]"
)


def percent_slots(literal: str) -> tuple[int, set[int]]:
    """How many ``%`` conversions ``literal`` holds, and which of them follow a path
    separator (``"%s/%s"`` -> ``(2, {1})``)."""
    specs = [m.start() for m in _PERCENT_SPEC.finditer(literal)]
    return len(specs), {i for i, at in enumerate(specs) if at and literal[at - 1] in "/\\"}


def joined(t: Taint) -> Taint:
    """``t`` as a component joined onto a base path (only text from a parameter or the
    request counts)."""
    if (
        t.level >= Level.PARAM
        and not t.scalar
        and not t.joined
        and not t.origin.startswith(LOCAL_INPUT)
    ):
        return replace(t, joined=True)
    return t


def ends_with_slash(n: Node) -> bool:
    """Does the expression ``n`` end with a string literal ending in a path separator?"""
    n = unparen(n)
    while n.type == "binary_operator":
        right = n.child_by_field_name("right")
        if right is None:
            return False
        n = unparen(right)
    return (
        n.type == "string"
        and not has_interpolation(n)
        and text(n).rstrip("'\"").endswith(("/", "\\"))
    )
