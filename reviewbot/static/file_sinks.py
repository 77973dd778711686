"""Which calls name a file: the file sinks of the path-traversal rule (:mod:`py_paths`).

:func:`path_targets` gives the arguments of a call that it opens, writes, deletes, lists or
probes: the os/shutil/flask functions, ``Path(x).read_text()``-style methods, a store's
methods given an ``os.path.join`` key, and file utilities run as commands
(``execute("cp", src, dst)``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.static.py_shell import is_runner
from reviewbot.static.pynodes import (
    args,
    call_name,
    is_constant,
    kwarg,
    last_name,
    string_text,
    text,
    unparen,
)
from reviewbot.static.taint import Scope, Sink

if TYPE_CHECKING:
    from tree_sitter import Node

PATH = Sink(
    "path",
    frozenset(
        {
            "basename",
            "secure_filename",
            "safe_join",
            "safe_path",
            "listdir",
            "scandir",
            "iterdir",
            "walk",
        }
    ),
    trust_names=False,
)
"""Listing a directory (os.listdir, os.scandir, os.walk, Path.iterdir) gives names without a
separator: joining one onto a directory stays inside; reading the listed directory is a sink
of its own."""
_FILE_SINKS = frozenset(
    {
        "open",
        "io.open",
        "codecs.open",
        "os.open",
        "os.remove",
        "os.unlink",
        "os.rmdir",
        "os.removedirs",
        "os.rename",
        "os.renames",
        "os.replace",
        "os.makedirs",
        "os.mkdir",
        "os.listdir",
        "os.scandir",
        "os.walk",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.symlink",
        "os.link",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "shutil.rmtree",
        "send_file",
        "flask.send_file",
        "send_from_directory",
        "flask.send_from_directory",
        "FileResponse",
        "static.File",
        "tarfile.open",
        "zipfile.ZipFile",
        "aiofiles.open",
    }
)
PROBES = frozenset(
    {
        "os.path.exists",
        "os.path.lexists",
        "os.path.isfile",
        "os.path.isdir",
        "os.path.islink",
        "os.path.getsize",
        "os.path.getmtime",
        "os.stat",
        "os.lstat",
        "os.access",
    }
)
"""Calls that tell whether (or how big, how old) a file is: with request data they probe
outside the base (a parameter joined onto a directory and probed is a search, not a leak)."""
_TWO_PATHS = frozenset(
    {
        "rename",
        "renames",
        "replace",
        "copy",
        "copy2",
        "copyfile",
        "copytree",
        "move",
        "symlink",
        "link",
    }
)
_FILE_TOOLS = frozenset(
    {
        "cat",
        "tee",
        "cp",
        "mv",
        "rm",
        "ln",
        "mkdir",
        "rmdir",
        "touch",
        "chmod",
        "chown",
        "chgrp",
        "truncate",
        "dd",
        "install",
        "rsync",
        "tar",
        "unzip",
        "head",
        "tail",
        "readlink",
        "stat",
    }
)
"""Programs whose operands are files: run as a command, they open what they are given."""
_STORAGE_VERBS = frozenset(
    {
        "get",
        "read",
        "write",
        "delete",
        "remove",
        "put",
        "set",
        "unlink",
        "load",
        "save",
        "open",
        "list",
        "listdir",
        "exists",
        "rmtree",
        "upload",
        "download",
        "fetch",
        "store",
        "makedirs",
        "mkdir",
    }
)
"""Methods of a store (``self.etcd.delete``) that take a key built with os.path.join."""
_JOIN_CALL = re.compile(r"(?:^|\.)(?:os\.path|posixpath|ntpath)\.join$|\.joinpath$")


def path_targets(scope: Scope, n: Node, name: str) -> list[Node]:
    """The arguments of ``n`` that name a file it opens, writes, deletes or probes."""
    last = last_name(name)
    if last in _PATH_METHODS:
        receiver = _path_receiver(n)
        if receiver is not None:
            return [receiver]
    if name in _FILE_SINKS or name in PROBES:
        targets = args(n)[:2] if last in _TWO_PATHS else args(n)[:1]
        directory = kwarg(n, "directory")
        return [*targets, directory] if directory is not None else targets
    if "." in name and (last in ("save", "save_as") or last in _STORAGE_VERBS):
        positional = args(n)
        if positional and (last in ("save", "save_as") or _is_join(scope, positional[0])):
            return positional[:1]  # upload.save(path), store.delete(os.path.join(root, key))
        return []
    argl = n.child_by_field_name("arguments")
    first = argl.named_children[0] if argl is not None and argl.named_children else None
    if first is not None and _starts_with_file_tool(first) and is_runner(name):
        return _file_tool_paths(args(n))
    return []


def _starts_with_file_tool(first: Node) -> bool:
    first = unparen(first)
    if first.type in ("list", "tuple") and first.named_children:
        first = first.named_children[0]
    return (
        first.type == "string" and is_constant(first) and string_text(first).strip() in _FILE_TOOLS
    )


def _file_tool_paths(positional: list[Node]) -> list[Node]:
    """``execute("cp", src, dst)``, ``run(["rm", "-f", path])``: the non-constant operands
    of a file utility run as a command."""
    items = positional
    first = unparen(positional[0])
    if first.type in ("list", "tuple") and len(positional) == 1:
        items = first.named_children
    if not items or not is_constant(items[0]) or string_text(items[0]).strip() not in _FILE_TOOLS:
        return []
    return [
        a
        for a in items[1:]
        if a.type not in ("keyword_argument", "list_splat", "dictionary_splat")
        and not is_constant(a)
    ]


def _is_join(scope: Scope, n: Node) -> bool:
    """``os.path.join(...)`` / ``base / name``, directly or as the value of a variable."""
    n = unparen(n)
    if n.type == "identifier":
        return any(
            d.value is not None and d.value.type != "identifier" and _is_join(scope, d.value)
            for d in scope.reaching(text(n), n)
        )
    if n.type == "call":
        return bool(_JOIN_CALL.search(call_name(n)))
    op = n.child_by_field_name("operator") if n.type == "binary_operator" else None
    return op is not None and op.type == "/"


_PATH_METHODS = frozenset(
    {
        "open",
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "unlink",
        "rmdir",
        "mkdir",
        "touch",
        "rename",
        "replace",
        "iterdir",
        "rmtree",
    }
)


def _path_receiver(call: Node) -> Node | None:
    """``Path(x).read_text()`` / ``(base / x).open()``: the path expression."""
    fn = call.child_by_field_name("function")
    if fn is None or fn.type != "attribute" or last_name(text(fn)) not in _PATH_METHODS:
        return None
    obj = fn.child_by_field_name("object")
    obj = unparen(obj) if obj is not None else None
    if obj is None:
        return None
    if obj.type == "call" and last_name(call_name(obj)) in ("Path", "PurePath", "PosixPath"):
        return obj
    if obj.type == "binary_operator":
        op = obj.child_by_field_name("operator")
        return obj if op is not None and op.type == "/" else None
    return None
