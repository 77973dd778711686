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

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def definitions_at(self, start_line: int, end_line: int) -> list[Definition]:
        """Definitions enclosing lines ``start_line..end_line`` (1-based), innermost first."""
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
        node: Node | None = tree.root_node.descendant_for_point_range(
            (start_line - 1, start_col), (end_line - 1, end_col)
        )
        chain: list[Node] = []
        while node is not None:
            if node.type in spec.definitions:
                chain.append(node)
            node = node.parent
        names = [_name_of(n, self) for n in chain]
        out: list[Definition] = []
        for i, n in enumerate(chain):
            qual = ".".join(x for x in reversed(names[i:]) if x)
            out.append(Definition(n.type, names[i] or "<anonymous>", qual or "<anonymous>",
                                  n.start_point[0] + 1, n.end_point[0] + 1,
                                  n.type in spec.classes))
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
                    name = _name_of(child, self) or "<anonymous>"
                    out.append(Definition(child.type, name, ".".join([*prefix, name]),
                                          child.start_point[0] + 1, child.end_point[0] + 1,
                                          child.type in spec.classes))
                    walk(child, [*prefix, name])
                else:
                    walk(child, prefix)

        walk(tree.root_node, [])
        return out


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
        if decl.type in ("identifier", "field_identifier", "qualified_identifier",
                         "destructor_name", "operator_name", "type_identifier"):
            return src.text(decl)
        inner = decl.child_by_field_name("declarator")
        if inner is None:
            break
        decl = inner
    parent = node.parent
    if parent is not None and parent.type in ("variable_declarator", "pair", "assignment_expression",
                                              "public_field_definition", "field_definition"):
        key = (parent.child_by_field_name("name") or parent.child_by_field_name("key")
               or parent.child_by_field_name("left") or parent.child_by_field_name("property"))
        if key is not None:
            return src.text(key)
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
    """The enclosing function when it has at most ``max_lines`` lines, else a window."""
    defs = tuple(src.definitions_at(start_line, end_line)) if src is not None else ()
    for d in defs:
        if d.is_class and d is not defs[0]:
            continue  # prefer the innermost function; a whole class is rarely small
        if d.end_line - d.start_line + 1 <= max_lines:
            return CodeContext(d.start_line, d.end_line, defs, True)
        break
    total = len(src.lines) if src is not None else end_line + window
    lo = max(1, start_line - window)
    hi = min(max(total, end_line), end_line + window)
    return CodeContext(lo, hi, defs, False)
