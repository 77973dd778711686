"""Python bug rules and the two performance rules that earn their place.

Generic checks that ruff has (mutable defaults B006, `is` with a literal F632, bare except
E722, `== None` E711, assert on a tuple F631) are ruff's alone: see
:mod:`reviewbot.static.ruff_rules`. What stays here needs reviewbot's own view (unreachable
code, which ruff has only in preview; coroutines of this file called without await;
builtins shadowed by values; the performance rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import (
    LOOP_TYPES,
    call_name,
    contains,
    enclosing,
    end_line,
    is_constant,
    is_string,
    line,
    text,
    unparen,
)
from reviewbot.static.rules import RULES
from reviewbot.static.strings import built
from reviewbot.static.taint import Scope

if TYPE_CHECKING:
    from tree_sitter import Node

_SHADOWABLE = frozenset(
    {
        "list",
        "dict",
        "str",
        "int",
        "float",
        "set",
        "tuple",
        "bytes",
        "len",
        "type",
        "id",
        "input",
        "open",
        "max",
        "min",
        "sum",
        "map",
        "filter",
        "iter",
        "next",
        "sorted",
        "range",
        "zip",
        "print",
        "format",
        "hash",
        "any",
        "all",
        "object",
        "bool",
        "repr",
        "round",
        "abs",
        "vars",
        "dir",
        "enumerate",
        "reversed",
        "isinstance",
        "getattr",
        "setattr",
    }
)
_EXITS = frozenset({"return_statement", "raise_statement", "continue_statement", "break_statement"})


_BUG_TYPES = ("block", "expression_statement", "augmented_assignment", "call")


def check_bugs(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for n in scope.select(*_BUG_TYPES):
        t = n.type
        if t == "block":
            hits += _unreachable(ctx, n)
        elif t == "expression_statement" and ctx.touched(n):
            hits += _missing_await(ctx, n)
        elif t == "augmented_assignment" and ctx.touched(n):
            hits += _concat_in_loop(scope, n)
        elif t == "call" and ctx.touched(n) and call_name(n) == "re.compile":
            hits += _compile_in_loop(scope, n)
    hits += _shadowed(ctx, scope)
    return hits


def _unreachable(ctx: Ctx, block: Node) -> list[StaticHit]:
    stmts = [c for c in block.named_children if c.type != "comment"]
    for i, s in enumerate(stmts[:-1]):
        if s.type in _EXITS:
            dead = stmts[i + 1 :]
            first, last = dead[0], dead[-1]
            if not any(ctx.touched(d) for d in dead) or all(_placeholder(d) for d in dead):
                return []
            return [
                RULES["py.unreachable"].hit(
                    line(first),
                    end_line(last),
                    "unreachable code",
                    f"This code follows a `{s.type.split('_')[0]}` at line {line(s)} in the same "
                    "block and never runs. Remove it, or fix the control flow that was meant to "
                    "reach it.",
                )
            ]
    return []


def _placeholder(stmt: Node) -> bool:
    """``return; yield`` (an empty generator) and a lone ``pass`` are deliberate."""
    if stmt.type == "pass_statement":
        return True
    return (
        stmt.type == "expression_statement"
        and bool(stmt.named_children)
        and stmt.named_children[0].type == "yield"
    )


def _async_defs(ctx: Ctx) -> tuple[set[str], dict[int, set[str]]]:
    if "async" not in ctx.cache:
        top: set[str] = set()
        methods: dict[int, set[str]] = {}
        # Most files have no coroutines: skip the query over every function of them.
        for n in ctx.functions() if b"async" in ctx.src.data else ():
            if not n.children or n.children[0].type != "async":
                continue
            name = text(n.child_by_field_name("name"))
            cls = enclosing(n, {"class_definition", "function_definition"})
            if cls is None:
                top.add(name)
            elif cls.type == "class_definition":
                methods.setdefault(cls.id, set()).add(name)
        ctx.cache["async"] = (top, methods)
    result: tuple[set[str], dict[int, set[str]]] = ctx.cache["async"]
    return result


def _missing_await(ctx: Ctx, stmt: Node) -> list[StaticHit]:
    expr = stmt.named_children[0] if stmt.named_children else None
    if expr is None or expr.type != "call":
        return []
    top, methods = _async_defs(ctx)
    name = call_name(expr)
    is_async = name in top
    if name.startswith("self.") and name.count(".") == 1:
        cls = enclosing(stmt, {"class_definition"})
        is_async = cls is not None and name[5:] in methods.get(cls.id, set())
    if not is_async:
        return []
    return [
        RULES["py.missing-await"].hit(
            line(expr),
            end_line(expr),
            f"`{name}()` is a coroutine that is never awaited",
            f"`{name}` is an async def, so calling it only creates a coroutine: its body does not "
            "run and Python warns 'coroutine was never awaited'. Add `await`, or schedule it with "
            "asyncio.create_task.",
            suggestion=None,
        )
    ]


def _shadowed(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    out: list[StaticHit] = []
    defs, params = scope.defs, scope.params
    for name in _SHADOWABLE:
        if name not in defs and name not in params:
            continue
        # Only bindings to values that cannot be called: calling a variable bound to a class
        # or function is often the point (for type in types: type(x)).
        bound = [
            (d.stmt, d.pos)
            for d in scope.defs.get(name, [])
            if d.kind == "assign" and d.value is not None and _not_callable(d.value)
        ]
        if name in scope.params and scope.node.type == "function_definition":
            default = _param_default(scope.node, name)
            if default is not None and _not_callable(default):
                bound.append((default, default.end_byte))
        if not bound:
            continue
        for n in scope.select("call"):
            if call_name(n) != name:
                continue
            hit_def = next(((s, p) for s, p in bound if p <= n.start_byte), None)
            if hit_def is None:
                continue
            where = hit_def[0] if ctx.touched(hit_def[0]) else n if ctx.touched(n) else None
            if where is None:
                continue
            out.append(
                RULES["py.shadowed-builtin"].hit(
                    line(where),
                    line(where),
                    f"builtin `{name}` is shadowed",
                    f"`{name}` is re-bound at line {line(hit_def[0])}, so `{name}(...)` at line "
                    f"{line(n)} calls that value instead of the builtin. Rename the variable.",
                )
            )
            break
    return out


def _not_callable(value: Node) -> bool:
    value = unparen(value)
    return value.type in (
        "string",
        "concatenated_string",
        "integer",
        "float",
        "list",
        "dictionary",
        "set",
        "tuple",
        "list_comprehension",
        "dictionary_comprehension",
        "set_comprehension",
        "true",
        "false",
        "binary_operator",
    )


def _param_default(fn: Node, name: str) -> Node | None:
    params = fn.child_by_field_name("parameters")
    for p in params.named_children if params is not None else []:
        if (
            p.type in ("default_parameter", "typed_default_parameter")
            and text(p.child_by_field_name("name")) == name
        ):
            return p.child_by_field_name("value")
    return None


def _loop_in_scope(scope: Scope, n: Node) -> Node | None:
    """The innermost loop whose body holds ``n`` (not its iterable), in this scope."""
    cur = n
    while cur.parent is not None and cur.id != scope.node.id:
        parent = cur.parent
        if parent.type in ("function_definition", "class_definition", "lambda"):
            return None
        if parent.type in LOOP_TYPES:
            body = parent.child_by_field_name("body")
            if body is not None and body.id == cur.id and contains(scope.node, parent):
                return parent
        cur = parent
    return None


def _concat_in_loop(scope: Scope, n: Node) -> list[StaticHit]:
    op = n.child_by_field_name("operator")
    left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
    if op is None or op.type != "+=" or left is None or right is None:
        return []
    loop = _loop_in_scope(scope, n)
    if loop is None or not (is_string(unparen(right)) or built(right, scope) is not None):
        return []
    if left.type == "identifier":
        # CPython appends in place to a local str with no other reference, so a single loop
        # is usually fine; a loop inside a loop multiplies the copies that remain.
        if _loop_in_scope(scope, loop) is None:
            return []
        inits = [
            d
            for d in scope.defs.get(text(left), [])
            if d.kind == "assign" and d.pos <= loop.start_byte and d.value is not None
        ]
        if not inits or not all(
            is_string(unparen(d.value)) or built(d.value, scope) is not None
            for d in inits
            if d.value is not None
        ):
            return []
    elif left.type not in ("attribute", "subscript"):
        return []
    return [
        RULES["py.str-concat-loop"].hit(
            line(n),
            end_line(n),
            "string built with += in a loop",
            f"Each `{text(left)} += ...` copies the whole string built so far (CPython's in-place "
            "append does not apply to attributes, items or strings with other references), so the "
            "loop is quadratic in the output size. Append the parts to a list and ''.join() it "
            "once.",
            confidence=0.6,
        )
    ]


def _compile_in_loop(scope: Scope, n: Node) -> list[StaticHit]:
    argl = n.child_by_field_name("arguments")
    first = argl.named_children[0] if argl is not None and argl.named_children else None
    if first is None or not is_constant(first) or _loop_in_scope(scope, n) is None:
        return []
    return [
        RULES["py.regex-compile-loop"].hit(
            line(n),
            end_line(n),
            "re.compile of a constant pattern inside a loop",
            "The pattern is the same on every iteration; compile it once outside the loop (or at "
            "module level) and reuse the compiled object.",
            confidence=0.6,
        )
    ]
