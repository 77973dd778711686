"""Python bug and performance rules."""

from __future__ import annotations

from tests.static_cases import Case, run

POSITIVE: list[Case] = [
    (
        "py.unreachable",
        """
        def f(x):
            return x
            print("never")
    """,
    ),
    (
        "py.unreachable",
        """
        def f(xs):
            for x in xs:
                raise ValueError(x)
                x += 1
    """,
    ),
    (
        "py.shadowed-builtin",
        """
        def f(values):
            list = [1, 2]
            return list(values)
    """,
    ),
    (
        "py.missing-await",
        """
        async def save(item):
            ...

        async def handler(item):
            save(item)
    """,
    ),
    (
        "py.missing-await",
        """
        class Repo:
            async def commit(self):
                ...

            async def close(self):
                self.commit()
    """,
    ),
    (
        "py.str-concat-loop",
        """
        class Report:
            def build(self, rows):
                for row in rows:
                    self.text += "<tr>%s</tr>" % row
    """,
    ),
    (
        "py.str-concat-loop",
        """
        def grid(rows):
            out = ""
            for row in rows:
                for cell in row:
                    out += f"{cell},"
            return out
    """,
    ),
    (
        "py.regex-compile-loop",
        """
        import re
        def find(lines):
            for line in lines:
                if re.compile(r"^\\d+$").match(line):
                    yield line
    """,
    ),
    # Python 2 syntax (print statements, except X, e) does not stop the rules
    (
        "py.unreachable",
        """
        def f(x):
            print "x is", x
            try:
                pass
            except Exception, e:
                pass
            return x
            print "never"
    """,
    ),
]

NEGATIVE: list[Case] = [
    (
        "py.unreachable",
        """
        def f(x):
            if x:
                return x
            print("reached")
    """,
    ),
    # near miss: the empty-generator idiom
    (
        "py.unreachable",
        """
        def empty():
            return
            yield
    """,
    ),
    (
        "py.shadowed-builtin",
        """
        def f(values):
            items = [1, 2]
            return list(values) + items
    """,
    ),
    # near miss: the variable is a class on purpose
    (
        "py.shadowed-builtin",
        """
        def make(types, value):
            for type in types:
                yield type(value)
    """,
    ),
    (
        "py.missing-await",
        """
        async def save(item):
            ...

        async def handler(item):
            await save(item)
            task = save(item)
            return task
    """,
    ),
    # near miss: a sync method of the same name in another class
    (
        "py.missing-await",
        """
        class AsyncRepo:
            async def commit(self):
                ...

        class Repo:
            def commit(self):
                ...

            def close(self):
                self.commit()
    """,
    ),
    # near miss: one loop over a local str (CPython appends in place)
    (
        "py.str-concat-loop",
        """
        def join(rows):
            out = ""
            for row in rows:
                out += row
            return out
    """,
    ),
    (
        "py.regex-compile-loop",
        """
        import re
        DIGITS = re.compile(r"^\\d+$")
        def find(lines):
            for line in lines:
                if DIGITS.match(line):
                    yield line
    """,
    ),
    # near miss: compiled once, in the loop header
    (
        "py.regex-compile-loop",
        """
        import re
        def names(doc):
            for name in re.compile(r":raises (\\w+):").findall(doc):
                yield name
    """,
    ),
]


def test_only_changed_lines_are_reported() -> None:
    code = """
        def a(x):
            return x
            print("never")

        def b(x):
            return x
            print("never")
    """
    hits = run(code, changed={7})
    assert [(h.rule_id, h.line) for h in hits] == [("py.unreachable", 7)]
