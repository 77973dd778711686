"""Code context for hunks: the enclosing definitions found with tree-sitter.

:class:`SourceFile` parses a file's head version once; every stage (context, static checks,
test suggestions) shares it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reviewbot.context.languages import LANGUAGES, grammar, language_for

if TYPE_CHECKING:
    from tree_sitter import Node, Tree


@dataclass(frozen=True, slots=True)
class Definition:
    kind: str
    """tree-sitter node type, e.g. ``function_definition``."""
    name: str
    qualified_name: str
    """Names of enclosing definitions joined with '.', e.g. ``Cart.total``."""
    start_line: int
    end_line: int
    """1-based, inclusive."""
    is_class: bool


@dataclass(slots=True)
class SourceFile:
    """A file's head content, decoded lines and (lazily) its syntax tree."""

    path: str
    data: bytes
    language: str | None = None
    _tree: Tree | None = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)
    _lines: list[str] | None = field(default=None, repr=False)
    _known: dict[tuple[int, int], tuple[Definition, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> SourceFile:
        return cls(path, data, language_for(path))

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            text = self.data.decode("utf-8", "replace")
            self._lines = [ln.rstrip("\r") for ln in text.split("\n")]
        return self._lines

    @property
    def tree(self) -> Tree | None:
        if not self._parsed:
            self._parsed = True
            lang = grammar(self.language) if self.language else None
            if lang is not None:
                from tree_sitter import Parser

                self._tree = Parser(lang).parse(self.data)
        return self._tree

    def release_tree(self) -> None:
        """Drop the syntax tree (the largest part of a parsed file, several times its
        source); the next use of :attr:`tree` parses the file again. The engine calls this
        once a file's checks and chunk items are done, so a change of any size holds one
        file's tree at a time."""
        self._tree = None
        self._parsed = False

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def remember_definitions(self, known: dict[tuple[int, int], tuple[Definition, ...]]) -> None:
        """Answers of :meth:`definitions_at` computed elsewhere (a forked process that
        parsed this file), so this process need not parse it for them."""
        self._known.update(known)

    def definitions_at(self, start_line: int, end_line: int) -> list[Definition]:
        """Definitions whose lines enclose ``start_line..end_line`` (1-based), innermost
        first. A definition that starts mid-line (``const f = () => {``, ``export class``)
        counts when its lines enclose the range."""
        known = self._known.get((start_line, end_line))
        if known is not None:
            return list(known)
        tree = self.tree
        if tree is None or self.language is None:
            return []
        spec = LANGUAGES[self.language]
        lines = self.lines
        end_line = max(end_line, start_line)
        first = lines[start_line - 1] if 0 < start_line <= len(lines) else ""
        last = lines[end_line - 1] if 0 < end_line <= len(lines) else ""
        start_col = len(first) - len(first.lstrip())
        end_col = max(len(last.rstrip()) - 1, 0)
        root = tree.root_node
        found: dict[tuple[int, int, str], Node] = {}
        probes = [
            root.descendant_for_point_range((start_line - 1, start_col), (end_line - 1, end_col))
        ]
        if first.strip():
            # the last character of the first line: inside a definition that opens there
            col = len(first.rstrip()) - 1
            probes.append(
                root.descendant_for_point_range((start_line - 1, col), (start_line - 1, col))
            )
        for node in probes:
            while node is not None:
                if (
                    node.type in spec.definitions
                    and node.start_point[0] < start_line
                    and node.end_point[0] >= end_line - 1
                ):
                    found[(node.start_byte, node.end_byte, node.type)] = node
                node = node.parent
        chain = sorted(found.values(), key=lambda n: (n.end_byte - n.start_byte, -n.start_byte))
        parts = [_qual_part(n, self) for n in chain]
        out: list[Definition] = []
        for i, n in enumerate(chain):
            out.append(
                Definition(
                    n.type,
                    _name_of(n, self) or ANONYMOUS,
                    ".".join(reversed(parts[i:])),
                    n.start_point[0] + 1,
                    n.end_point[0] + 1,
                    n.type in spec.classes,
                )
            )
        return out

    def all_definitions(self) -> list[Definition]:
        tree = self.tree
        if tree is None or self.language is None:
            return []
        spec = LANGUAGES[self.language]
        out: list[Definition] = []

        def walk(node: Node, prefix: list[str]) -> None:
            for child in node.named_children:
                if child.type in spec.definitions:
                    qual = [*prefix, _qual_part(child, self)]
                    out.append(
                        Definition(
                            child.type,
                            _name_of(child, self) or ANONYMOUS,
                            ".".join(qual),
                            child.start_point[0] + 1,
                            child.end_point[0] + 1,
                            child.type in spec.classes,
                        )
                    )
                    walk(child, qual)
                else:
                    walk(child, prefix)

        walk(tree.root_node, [])
        return out


ANONYMOUS = "<anonymous>"


def _qual_part(node: Node, src: SourceFile) -> str:
    """This definition's piece of a qualified name: ``Server.Run`` for a Go method with a
    ``*Server`` receiver, ``Cart.helper`` for C++ ``Cart::helper``."""
    name = (_name_of(node, src) or ANONYMOUS).replace("::", ".")
    receiver = node.child_by_field_name("receiver") if node.type == "method_declaration" else None
    if receiver is not None and src.language == "go":
        typ = _first_of_type(receiver, "type_identifier")
        if typ is not None:
            return f"{src.text(typ)}.{name}"
    return name


def _first_of_type(node: Node, kind: str) -> Node | None:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == kind:
            return n
        stack.extend(reversed(n.named_children))
    return None


def _name_of(node: Node, src: SourceFile) -> str:
    n = node.child_by_field_name("name")
    if n is None and node.type == "impl_item":
        n = node.child_by_field_name("type")
    if n is None and node.type == "type_declaration" and node.named_child_count:
        n = node.named_children[0].child_by_field_name("name")
    if n is not None:
        return src.text(n)
    decl = node.child_by_field_name("declarator")
    while decl is not None:  # C/C++: function_definition -> declarator chain
        if decl.type in (
            "identifier",
            "field_identifier",
            "qualified_identifier",
            "destructor_name",
            "operator_name",
            "type_identifier",
        ):
            return src.text(decl)
        inner = decl.child_by_field_name("declarator")
        if inner is None:
            break
        decl = inner
    parent = node.parent
    if parent is not None and parent.type in (
        "variable_declarator",
        "pair",
        "assignment_expression",
        "public_field_definition",
        "field_definition",
    ):
        key = (
            parent.child_by_field_name("name")
            or parent.child_by_field_name("key")
            or parent.child_by_field_name("left")
            or parent.child_by_field_name("property")
        )
        if key is not None:
            return src.text(key)
    if parent is not None and parent.type == "expression_list" and parent.parent is not None:
        left = parent.parent.child_by_field_name("left")  # Go: f := func() {...}
        if left is not None and left != parent and left.named_child_count == 1:
            return src.text(left.named_children[0])
    return ""


@dataclass(frozen=True, slots=True)
class CodeContext:
    """The bounded slice of the new file shown to the model around a hunk."""

    start_line: int
    end_line: int
    definitions: tuple[Definition, ...]
    """Innermost first."""
    whole_definition: bool
    """True when the slice is the whole enclosing definition."""

    @property
    def symbol(self) -> str | None:
        return self.definitions[0].qualified_name if self.definitions else None


def context_for(
    src: SourceFile | None,
    start_line: int,
    end_line: int,
    *,
    window: int,
    max_lines: int,
) -> CodeContext:
    """The bounded slice of ``src`` shown around lines ``start_line..end_line``.

    The outermost enclosing function (or the innermost class, when the lines are in a class
    body) that has at most ``max_lines`` lines; otherwise, and for languages without a
    grammar, ``window`` lines either side of the range."""
    defs = tuple(src.definitions_at(start_line, end_line)) if src is not None else ()
    best: Definition | None = None
    for i, d in enumerate(defs):  # innermost first
        if (d.is_class and i > 0) or d.end_line - d.start_line + 1 > max_lines:
            break  # a whole class around a method is rarely small; a big one never fits
        best = d
    if best is not None:
        return CodeContext(best.start_line, best.end_line, defs, True)
    if src is not None:
        total = len(src.lines) - (1 if src.lines and src.lines[-1] == "" else 0)
    else:
        total = end_line + window
    lo = max(1, start_line - window)
    hi = min(max(total, end_line), end_line + window)
    return CodeContext(lo, hi, defs, False)
