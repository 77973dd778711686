"""What a suggested test may import, and which head files its sandbox needs.

Allowed imports: the standard library (``sys.stdlib_module_names``), pytest, the module
under test (and its parent packages), and the project's declared dependencies read from the
head version of ``pyproject.toml`` (PEP 621, dependency groups, Poetry) and the usual
``requirements*.txt`` files. Distribution names map to import names through the installed
distributions' metadata, else by normalising the name (``python-dateutil`` ->
``python_dateutil``; undeclared import names are rejected, which errs on the safe side).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

Read = Callable[[str], "bytes | None"]

REQUIREMENT_FILES = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-test.txt",
    "dev-requirements.txt",
    "test-requirements.txt",
)
"""Read by name (a reader cannot list directories; on GitHub each is one API call)."""
ALWAYS_ALLOWED = frozenset({"pytest"})
MAX_FILES = 300
MAX_BYTES = 20 << 20
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(dist: str) -> str:
    return re.sub(r"[-_.]+", "_", dist).lower()


@cache
def _import_names_by_dist() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for top, dists in importlib.metadata.packages_distributions().items():
        for d in dists:
            out.setdefault(normalise(d), set()).add(top)
    return {k: frozenset(v) for k, v in out.items()}


def _requirement_names(lines: Iterable[Any]) -> Iterator[str]:
    for line in lines:
        if not isinstance(line, str):
            continue
        text = line.split("#", 1)[0].strip()
        if not text or text.startswith("-"):
            continue
        m = _NAME.match(text)
        if m:
            yield m.group(1)


def declared_distributions(read: Read) -> set[str]:
    names: set[str] = set()
    data = read("pyproject.toml")
    if data is not None:
        try:
            doc = tomllib.loads(data.decode("utf-8", "replace"))
        except tomllib.TOMLDecodeError:
            doc = {}
        project = doc.get("project", {})
        if isinstance(project, dict):
            names.update(_requirement_names(project.get("dependencies", []) or []))
            for extra in (project.get("optional-dependencies", {}) or {}).values():
                names.update(_requirement_names(extra if isinstance(extra, list) else []))
        groups = doc.get("dependency-groups", {})
        for group in groups.values() if isinstance(groups, dict) else []:
            names.update(_requirement_names(group if isinstance(group, list) else []))
        poetry = doc.get("tool", {}).get("poetry", {}) if isinstance(doc.get("tool"), dict) else {}
        if isinstance(poetry, dict):
            tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
            tables += [
                g.get("dependencies")
                for g in (poetry.get("group") or {}).values()
                if isinstance(g, dict)
            ]
            for table in tables:
                if isinstance(table, dict):
                    names.update(k for k in table if k.lower() != "python")
    for path in REQUIREMENT_FILES:
        req = read(path)
        if req is not None:
            names.update(_requirement_names(req.decode("utf-8", "replace").splitlines()))
    return names


def declared_imports(read: Read) -> frozenset[str]:
    """Top-level import names of the project's declared dependencies."""
    by_dist = _import_names_by_dist()
    out: set[str] = set()
    for dist in declared_distributions(read):
        key = normalise(dist)
        out.update(by_dist.get(key, {key}))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class ImportPolicy:
    declared: frozenset[str]

    def reason(self, tree: ast.Module, module: str) -> str | None:
        """Why the test's imports are not allowed, or None when they are."""
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    return "uses a relative import; import the module under test by name"
                names = [node.module or ""]
            for name in names:
                if not self.allowed(name, module):
                    return (
                        f"imports {name}, which is neither the module under test "
                        f"({module}), pytest, the standard library nor a declared "
                        "dependency"
                    )
        return None

    def allowed(self, name: str, module: str) -> bool:
        top = name.split(".", 1)[0]
        if name == module or module.startswith(name + "."):
            return True
        return top in sys.stdlib_module_names or top in ALWAYS_ALLOWED or top in self.declared


def _module_files(name: str) -> tuple[str, str]:
    base = name.replace(".", "/")
    return f"{base}.py", f"{base}/__init__.py"


def _imported(tree: ast.Module, module: str, is_package: bool) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                yield from (".".join(parts[:i]) for i in range(1, len(parts) + 1))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                keep = len(pkg) - (node.level - 1)
                if keep < 0:
                    continue
                base = [*pkg[:keep], *((node.module or "").split(".") if node.module else [])]
            else:
                base = (node.module or "").split(".")
            base = [b for b in base if b]
            yield from (".".join(base[:i]) for i in range(1, len(base) + 1))
            for a in node.names:
                if a.name != "*" and base:
                    yield ".".join([*base, a.name])


def head_closure(
    root: str, module: str, path: str, read: Read, skip: frozenset[str]
) -> tuple[dict[str, bytes], str | None]:
    """Head files the module needs under ``root``: itself, its packages' ``__init__.py`` and
    the project modules it imports (transitively, bounded). Returns (files, error)."""
    prefix = f"{root}/" if root else ""
    files: dict[str, bytes] = {}
    data = read(path)
    if data is None:
        return files, (
            f"the head version of {path} is unavailable (review a git revision "
            "or run inside the repository)"
        )
    queue: list[tuple[str, str, bytes]] = [(module, path, data)]
    parts = module.split(".")
    for i in range(1, len(parts)):
        init = f"{prefix}{'/'.join(parts[:i])}/__init__.py"
        got = read(init)
        if got is not None:
            queue.append((".".join(parts[:i]), init, got))
    looked: set[str] = set()
    size = 0
    while queue:
        name, p, content = queue.pop()
        if p in files:
            continue
        if len(files) >= MAX_FILES or size + len(content) > MAX_BYTES:
            return files, f"{module} needs more than {MAX_FILES} files or {MAX_BYTES >> 20} MB"
        files[p] = content
        size += len(content)
        try:
            tree = ast.parse(content)
        except (SyntaxError, ValueError):
            continue
        for dep in _imported(tree, name, p.endswith("__init__.py")):
            if dep in looked or dep.split(".", 1)[0] in skip:
                continue
            looked.add(dep)
            for candidate in _module_files(dep):
                got = read(prefix + candidate)
                if got is not None:
                    queue.append((dep, prefix + candidate, got))
                    break
    return files, None
