"""Commands the shell rules of :mod:`py_shell` do not see (CWE-78).

- ``shell=True`` with a list: the shell runs the first element as a script (the rest become
  its ``$0``, ``$1``...), so a non-constant first element is shell injection;
- a command line from a parameter or request data split into argv (``cmd.split()``,
  ``shlex.split(cmd)``): no shell, but the outsider picks the program and its options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.py_shell import SHELL
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import args, call_name, is_constant, kwarg, last_name, text, unparen
from reviewbot.static.sink_flow import Grade, SinkRow, flow_hit
from reviewbot.static.taint import Level, Scope

if TYPE_CHECKING:
    from tree_sitter import Node

_EXEC = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "check_call",
        "check_output",
        "Popen",
        "asyncio.create_subprocess_exec",
        "os.execv",
        "os.execvp",
        "os.execvpe",
        "os.execve",
        "os.spawnv",
        "os.spawnvp",
    }
)

SHELL_LIST = SinkRow(
    "py.shell-injection",
    SHELL,
    fires=Level.LOCAL,
    anchor=Level.LOCAL,
    title="shell=True with a non-constant command",
    message="With shell=True the shell runs the list's first element as a script; it comes "
    "from {origin}{note}, so shell syntax in it (; | $() `) runs other commands. Drop "
    "shell=True and pass the program and its arguments as the list.",
    origin="a non-constant value",
    grade=Grade(Level.PARAM, None, Severity.WARNING),
    confidence=(0.9, 0.9),
)
SPLIT_COMMAND = SinkRow(
    "py.command-split",
    SHELL,
    anchor=Level.PARAM,
    title="command line from outside split into argv",
    message="`{name}` runs `{split}` of {origin}{note}: whoever supplies the string chooses the "
    "program and its options (--output=/etc/..., -o ProxyCommand=...). Take the program from "
    'a constant and pass each value as its own list element (after "--" where the program '
    "supports it).",
    origin="a non-constant string",
    confidence=(0.9, 0.9),
)


def check_commands(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for n in scope.select("call"):
        name = call_name(n)
        if name not in _EXEC:
            continue
        positional = args(n)
        if not positional:
            continue
        cmd = unparen(
            positional[1] if name.startswith("os.spawn") and len(positional) > 1 else positional[0]
        )
        shell = kwarg(n, "shell")
        if shell is not None and shell.type == "true":
            hit = _shell_list(ctx, scope, n, name, cmd)
        else:
            hit = _split(ctx, scope, n, name, cmd)
        if hit is not None:
            hits.append(hit)
    return hits


def _shell_list(ctx: Ctx, scope: Scope, n: Node, name: str, cmd: Node) -> StaticHit | None:
    if cmd.type not in ("list", "tuple") or not cmd.named_children:
        return None
    head = cmd.named_children[0]
    if is_constant(head):
        return None
    return flow_hit(ctx, scope, SHELL_LIST, n, scope.level(head, SHELL), [head], name)


def _split_source(scope: Scope, cmd: Node) -> tuple[Node, Node] | None:
    """(the split call, the string it splits) for ``s.split()`` / ``shlex.split(s)``, in
    place or assigned to the name passed."""
    if cmd.type == "identifier":
        for d in scope.reaching(text(cmd), cmd):
            if d.kind == "assign" and d.value is not None:
                got = _split_source(scope, unparen(d.value))
                if got is not None:
                    return got
        return None
    if cmd.type != "call":
        return None
    name = call_name(cmd)
    positional = args(cmd)
    if name == "shlex.split":
        return (cmd, positional[0]) if positional else None
    if last_name(name) == "split" and "." in name and not positional:
        fn = cmd.child_by_field_name("function")
        obj = fn.child_by_field_name("object") if fn is not None else None
        return (cmd, obj) if obj is not None else None
    return None


def _split(ctx: Ctx, scope: Scope, n: Node, name: str, cmd: Node) -> StaticHit | None:
    got = _split_source(scope, cmd)
    if got is None:
        return None
    split, line_src = got
    if is_constant(line_src):
        return None
    return flow_hit(
        ctx,
        scope,
        SPLIT_COMMAND,
        n,
        scope.level(line_src, SHELL),
        [cmd, line_src],
        name,
        split=call_name(split),
    )
