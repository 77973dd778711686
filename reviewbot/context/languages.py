"""Languages reviewbot understands: file extension -> tree-sitter grammar and node kinds.

Grammars come from the per-language wheels (tree-sitter-python, ...), imported lazily so
start-up stays fast. A language whose grammar is missing falls back to plain windows.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    name: str
    module: str
    """The grammar wheel's module."""
    function: str
    """Name of the function in ``module`` that returns the grammar pointer."""
    definitions: frozenset[str]
    """Node types that are definitions (function, method, class, ...)."""
    classes: frozenset[str]
    """The subset of definitions that are classes or similar containers."""


def _spec(
    name: str, module: str, defs: set[str], classes: set[str], fn: str = "language"
) -> LanguageSpec:
    return LanguageSpec(name, module, fn, frozenset(defs | classes), frozenset(classes))


_JS_DEFS = {
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "function_expression",
    "arrow_function",
    "function",
}
_JS_CLASSES = {"class_declaration", "class"}
_TS_CLASSES = _JS_CLASSES | {
    "abstract_class_declaration",
    "interface_declaration",
    "enum_declaration",
    "internal_module",
}

LANGUAGES: dict[str, LanguageSpec] = {
    "python": _spec("python", "tree_sitter_python", {"function_definition"}, {"class_definition"}),
    "javascript": _spec("javascript", "tree_sitter_javascript", _JS_DEFS, _JS_CLASSES),
    "typescript": _spec(
        "typescript", "tree_sitter_typescript", _JS_DEFS, _TS_CLASSES, "language_typescript"
    ),
    "tsx": _spec("tsx", "tree_sitter_typescript", _JS_DEFS, _TS_CLASSES, "language_tsx"),
    "go": _spec(
        "go",
        "tree_sitter_go",
        {"function_declaration", "method_declaration", "func_literal"},
        {"type_declaration"},
    ),
    "java": _spec(
        "java",
        "tree_sitter_java",
        {"method_declaration", "constructor_declaration", "lambda_expression"},
        {"class_declaration", "interface_declaration", "enum_declaration", "record_declaration"},
    ),
    "rust": _spec(
        "rust",
        "tree_sitter_rust",
        {"function_item", "closure_expression"},
        {"impl_item", "struct_item", "enum_item", "trait_item", "mod_item"},
    ),
    "c": _spec("c", "tree_sitter_c", {"function_definition"}, {"struct_specifier"}),
    "cpp": _spec(
        "cpp",
        "tree_sitter_cpp",
        {"function_definition", "lambda_expression"},
        {"class_specifier", "struct_specifier", "namespace_definition"},
    ),
}

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".java": "java",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
}


def language_for(path: str) -> str | None:
    return EXTENSIONS.get(PurePosixPath(path).suffix.lower())


@cache
def grammar(name: str) -> Language | None:
    """The tree-sitter Language for ``name``; None when its grammar wheel is not installed."""
    spec = LANGUAGES.get(name)
    if spec is None:
        return None
    try:
        from tree_sitter import Language

        mod = importlib.import_module(spec.module)
        return Language(getattr(mod, spec.function)())
    except (ImportError, AttributeError, ValueError):
        return None
