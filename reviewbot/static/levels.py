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
    joined: bool = False
    """The value was joined onto a base path as a later component (``os.path.join(base, v)``,
    ``Path(base) / v``, ``f"{base}/{v}"``): a name meant to stay inside the base."""


CONST = Taint(Level.CONST)
LOCAL = Taint(Level.LOCAL)


def strongest(taints: Iterable[Taint]) -> Taint:
    """The most dangerous taint; among equals, a textual one over a scalar one, then a
    joined one, then one that names its origin (the first of equals wins)."""
    best = CONST
    best_key = _rank(best)
    for t in taints:
        key = _rank(t)
        if key > best_key:
            best, best_key = t, key
    return best


def _rank(t: Taint) -> tuple[int, bool, bool, bool]:
    return (t.level, not t.scalar, t.joined, bool(t.origin))


@dataclass(frozen=True, slots=True)
class Sink:
    """A kind of sink: its own sanitiser names on top of the general ones."""

    name: str
    safe_calls: frozenset[str] = frozenset()
    trust_names: bool = True
    """Does a helper defined in the file and named like a sanitiser (``safe_join``,
    ``clean_name``) count as one without looking at its body? True where the sanitising is
    done by code a summary cannot judge (escaping by ``replace`` chains); False for paths,
    where containment is a visible check or a known call."""
