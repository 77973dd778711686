"""Taint levels and sinks, shared by the taint view and the rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    CONST = 0
    LOCAL = 1
    PARAM = 2
    SOURCE = 3


@dataclass(frozen=True, slots=True)
class Taint:
    level: Level
    origin: str = ""
    """What the value comes from, for messages: "parameter `sid`", "request data ..."."""
    scalar: bool = False
    """A parameter annotated int/float/bool/...: not enforced, but it carries no text."""


CONST = Taint(Level.CONST)
LOCAL = Taint(Level.LOCAL)


def strongest(taints: Iterable[Taint]) -> Taint:
    """The most dangerous taint; among equals, a textual one over a scalar one."""
    best = CONST
    for t in taints:
        if t.level > best.level or (t.level == best.level and (
                (best.scalar and not t.scalar) or (not best.origin and t.origin))):
            best = t
    return best


@dataclass(frozen=True, slots=True)
class Sink:
    """A kind of sink: its own sanitiser names on top of the general ones."""

    name: str
    safe_calls: frozenset[str] = frozenset()
