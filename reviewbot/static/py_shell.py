"""Shell commands from strings (CWE-78): a non-constant command run through a shell
(``os.system``, ``shell=True``, ``sh -c``), and command lines built from parameters for
helpers that run commands (``run_ssh(f"rm {path}")``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.py_sql import SQL_RECEIVERS, looks_like_sql
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import (
    args,
    call_name,
    is_constant,
    kwarg,
    last_name,
    line,
    string_text,
    text,
    unparen,
    words,
)
from reviewbot.static.sink_flow import Grade, SinkRow, flow_hit
from reviewbot.static.strings import Built, built
from reviewbot.static.taint import Level, Scope, Sink

if TYPE_CHECKING:
    from tree_sitter import Node

SHELL = Sink("shell", frozenset({"quote", "shlex.join"}))
_SHELL_CALLS = frozenset(
    {
        "os.system",
        "os.popen",
        "os.popen2",
        "os.popen3",
        "os.popen4",
        "popen2.popen2",
        "popen2.popen3",
        "popen2.popen4",
        "commands.getoutput",
        "commands.getstatusoutput",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "asyncio.create_subprocess_shell",
    }
)
_RUNNER_VERBS = frozenset({"run", "execute", "popen", "spawn"})
_RUNNER_NOUNS = frozenset({"cmd", "command", "ssh", "cli", "shell", "subprocess"})
_RUNNER_NAMES = frozenset({"call", "check_call", "check_output", "getoutput"})
_CLI_PROXIES = frozenset({"adb", "fastboot"})
"""Receivers whose every method runs the tool of that name (mobly's AdbProxy and the like)."""

_SHELL_GRADE = Grade(Level.PARAM, None, Severity.WARNING)
"""A parameter or request data in a shell command is an error; a computed value a warning."""
SHELL_STRING = SinkRow(
    "py.shell-injection",
    SHELL,
    fires=Level.LOCAL,
    anchor=Level.LOCAL,
    title="shell command from a non-constant string",
    message="`{name}` runs its command {runs}; the command string is{how}{from_origin}{note}, "
    "so shell syntax in the value (; | $() `) runs other commands. Pass an argument list to "
    "subprocess.run without shell=True, or quote each value with shlex.quote.",
    grade=_SHELL_GRADE,
    confidence=(0.9, 0.9),
)
SHELL_SCRIPT = SinkRow(
    "py.shell-injection",
    SHELL,
    fires=Level.LOCAL,
    anchor=Level.LOCAL,
    title="shell -c with a non-constant script",
    message="`{name}` starts a shell and hands it a script built from {origin}{note}; shell "
    "syntax in the value runs other commands. Run the program directly with an argument "
    'list, or pass values as positional parameters: ["sh", "-c", \'cmd "$1"\', "sh", '
    "value].",
    origin="a non-constant value",
    grade=_SHELL_GRADE,
    confidence=(0.9, 0.9),
)

COMMAND_STRING = SinkRow(
    "py.command-string",
    SHELL,
    anchor=Level.PARAM,
    title="command line built from a string",
    message="A command line is built with {how}{from_origin} and passed to `{name}` (line "
    "{line}). If it reaches a shell or ssh, spaces and shell syntax in the value change the "
    "command. Pass the program and its arguments as a list.",
    grade=None,
    confidence=(0.6, 0.6),
)
"""A command line built by formatting, given to a helper that runs commands."""


def check_shell(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for n in scope.select("call"):
        name = call_name(n)
        positional = args(n)
        if not positional:
            continue
        cmd = positional[0]
        shell_kw = kwarg(n, "shell")
        via_shell = name in _SHELL_CALLS or (shell_kw is not None and shell_kw.type == "true")
        if _shell_c_list(cmd):
            hits += _shell_c(ctx, scope, n, name, unparen(cmd))
            continue
        if via_shell:
            if unparen(cmd).type in ("list", "tuple"):
                continue
            b = built(cmd, scope)
            hit = flow_hit(
                ctx,
                scope,
                SHELL_STRING,
                n,
                scope.level(cmd, SHELL),
                [cmd],
                name,
                how=f" built with {b.how}" if b is not None else " not constant",
                runs="with shell=True" if name not in _SHELL_CALLS else "through the shell",
            )
            if hit is not None:
                hits.append(hit)
        elif is_runner(name):
            # The command is the first argument, except for helpers named after commands
            # (exec_adb_cmd(name, args)), whose every argument goes into the command line.
            nouns = set(words(last_name(name))) & _RUNNER_NOUNS
            hits += _command_strings(ctx, scope, n, name, positional if nouns else positional[:1])
    return hits


_SHELLS = frozenset(
    {
        "sh",
        "bash",
        "zsh",
        "dash",
        "ksh",
        "/bin/sh",
        "/bin/bash",
        "/usr/bin/bash",
        "/usr/bin/env bash",
        "cmd",
        "cmd.exe",
        "powershell",
        "pwsh",
    }
)


def _shell_c_list(cmd: Node) -> bool:
    """["bash", "-c", <command>] and the like."""
    cmd = unparen(cmd)
    if cmd.type not in ("list", "tuple"):
        return False
    items = cmd.named_children
    return (
        len(items) >= 3
        and is_constant(items[0])
        and is_constant(items[1])
        and string_text(items[0]).strip() in _SHELLS
        and string_text(items[1]).strip().lower() in ("-c", "/c", "-command")
    )


def _shell_c(ctx: Ctx, scope: Scope, n: Node, name: str, cmd: Node) -> list[StaticHit]:
    script = cmd.named_children[2]
    hit = flow_hit(ctx, scope, SHELL_SCRIPT, n, scope.level(script, SHELL), [script], name)
    return [hit] if hit is not None else []


def is_runner(name: str) -> bool:
    parts = name.replace("[", ".").replace("]", "").replace("'", "").replace('"', "").split(".")
    last = parts[-1]
    if last in _RUNNER_NAMES:
        return True
    if any(set(words(p)) & SQL_RECEIVERS for p in parts[:-1]):
        return False
    if len(parts) > 1 and set(words(parts[-2])) & _CLI_PROXIES:
        return True  # self.adb.pull(...): each method of an adb proxy is an adb subcommand
    w = words(last)
    if not w:
        return False
    if w in (["system"], ["exec"]) or (set(w) & {"exec", "system"} and set(w) & _RUNNER_NOUNS):
        return True  # exec_adb_cmd (not exec_module, not SystemExit)
    if w[0] in _RUNNER_VERBS or w[-1] in _RUNNER_VERBS:
        return True  # run_ssh, cli_run, execute_command_and_parse
    return w[0] in _RUNNER_NOUNS and bool(set(w) & _RUNNER_VERBS)  # ssh_execute


def _command_strings(
    ctx: Ctx, scope: Scope, call: Node, name: str, positional: list[Node]
) -> list[StaticHit]:
    for a in positional:
        a = unparen(a)
        builds: list[tuple[Built, Node]] = []
        b = built(a, scope)
        if b is not None:
            builds.append((b, b.node))
        elif a.type == "identifier":
            for d in scope.reaching(text(a), a):
                if d.kind == "mutate":
                    continue  # args.append(f"--x={v}") is one argv entry, not a command line
                db = built(d.value, scope) if d.value is not None else None
                if db is not None:
                    builds.append((db, d.stmt))
        for b, where in builds:
            if b.known and looks_like_sql(b.text):
                continue  # the SQL rule's business
            taint = b.taint(scope, SHELL)
            at = str(line(call))
            hit = flow_hit(
                ctx,
                scope,
                COMMAND_STRING,
                where,
                taint,
                [s.expr for s in b.slots if s.expr is not None],
                name,
                how=b.how,
                line=at,
            )
            if hit is None:  # the command runs at a changed line
                hit = flow_hit(
                    ctx, scope, COMMAND_STRING, call, taint, [], name, how=b.how, line=at
                )
            if hit is not None:
                return [hit]
    return []
