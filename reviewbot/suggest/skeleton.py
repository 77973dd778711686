"""The static backend's test suggestions: a pytest skeleton per target, from its signature.

Parameters with literal defaults are parametrized over their default (a row to extend),
every explicit ``raise X`` in the body gets a ``pytest.raises(X)`` test, and the module is
marked skipped until the TODO values are filled in, so the file can be dropped into a test
suite as it is. Skeletons are checked like model suggestions (levels 1-2) and never run.
"""

from __future__ import annotations

import ast
import builtins
import re

from reviewbot.suggest.targets import Param, Target

SKELETON_MARK = "reviewbot skeleton"
_RESERVED = frozenset({"request"})
"""Names pytest refuses as parametrize arguments."""


def test_path(t: Target) -> str:
    stem = t.module.rsplit(".", 1)[-1]
    return f"tests/test_{stem}_{_snake(t.qualname)}.py"


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.replace(".", "_"))
    return re.sub(r"_+", "_", s).lower().strip("_") or "target"


def _literal(text: str | None) -> str | None:
    """The default as a literal expression, or None when it is not a literal."""
    if text is None:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text if "\n" not in text else repr(value)


def _is_builtin_exception(name: str) -> bool:
    obj = getattr(builtins, name, None)
    return isinstance(obj, type) and issubclass(obj, BaseException)


def _call_args(params: list[Param], parametrized: set[str]) -> tuple[list[str], list[str]]:
    """(setup lines, call arguments) for the parameters after self/cls."""
    setup: list[str] = []
    args: list[str] = []
    for p in params:
        if p.kind in ("var_positional", "var_keyword"):
            setup.append(
                f"# {'*' if p.kind == 'var_positional' else '**'}{p.name}: "
                "add extra arguments here if needed"
            )
            continue
        var = _argname(p.name) if p.name in parametrized else p.name
        if p.name not in parametrized:
            if p.default is not None:
                continue  # a non-literal default: left to the function
            setup.append(f"{p.name} = ...  # TODO: a value for {p.name}")
        if p.kind == "positional_only" or (p.kind == "positional" and p.default is None):
            args.append(var)
        else:
            args.append(f"{p.name}={var}")
    return setup, args


def _argname(name: str) -> str:
    return f"{name}_" if name in _RESERVED else name


def skeleton_code(t: Target) -> str:
    """A complete pytest module for ``t`` (imports only pytest, asyncio and ``t.module``)."""
    params = list(t.params)
    if t.kind in ("method", "classmethod", "property") and params:
        params = params[1:]  # self / cls
    literal = {
        p.name: lit
        for p in params
        if p.kind not in ("var_positional", "var_keyword")
        and (lit := _literal(p.default)) is not None
    }
    names, raises = _raised(t)
    base = f"test_{_snake(t.qualname)}"
    body = _main_test(t, base, params, literal)
    for expr, exc in raises:
        body += ["", "", *_raises_test(t, base, params, expr, exc)]
    return "\n".join(_module_head(t, names) + ["", *body]) + "\n"


def _raised(t: Target) -> tuple[set[str], list[tuple[str, str]]]:
    """The names to import from ``t.module``, and for each exception ``t`` raises: (the
    expression for pytest.raises, the name the code raises)."""
    top = (t.class_name or t.name).split(".")[0]
    names = {top}
    raises: list[tuple[str, str]] = []
    for exc in t.raises:
        head = exc.split(".", 1)[0]
        if _is_builtin_exception(exc):
            raises.append((exc, exc))
        elif head in t.module_names:
            names.add(head)  # defined or imported by the module under test
            raises.append((exc, exc))
        else:
            raises.append(("Exception", exc))  # not importable from the module as such
    return names, raises


def _module_head(t: Target, names: set[str]) -> list[str]:
    """The docstring, the imports and the skip mark."""
    lines = [
        f'"""Tests for {t.full_name} ({SKELETON_MARK}: generated from its signature).',
        "",
        "Fill in the values marked TODO and the expected results, then delete the skip mark.",
        '"""',
        "",
    ]
    if t.is_async:
        lines.append("import asyncio")
        lines.append("")
    lines += [
        "import pytest",
        "",
        f"from {t.module} import {', '.join(sorted(names))}",
        "",
        f'pytestmark = pytest.mark.skip(reason="{SKELETON_MARK}: fill in the TODO values first")',
        "",
    ]
    return lines


def _call(t: Target, arglist: list[str]) -> str:
    owner = t.class_name
    if owner is None:
        expr = f"{t.name}({', '.join(arglist)})"
    elif t.kind == "property":
        expr = f"instance.{t.name}"
    elif t.kind in ("staticmethod", "classmethod"):
        expr = f"{owner}.{t.name}({', '.join(arglist)})"
    else:
        expr = f"instance.{t.name}({', '.join(arglist)})"
    return f"asyncio.run({expr})" if t.is_async and t.kind != "property" else expr


def _instance_lines(t: Target) -> list[str]:
    if t.class_name is None or t.kind in ("staticmethod", "classmethod"):
        return []
    return [f"instance = {t.class_name}()  # TODO: constructor arguments"]


def _main_test(t: Target, base: str, params: list[Param], literal: dict[str, str]) -> list[str]:
    """The test of the result, parametrized over the literal defaults."""
    body: list[str] = []
    if literal:
        argnames = [_argname(n) for n in literal]
        names_src = (
            f'"{argnames[0]}"'
            if len(argnames) == 1
            else "(" + ", ".join(f'"{n}"' for n in argnames) + ")"
        )
        row = (
            literal[next(iter(literal))]
            if len(literal) == 1
            else "(" + ", ".join(literal.values()) + ")"
        )
        body.append(f"@pytest.mark.parametrize({names_src}, [{row}])  # the defaults; add cases")
    body.append(f"def {base}({', '.join(_argname(n) for n in literal)}):")
    setup, args = _call_args(params, set(literal))
    inner = [
        *_instance_lines(t),
        *setup,
        f"result = {_call(t, args)}",
        "assert result == ...  # TODO: the expected result",
    ]
    return body + [f"    {ln}" for ln in inner]


def _raises_test(t: Target, base: str, params: list[Param], expr: str, exc: str) -> list[str]:
    """The test that ``t`` raises ``exc`` (caught as ``expr``)."""
    setup, args = _call_args(params, set())
    hint = [f"# TODO: arguments for which {t.name}() raises {exc}"] if setup else []
    if expr != exc:
        hint.append(f"# TODO: {exc} is not importable from {t.module}; name its class")
    inner = [
        *_instance_lines(t),
        *hint,
        *setup,
        f"with pytest.raises({expr}):",
        f"    {_call(t, args)}",
    ]
    return [f"def {base}_raises_{_snake(exc)}():", *(f"    {ln}" for ln in inner)]
