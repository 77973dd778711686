"""Code context with tree-sitter: enclosing definitions (kind, qualified name, span) for every
supported language, and the bounded slice sent to the model."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest

from reviewbot.context.extract import CodeContext, SourceFile, context_for
from reviewbot.context.languages import LANGUAGES, grammar, language_for
from reviewbot.sources import git_source
from tests.conftest import GitRepo

# (file name, source, probe line, [(kind, qualified name, start, end), ...] innermost first)
CASES: list[tuple[str, str, int, list[tuple[str, str, int, int]]]] = [
    (
        "cart.py",
        """\
        class Cart:
            def total(self):
                def tax(x):
                    return x * 0.2
                return sum(self.items)
        """,
        4,
        [
            ("function_definition", "Cart.total.tax", 3, 4),
            ("function_definition", "Cart.total", 2, 5),
            ("class_definition", "Cart", 1, 5),
        ],
    ),
    (
        "cart.js",
        """\
        class Cart {
          total() {
            return this.items.length;
          }
        }
        const mul = (a, b) => {
          return a * b;
        };
        """,
        3,
        [("method_definition", "Cart.total", 2, 4), ("class_declaration", "Cart", 1, 5)],
    ),
    (
        "cart.js",
        """\
        class Cart {}
        const mul = (a, b) => {
          return a * b;
        };
        """,
        2,
        [("arrow_function", "mul", 2, 4)],
    ),
    (
        "geo.ts",
        """\
        interface Shape { area(): number; }
        export class Circle implements Shape {
          constructor(private r: number) {}
          area(): number {
            return 3 * this.r;
          }
        }
        namespace Geo {
          export function dist(a: number): number {
            return a;
          }
        }
        """,
        5,
        [("method_definition", "Circle.area", 4, 6), ("class_declaration", "Circle", 2, 7)],
    ),
    (
        "geo.ts",
        """\
        namespace Geo {
          export function dist(a: number): number {
            return a;
          }
        }
        """,
        3,
        [("function_declaration", "Geo.dist", 2, 4), ("internal_module", "Geo", 1, 5)],
    ),
    (
        "hello.tsx",
        """\
        import React from "react";
        export class Box extends React.Component<{ n: number }> {
          render() {
            return <span>{this.props.n}</span>;
          }
        }
        """,
        4,
        [("method_definition", "Box.render", 3, 5), ("class_declaration", "Box", 2, 6)],
    ),
    (
        "server.go",
        """\
        package main

        type Server struct{ port int }

        func (s *Server) Run() error {
            go func() {
                s.port++
            }()
            return nil
        }
        """,
        9,
        [("method_declaration", "Server.Run", 5, 10)],
    ),
    (
        "server.go",
        """\
        package main

        type Stack[T any] struct{ items []T }

        func (s *Stack[T]) Push(v T) {
            s.items = append(s.items, v)
        }
        """,
        6,
        [("method_declaration", "Stack.Push", 5, 7)],
    ),
    (
        "Shop.java",
        """\
        package p;
        public class Shop {
          static class Inner {
            int go(int x) {
              return x + 1;
            }
          }
        }
        """,
        5,
        [
            ("method_declaration", "Shop.Inner.go", 4, 6),
            ("class_declaration", "Shop.Inner", 3, 7),
            ("class_declaration", "Shop", 2, 8),
        ],
    ),
    (
        "cart.rs",
        """\
        struct Cart { items: Vec<u32> }
        impl Cart {
            fn total(&self) -> u32 {
                self.items.iter().sum()
            }
        }
        """,
        4,
        [("function_item", "Cart.total", 3, 5), ("impl_item", "Cart", 2, 6)],
    ),
    (
        "point.c",
        """\
        #include <stdio.h>
        struct point { int x; int y; };
        static int add(int a, int b) {
            return a + b;
        }
        """,
        4,
        [("function_definition", "add", 3, 5)],
    ),
    (
        "cart.cpp",
        """\
        namespace shop {
        class Cart {
         public:
          int total() const {
            return 1;
          }
        };
        int Cart::helper(int x) {
          return x;
        }
        }  // namespace shop
        """,
        9,
        [
            ("function_definition", "shop.Cart.helper", 8, 10),
            ("namespace_definition", "shop", 1, 11),
        ],
    ),
    (
        "cart.cpp",
        """\
        namespace shop {
        class Cart {
          int total() const {
            return 1;
          }
        };
        }
        """,
        4,
        [
            ("function_definition", "shop.Cart.total", 3, 5),
            ("class_specifier", "shop.Cart", 2, 6),
            ("namespace_definition", "shop", 1, 7),
        ],
    ),
]


@pytest.mark.parametrize("name, code, line, expected", CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_enclosing_definitions(
    name: str, code: str, line: int, expected: list[tuple[str, str, int, int]]
) -> None:
    src = SourceFile.from_bytes(name, textwrap.dedent(code).encode())
    assert src.tree is not None, f"grammar for {src.language} missing"
    defs = src.definitions_at(line, line)
    assert [(d.kind, d.qualified_name, d.start_line, d.end_line) for d in defs] == expected
    # the qualified names of the whole file agree with the per-line answer
    assert expected[0][1] in {d.qualified_name for d in src.all_definitions()}


def test_every_supported_language_has_a_grammar_and_a_case() -> None:
    covered = {language_for(c[0]) for c in CASES}
    assert covered == set(LANGUAGES)
    assert all(grammar(lang) is not None for lang in LANGUAGES)


def test_definition_opening_mid_line_encloses_its_first_line() -> None:
    src = SourceFile.from_bytes(
        "a.ts", b"export class A {\n  x = 1;\n}\nexport const f = () => {\n  return 1;\n};\n"
    )
    assert [d.qualified_name for d in src.definitions_at(1, 1)] == ["A"]
    assert [d.qualified_name for d in src.definitions_at(4, 5)] == ["f"]


def test_range_spanning_two_functions_has_only_their_common_parent() -> None:
    code = "class K:\n    def a(self):\n        return 1\n\n    def b(self):\n        return 2\n"
    src = SourceFile.from_bytes("k.py", code.encode())
    assert [d.qualified_name for d in src.definitions_at(3, 6)] == ["K"]
    assert src.definitions_at(1, 1)[0].is_class


def _py_function(name: str, body_lines: int) -> str:
    return (
        f"def {name}(x):\n"
        + "".join(f"    x = x + {i}\n" for i in range(body_lines))
        + "    return x\n"
    )


def test_small_function_is_sent_whole() -> None:
    code = "import os\n\n\n" + _py_function("small", 10) + "\n\n" + _py_function("other", 3)
    src = SourceFile.from_bytes("m.py", code.encode())
    ctx = context_for(src, 8, 8, window=3, max_lines=40)
    assert (ctx.start_line, ctx.end_line, ctx.whole_definition, ctx.symbol) == (
        4,
        15,
        True,
        "small",
    )


def test_outermost_small_function_wins_over_an_inner_one() -> None:
    code = (
        "class C:\n    def m(self):\n        def inner():\n            return 1\n"
        "        return inner()\n"
    )
    src = SourceFile.from_bytes("c.py", code.encode())
    ctx = context_for(src, 4, 4, window=5, max_lines=40)
    assert (ctx.start_line, ctx.end_line, ctx.symbol) == (2, 5, "C.m.inner")


def test_big_function_gets_a_bounded_window() -> None:
    code = _py_function("big", 300)
    src = SourceFile.from_bytes("big.py", code.encode())
    ctx = context_for(src, 150, 152, window=20, max_lines=120)
    assert (ctx.start_line, ctx.end_line, ctx.whole_definition) == (130, 172, False)
    assert ctx.symbol == "big"  # still named, even when not sent whole
    # near the file's edges the window is clipped to real lines
    top = context_for(src, 2, 2, window=20, max_lines=120)
    bottom = context_for(src, 302, 302, window=20, max_lines=120)
    assert (top.start_line, top.end_line) == (1, 22)
    assert (bottom.start_line, bottom.end_line) == (282, 302)


@pytest.mark.parametrize("name", ["notes.txt", "Makefile", "script.rb", "x.kt", "README"])
def test_unknown_language_falls_back_to_the_window(name: str) -> None:
    code = "".join(f"line {i}\n" for i in range(1, 101)).encode()
    src = SourceFile.from_bytes(name, code)
    assert src.language is None and src.tree is None and src.definitions_at(50, 50) == []
    ctx = context_for(src, 50, 51, window=10, max_lines=120)
    assert ctx == CodeContext(40, 61, (), False)


def test_no_source_at_all_still_gives_a_window() -> None:
    ctx = context_for(None, 5, 6, window=3, max_lines=10)
    assert (ctx.start_line, ctx.end_line, ctx.definitions) == (2, 9, ())


def test_broken_syntax_still_yields_context() -> None:
    src = SourceFile.from_bytes("x.py", b"def f(x):\n    if x\n        return 1\n")
    ctx = context_for(src, 2, 2, window=5, max_lines=50)
    assert ctx.start_line == 1 and ctx.end_line >= 3


def test_crlf_and_non_utf8_sources() -> None:
    src = SourceFile.from_bytes("w.py", b"def f():\r\n    return '\xe9'\r\n")
    assert src.lines[:2] == ["def f():", "    return '\ufffd'"]
    assert [d.qualified_name for d in src.definitions_at(2, 2)] == ["f"]


def test_head_files_come_from_git_objects_for_ranges(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "def f():\n    return 1\n")
    git_repo.commit()
    git_repo.write("a.py", "def f():\n    return 2\n")
    git_repo.commit()
    git_repo.write("a.py", "# uncommitted\n")
    ranged = git_source(git_repo.root, rev="HEAD~1..HEAD")
    assert ranged.reader.read("a.py") == b"def f():\n    return 2\n"  # git cat-file HEAD:a.py
    assert ranged.reader.read("missing.py") is None
    staged = git_source(git_repo.root, staged=True)
    assert staged.reader.read("a.py") == b"def f():\n    return 2\n"  # the index
    worktree = git_source(git_repo.root)
    assert worktree.reader.read("a.py") == b"# uncommitted\n"
    assert worktree.reader.read("../outside.py") is None  # never outside the repository


def test_batched_git_reads_match_single_reads(git_repo: GitRepo) -> None:
    from reviewbot.sources import MAX_FILE_BYTES, CachingReader

    names = [
        "plain.py",
        "with space.py",
        "ünï/cödé.py",
        'q"uote.py',
        "tab\tname.py",
        "new\nline.py",
        "empty.py",
    ]
    for i, name in enumerate(names):
        git_repo.write(name, "" if name == "empty.py" else f"x = {i}\n")
    git_repo.write("big.txt", b"y" * (MAX_FILE_BYTES + 1))
    git_repo.write("bin.dat", b"\x00\x01\n\x02")
    git_repo.commit()
    reader = git_source(git_repo.root, rev="HEAD~0..HEAD").reader
    asked = [*names, "big.txt", "bin.dat", "missing.py", "ünï"]
    many = reader.read_many(asked)  # type: ignore[attr-defined]
    assert many == {p: reader.read(p) for p in asked}
    assert many["with space.py"] == b"x = 1\n" and many["new\nline.py"] == b"x = 5\n"
    assert many["empty.py"] == b"" and many["bin.dat"] == b"\x00\x01\n\x02"
    assert many["big.txt"] is None and many["missing.py"] is None and many["ünï"] is None
    cached = CachingReader(reader)
    cached.prefetch(asked)
    assert {p: cached.read(p) for p in asked} == many


def test_head_files_are_read_by_the_blob_ids_of_git_s_own_diff(git_repo: GitRepo) -> None:
    """A diff git made of A..B names each new blob (--full-index); the head files are
    read by those ids, and they are the files at B. A reader for a diff reviewbot did not
    make (ids could name any object) ignores the ids."""
    from reviewbot.diff.parse import parse_diff
    from reviewbot.sources import CachingReader, GitObjectReader

    git_repo.write("a.py", "a = 1\n")
    git_repo.write("b.py", "b = 1\n")
    git_repo.write("other.py", "other = 1\n")
    base = git_repo.commit()
    git_repo.write("a.py", "a = 2\n")
    git_repo.write("b.py", "b = 2\n")
    head = git_repo.commit()
    source = git_source(git_repo.root, rev=f"{base}..{head}")
    diff = parse_diff(source.diff)
    blobs = {fd.path: fd.new_blob for fd in diff.files}
    assert all(b is not None and len(b) == 40 for b in blobs.values()), blobs
    cached = CachingReader(source.reader)
    cached.prefetch(["a.py", "b.py"], {p: b for p, b in blobs.items() if b})
    assert (cached.read("a.py"), cached.read("b.py")) == (b"a = 2\n", b"b = 2\n")
    # the ids are what is read: a swapped map reads swapped contents ...
    swapped = {"a.py": blobs["b.py"], "b.py": blobs["a.py"]}
    assert isinstance(source.reader, GitObjectReader) and source.reader.trusted_ids
    # (the heads read while git diffed are set aside: they answer before any id is used)
    assert set(source.reader.early) == {"a.py", "b.py"}
    got = replace(source.reader, early={}).read_many(["a.py", "b.py"], swapped)
    assert got == {"a.py": b"b = 2\n", "b.py": b"a = 2\n"}
    # ... unless the reader's diff came from elsewhere (a pull request's API diff)
    untrusted = GitObjectReader(source.reader.git, head)
    assert untrusted.read_many(["a.py", "b.py"], swapped) == {
        "a.py": b"a = 2\n",
        "b.py": b"b = 2\n",
    }
