"""Which functions get test suggestions: new or changed public Python functions and methods.

A definition is a target when its lines (decorators included) touch an added line of the
diff, every name on its qualified path is public (no leading underscore), it is not nested
in another function, and its file is importable code rather than a test. Definitions come
from the head file's tree-sitter tree (:class:`SourceFile`), parsed once by the engine.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from reviewbot.diff.model import Diff, FileStatus
from reviewbot.sources import FileReader

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.context.extract import SourceFile
    from reviewbot.prepare import PreparedFile

Read = Callable[[str], "bytes | None"]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str
    """positional_only | positional | keyword_only | var_positional | var_keyword"""
    default: str | None = None
    """Source text of the default value, None when the parameter has none."""


@dataclass(frozen=True, slots=True)
class Target:
    path: str
    """Repository path of the file that defines it."""
    module: str
    """Dotted import name, e.g. ``calc.ops``."""
    import_root: str
    """Repository directory that must be on sys.path ('' for the repository root)."""
    qualname: str
    """Name inside the module, e.g. ``Cart.total``."""
    line: int
    """Line of the ``def`` (1-based, head version)."""
    end_line: int
    params: tuple[Param, ...]
    raises: tuple[str, ...]
    """Exception names the body raises explicitly (``raise X(...)``), in order, unique."""
    is_async: bool
    kind: str
    """function | method | staticmethod | classmethod | property"""
    code: str
    """The definition's source, decorators included."""
    context: str = ""
    """For methods: the class line and its ``__init__`` (how to build an instance)."""
    module_names: frozenset[str] = frozenset()
    """Names bound at the module's top level (definitions, imports, assignments)."""

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def class_name(self) -> str | None:
        return self.qualname.rsplit(".", 1)[0] if "." in self.qualname else None

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.qualname}"


class HeadFiles:
    """Head versions of files: the engine's prepared sources first, then the reader.

    A file the diff deletes or renames away reads as None. A modified file whose head the
    reader could not supply reads as None too (its synthesized stand-in is only partial);
    an added file's synthesized stand-in is the whole file, so it is used.
    """

    def __init__(self, diff: Diff, files: Sequence[PreparedFile], reader: FileReader) -> None:
        self._prepared = {pf.diff.path: pf for pf in files}
        self._gone = {
            f.old_path
            for f in diff.files
            if f.old_path is not None
            and (f.status is FileStatus.DELETED or (f.status is FileStatus.RENAMED))
        }
        self._reader = reader

    def read(self, path: str) -> bytes | None:
        pf = self._prepared.get(path)
        if pf is not None:
            if pf.source is None or (pf.synthesized and pf.diff.status is not FileStatus.ADDED):
                return None
            return pf.source.data
        if path in self._gone:
            return None
        return self._reader.read(path)


def is_test_path(path: str) -> bool:
    p = PurePosixPath(path)
    return (
        p.name.startswith("test_")
        or p.name.endswith("_test.py")
        or p.name == "conftest.py"
        or any(part in ("tests", "test", "testing") for part in p.parts[:-1])
    )


def module_for(path: str, read: Read) -> tuple[str, str] | None:
    """(import_root, module) for a repository path, or None when it is not importable.

    Walks up while the directory holds an ``__init__.py`` (in the head version), so
    ``src/calc/ops.py`` with ``src/calc/__init__.py`` is module ``calc.ops`` under ``src``.
    """
    p = PurePosixPath(path)
    if p.suffix != ".py":
        return None
    dirs = list(p.parts[:-1])
    i = len(dirs)
    while i > 0 and read("/".join([*dirs[:i], "__init__.py"])) is not None:
        i -= 1
    pkg = dirs[i:]
    names = pkg if p.stem == "__init__" else [*pkg, p.stem]
    if not names or not all(n.isidentifier() for n in names):
        return None
    return "/".join(dirs[:i]), ".".join(names)


def _children(node: Node) -> Iterator[tuple[Node, Node | None]]:
    """(definition, decorated_definition wrapper or None) for the direct definitions."""
    for child in node.named_children:
        if child.type == "decorated_definition":
            inner = child.child_by_field_name("definition")
            if inner is not None:
                yield inner, child
        elif child.type in ("function_definition", "class_definition"):
            yield child, None


def _text(src: SourceFile, node: Node | None) -> str:
    return src.text(node) if node is not None else ""


_SPLATS = {"list_splat_pattern": "var_positional", "dictionary_splat_pattern": "var_keyword"}


def _params(src: SourceFile, fn: Node) -> tuple[Param, ...]:
    plist = fn.child_by_field_name("parameters")
    if plist is None:
        return ()
    out: list[Param] = []
    kind = "positional"
    for p in plist.named_children:
        node = p
        if (
            p.type == "typed_parameter"
            and p.named_children
            and (p.named_children[0].type in _SPLATS)
        ):
            node = p.named_children[0]  # *args: int / **kw: str
        t = node.type
        if t == "positional_separator":
            out = [Param(x.name, "positional_only", x.default) for x in out]
        elif t == "keyword_separator":
            kind = "keyword_only"
        elif t in _SPLATS:
            name = next((_text(src, c) for c in node.named_children if c.type == "identifier"), "")
            out.append(Param(name, _SPLATS[t]))
            if t == "list_splat_pattern":
                kind = "keyword_only"
        elif t == "identifier":
            out.append(Param(_text(src, node), kind))
        elif t == "typed_parameter" and node.named_children:
            out.append(Param(_text(src, node.named_children[0]), kind))
        elif t in ("default_parameter", "typed_default_parameter"):
            name = _text(src, node.child_by_field_name("name"))
            out.append(Param(name, kind, _text(src, node.child_by_field_name("value")) or None))
    return tuple(out)


def _raises(src: SourceFile, fn: Node) -> tuple[str, ...]:
    body = fn.child_by_field_name("body")
    found: list[str] = []
    stack = [body] if body is not None else []
    while stack:
        n = stack.pop()
        if n.type in ("function_definition", "class_definition", "lambda"):
            continue  # a nested definition's raises are not this function's
        if n.type == "raise_statement":
            exc = n.named_children[0] if n.named_children else None
            if exc is not None and exc.type == "call":
                exc = exc.child_by_field_name("function")
            if exc is not None and exc.type in ("identifier", "attribute"):
                name = _text(src, exc)
                if name not in found:
                    found.append(name)
            continue
        stack.extend(reversed(n.named_children))
    return tuple(found)


def _kind(src: SourceFile, wrapper: Node | None, in_class: bool) -> str:
    if not in_class:
        return "function"
    decorators = [
        _text(src, d).lstrip("@").strip()
        for d in (wrapper.named_children if wrapper is not None else [])
        if d.type == "decorator"
    ]
    for name, kind in (
        ("staticmethod", "staticmethod"),
        ("classmethod", "classmethod"),
        ("property", "property"),
        ("functools.cached_property", "property"),
        ("cached_property", "property"),
    ):
        if name in decorators:
            return kind
    return "method"


MAX_CONTEXT_LINES = 40


def class_context(src: SourceFile, fn: Node) -> str:
    """The enclosing class's first line and its ``__init__`` (bounded), for methods."""
    node = fn.parent
    while node is not None and node.type != "class_definition":
        node = node.parent
    if node is None:
        return ""
    header = block(src, node).split("\n", 1)[0]
    body = node.child_by_field_name("body")
    for child, wrapper in _children(body) if body is not None else ():
        if (
            child.type == "function_definition"
            and _text(src, child.child_by_field_name("name")) == "__init__"
            and child is not fn
        ):
            init = block(src, wrapper or child).split("\n")[:MAX_CONTEXT_LINES]
            return "\n".join([header, *("    " + ln for ln in init)])
    return header


def block(src: SourceFile, node: Node) -> str:
    """A node's source with its lines dedented (the first line's column restored first)."""
    return textwrap.dedent(" " * node.start_point[1] + src.text(node))


def top_level_names(src: SourceFile) -> frozenset[str]:
    """Names a ``from module import NAME`` can take: top-level defs, imports, assignments."""
    tree = src.tree
    if tree is None:
        return frozenset()
    out: set[str] = set()
    for node in tree.root_node.named_children:
        if node.type == "decorated_definition":
            node = node.child_by_field_name("definition") or node
        if node.type in ("function_definition", "class_definition"):
            out.add(_text(src, node.child_by_field_name("name")))
        elif node.type in ("import_statement", "import_from_statement"):
            for child in node.named_children:
                if node.type == "import_from_statement" and child == node.child_by_field_name(
                    "module_name"
                ):
                    continue
                if child.type == "aliased_import":
                    out.add(_text(src, child.child_by_field_name("alias")))
                elif child.type == "dotted_name":
                    out.add(_text(src, child).split(".")[0])
        elif node.type == "expression_statement" and node.named_children:
            first = node.named_children[0]
            if first.type == "assignment":
                left = first.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    out.add(_text(src, left))
    out.discard("")
    return frozenset(out)


_Def = tuple[str, "Node", "Node | None", bool]


def definitions(src: SourceFile) -> Iterator[_Def]:
    """(qualified name, function node, decorator wrapper, in_class) for every function that
    is reachable by attribute access: module level, or in classes nested only in classes."""
    tree = src.tree
    if tree is None or src.language != "python":
        return

    def walk(node: Node, prefix: list[str], in_class: bool) -> Iterator[_Def]:
        for d, wrapper in _children(node):
            name = _text(src, d.child_by_field_name("name"))
            if d.type == "function_definition":
                yield ".".join([*prefix, name]), d, wrapper, in_class
            else:
                body = d.child_by_field_name("body")
                if body is not None:
                    yield from walk(body, [*prefix, name], True)

    yield from walk(tree.root_node, [], False)


def find_targets(files: Sequence[PreparedFile], read: Read, limit: int) -> list[Target]:
    """Changed public functions in diff order, at most ``limit``."""
    out: list[Target] = []
    for pf in files:
        src = pf.source
        fd = pf.diff
        if src is None or src.language != "python" or fd.status is FileStatus.DELETED:
            continue
        if is_test_path(fd.path):
            continue
        where = module_for(fd.path, read)
        if where is None:
            continue
        added = {ln.new_lineno for h in fd.hunks for ln in h.added() if ln.new_lineno}
        if not added:
            continue
        seen: set[str] = set()
        names: frozenset[str] | None = None
        for qual, fn, wrapper, in_class in definitions(src):
            if any(part.startswith("_") for part in qual.split(".")) or qual in seen:
                continue
            outer = wrapper if wrapper is not None else fn
            start, end = outer.start_point[0] + 1, outer.end_point[0] + 1
            if not any(start <= n <= end for n in added):
                continue
            seen.add(qual)
            names = top_level_names(src) if names is None else names
            first = fn.children[0] if fn.children else None
            out.append(
                Target(
                    path=fd.path,
                    module=where[1],
                    import_root=where[0],
                    qualname=qual,
                    line=fn.start_point[0] + 1,
                    end_line=end,
                    params=_params(src, fn),
                    raises=_raises(src, fn),
                    is_async=first is not None and first.type == "async",
                    kind=_kind(src, wrapper, in_class),
                    code=block(src, outer),
                    context=class_context(src, fn) if in_class else "",
                    module_names=names,
                )
            )
            if len(out) >= limit:
                return out
    return out
