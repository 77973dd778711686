"""Path traversal (CWE-22) and tar extraction (tar slip) rules."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.static.py_paths import request_hint
from tests.static_cases import run

POSITIVE: list[tuple[str, str]] = [
    (
        "py.path-traversal",
        """
        import os
        from flask import request, send_file
        def download():
            name = request.args.get("file")
            return send_file(os.path.join("/srv/files", name))
    """,
    ),
    (
        "py.path-traversal",
        """
        import os
        @app.route('/delete_video/<filename>')
        def delete_video(filename):
            os.remove("static/videos/{}".format(filename))
    """,
    ),
    (
        "py.path-traversal",
        """
        import os
        from flask import request
        def upload():
            f = request.files["file"]
            f.save(os.path.join(UPLOAD_FOLDER, f.filename))
    """,
    ),
    (
        "py.path-traversal",
        """
        from pathlib import Path
        def view(request, name):
            return (Path("/data") / name).read_text()
    """,
    ),
    # a parameter joined onto a base directory: the name is meant to stay inside it
    (
        "py.path-traversal",
        """
        import os
        class Store:
            def delete(self, key):
                self.backend.delete(os.path.join(self.root, key))
    """,
    ),
    (
        "py.path-traversal",
        """
        import os
        def remove_upload(name):
            os.remove(f"{UPLOAD_DIR}/{name}")
    """,
    ),
    (
        "py.path-traversal",
        """
        import os, subprocess
        def purge(base, name):
            subprocess.run(["rm", "-f", os.path.join(base, name)], check=True)
    """,
    ),
    (
        "py.path-traversal",
        """
        def sizes(root, names):
            total = 0
            for name in names:
                target = "%s/%s" % (root, name)
                total += len(open(target).read())
            return total
    """,
    ),
    (
        "py.path-traversal",
        """
        import os
        from flask import request
        def exists():
            return os.path.exists(os.path.join(BASE, request.args["f"]))
    """,
    ),
    # through a helper of the same file: the helper's parameter reaches the sink
    (
        "py.path-traversal",
        """
        import os
        from flask import request
        def download():
            return _read(request.args["f"])

        def _read(name):
            with open(os.path.join(BASE, "public", name)) as fh:
                return fh.read()
    """,
    ),
    # a local "safe_join" that only joins is judged by its body, not its name
    (
        "py.path-traversal",
        """
        import os
        from flask import request, send_file
        def safe_join(base, name):
            return os.path.join(base, name)

        def download():
            return send_file(safe_join(BASE, request.args["f"]))
    """,
    ),
    (
        "py.tar-extract",
        """
        import tarfile
        def unpack(path, dest):
            with tarfile.open(path) as tf:
                tf.extractall(dest)
    """,
    ),
]

NEGATIVE: list[tuple[str, str]] = [
    (
        "py.path-traversal",
        """
        import os
        from flask import request, send_file
        from werkzeug.utils import secure_filename
        def download():
            name = secure_filename(request.args.get("file"))
            return send_file(os.path.join("/srv/files", name))
    """,
    ),
    # near miss: containment checked before use
    (
        "py.path-traversal",
        """
        import os
        from flask import request, abort
        def download():
            path = os.path.realpath(os.path.join(BASE, request.args["file"]))
            if not path.startswith(BASE):
                abort(404)
            return open(path).read()
    """,
    ),
    # near miss: a path from the command line is the local user's own choice
    (
        "py.path-traversal",
        """
        import sys
        def main():
            with open(sys.argv[1]) as fh:
                return fh.read()
    """,
    ),
    (
        "py.path-traversal",
        """
        def read(path):
            return open(path).read()
    """,
    ),
    (
        "py.path-traversal",
        """
        import os
        from flask import request
        from werkzeug.utils import secure_filename
        def upload():
            f = request.files["file"]
            f.save(os.path.join(UPLOAD_FOLDER, secure_filename(f.filename)))
    """,
    ),
    # containment checks, sanitisers, and paths that are the caller's own
    (
        "py.path-traversal",
        """
        import os
        def read(base, name):
            full = os.path.realpath(os.path.join(base, name))
            if not full.startswith(base + os.sep):
                raise ValueError(name)
            return open(full).read()
    """,
    ),
    (
        "py.path-traversal",
        """
        from pathlib import Path
        def read(base: Path, name):
            p = (base / name).resolve()
            if not p.is_relative_to(base):
                raise ValueError(name)
            return open(p).read()
    """,
    ),
    (
        "py.path-traversal",
        """
        import os
        from werkzeug.utils import secure_filename
        def store(upload, name):
            upload.save(os.path.join(UPLOAD_DIR, secure_filename(name)))
    """,
    ),
    (
        "py.path-traversal",
        """
        import os
        def passwd(root):
            return open(os.path.join(root, "etc", "passwd")).read()
    """,
    ),
    (
        "py.path-traversal",
        """
        import requests
        def fetch(self, name):
            return requests.get(f"{self.base_url}/{name}")
    """,
    ),
    # near miss: names listed from a directory carry no separator
    (
        "py.path-traversal",
        """
        import os, shutil
        def mirror(src, dst):
            for name in os.listdir(src):
                shutil.copy(os.path.join(src, name), os.path.join(dst, name))
    """,
    ),
    # near miss: the helper only probes; a parameter probed along a search path is no leak
    (
        "py.path-traversal",
        """
        import os
        def compare(a, b, common):
            return [_same(os.path.join(a, x), os.path.join(b, x)) for x in common]

        def _same(x, y):
            return os.stat(x).st_size == os.stat(y).st_size
    """,
    ),
    # near misses: a search along a list of directories; a directory from the environment
    (
        "py.path-traversal",
        """
        import os
        def find_program(name, dirs):
            for d in dirs:
                candidate = os.path.join(d, name)
                if os.path.isfile(candidate):
                    return candidate
    """,
    ),
    (
        "py.path-traversal",
        """
        import os
        def cache_file():
            return open(os.path.join(HOME, os.environ.get("CACHE_NAME", "cache"))).read()
    """,
    ),
    # a helper of the same file that checks containment before returning the path
    (
        "py.path-traversal",
        """
        import os
        from flask import abort, request, send_file
        def _contained(base, name):
            full = os.path.realpath(os.path.join(base, name))
            if os.path.commonpath([base, full]) != base:
                abort(400)
            return full

        def download():
            return send_file(_contained(BASE, request.args["f"]))
    """,
    ),
    (
        "py.tar-extract",
        """
        import tarfile
        def unpack(path, dest):
            with tarfile.open(path) as tf:
                tf.extractall(dest, filter="data")
    """,
    ),
]


def test_flow_through_a_helper_names_the_sink_inside_it() -> None:
    hits = run(
        """
        import os
        from flask import request
        def download():
            return _read(request.args["f"])

        def _read(name):
            return _open_in(BASE, name)

        def _open_in(base, name):
            return open(os.path.join(base, name)).read()
    """,
        changed={4},
    )
    (hit,) = [h for h in hits if h.rule_id == "py.path-traversal"]
    assert hit.line == 4 and "through `open` at line 10" in hit.message


def test_joined_parameter_is_a_warning_request_data_an_error() -> None:
    (joined,) = run("""
        import os
        def remove(name):
            os.remove(os.path.join(UPLOADS, name))
    """)
    (request_data,) = run("""
        import os
        from flask import request
        def remove():
            os.remove(os.path.join(UPLOADS, request.args["f"]))
    """)
    assert joined.severity.name == "WARNING" and "joined onto a base" in joined.message
    assert request_data.severity.name == "ERROR"


def test_pathological_file_of_mutually_calling_helpers_finishes_with_the_fallback() -> None:
    n = 1500
    parts = [
        "import os\nfrom flask import request\n\ndef view():\n    return h0(request.args['f'])\n"
    ]
    parts += [
        f"\ndef h{i}(a, b=None):\n    x = h{(i + 1) % n}(a) + h{(i * 7 + 3) % n}(b, a)\n"
        f"    open(os.path.join('/srv', x))\n    return h{(i - 1) % n}(x, a)\n"
        for i in range(n)
    ]
    started = time.monotonic()
    hits = run("".join(parts))
    assert time.monotonic() - started < 30
    # every helper joins its parameter onto /srv (the view's flow through h0 is found only
    # while the time budget lasts)
    assert n <= len([h for h in hits if h.rule_id == "py.path-traversal"]) <= n + 1


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"def view(request):\n    return helper(request.args['f'])\n", True),
        (b"def view(req):\n    pass\n", True),
        (b"name = self.get_query_argument('f')\n", True),
        (b"@app.route('/f')\ndef f():\n    pass\n", True),
        (b"@router.websocket('/ws')\nasync def ws():\n    pass\n", True),
        (b"@property\ndef requests_done(self):\n    return 1\n", True),  # 'request' in a name
        (b"@property\ndef size(self):\n    return self.required\n", False),
        (b"@app.router\ndef f():\n    x = 'getter'\n", False),
        (b"", False),
    ],
)
def test_request_hint_finds_request_data_and_routes_only(data: bytes, expected: bool) -> None:
    assert request_hint(data) is expected


_HINT_ORACLE = re.compile(
    rb"request|\breq\b|get_(?:query_|body_)?argument|get_(?:secure_)?cookie"
    rb"|@[\w.]*\.(?:route|get|post|put|patch|delete|api_route|websocket)\b"
)
"""What the hint meant as one regex (it was, and cost 9 ns a byte of every file)."""
_HINT_TOKENS = [
    b"req", b"uest", b" ", b"@", b"app", b".", b"route", b"get", b"_", b"argument",
    b"cookie", b"secure_", b"query_", b"body_", b"x", b"\n", b"s", b"(", b"post",
    b"websocket", b"api_route", b"9", b"\xc3\xa9", b"-",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_HINT_TOKENS), max_size=10))
def test_request_hint_answers_as_the_regex_it_replaced(tokens: list[bytes]) -> None:
    data = b"".join(tokens)
    assert request_hint(data) is bool(_HINT_ORACLE.search(data))
