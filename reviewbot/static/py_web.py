"""Web rules: path traversal (CWE-22) and cross-site scripting (CWE-79)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.findings import Severity
from reviewbot.static.base import StaticHit
from reviewbot.static.calls import Program, bind, is_marked, marked
from reviewbot.static.py_injection import is_runner
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import (
    args,
    call_name,
    end_line,
    is_constant,
    kwarg,
    last_name,
    line,
    string_text,
    text,
    unparen,
    words,
)
from reviewbot.static.rules import RULES
from reviewbot.static.strings import SLOT, built, outermost_builds, risky_span, slot_taint
from reviewbot.static.taint import Level, Scope, Sink, Taint, is_safe_call, source_of

if TYPE_CHECKING:
    from tree_sitter import Node

PATH = Sink("path", frozenset({"basename", "secure_filename", "safe_join", "safe_path",
                               "listdir", "scandir", "iterdir", "walk"}), trust_names=False)
"""Listing a directory (os.listdir, os.scandir, os.walk, Path.iterdir) gives names without a
separator: joining one onto a directory stays inside; reading the listed directory is a sink
of its own."""
HTML = Sink("html", frozenset({"format_html", "strip_tags", "urlencode", "dumps", "jsonify",
                               "json_script", "linebreaks", "Markup.escape", "e"}))

_FILE_SINKS = frozenset({
    "open", "io.open", "codecs.open", "os.open", "os.remove", "os.unlink", "os.rmdir",
    "os.removedirs", "os.rename", "os.renames", "os.replace", "os.makedirs", "os.mkdir",
    "os.listdir", "os.scandir", "os.walk", "os.chmod", "os.chown", "os.truncate", "os.symlink",
    "os.link", "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree",
    "shutil.move", "shutil.rmtree", "send_file", "flask.send_file", "send_from_directory",
    "flask.send_from_directory", "FileResponse", "static.File", "tarfile.open",
    "zipfile.ZipFile", "aiofiles.open",
})
_PROBES = frozenset({"os.path.exists", "os.path.lexists", "os.path.isfile", "os.path.isdir",
                     "os.path.islink", "os.path.getsize", "os.path.getmtime", "os.stat",
                     "os.lstat", "os.access"})
"""Calls that tell whether (or how big, how old) a file is: with request data they probe
outside the base (a parameter joined onto a directory and probed is a search, not a leak)."""
_TWO_PATHS = frozenset({"rename", "renames", "replace", "copy", "copy2", "copyfile", "copytree",
                        "move", "symlink", "link"})
_FILE_TOOLS = frozenset({"cat", "tee", "cp", "mv", "rm", "ln", "mkdir", "rmdir", "touch",
                         "chmod", "chown", "chgrp", "truncate", "dd", "install", "rsync", "tar",
                         "unzip", "head", "tail", "readlink", "stat"})
"""Programs whose operands are files: run as a command, they open what they are given."""
_STORAGE_VERBS = frozenset({"get", "read", "write", "delete", "remove", "put", "set", "unlink",
                            "load", "save", "open", "list", "listdir", "exists", "rmtree",
                            "upload", "download", "fetch", "store", "makedirs", "mkdir"})
"""Methods of a store (``self.etcd.delete``) that take a key built with os.path.join."""
_JOIN_CALL = re.compile(r"(?:^|\.)(?:os\.path|posixpath|ntpath)\.join$|\.joinpath$")
_MARK_SAFE = frozenset({"Markup", "markupsafe.Markup", "mark_safe", "SafeString", "SafeText",
                        "SafeUnicode", "jinja2.Markup", "flask.Markup"})
_TEMPLATE_FROM_STRING = frozenset({"render_template_string", "flask.render_template_string",
                                   "jinja2.Template", "Template.from_string", "from_string"})
_RESPONSE = re.compile(r"(?:^|\.)(?:HttpResponse|Response|make_response|HTMLResponse)$"
                       r"|(?:^|\.)(?:response|out|request|resp|wfile)\.write$|^self\.write$")
_MARKDOWN = re.compile(r"^(?:markdown|markdown\.markdown|markdown2\.markdown|md\.markdown)$"
                       r"|Markdown\(.*\)\.convert$")
_RENDER = frozenset({"render", "render_to_response", "render_template", "TemplateResponse",
                     "render_to_string", "direct_to_template"})
_TAGS = (
    "a|abbr|article|aside|audio|b|blockquote|body|br|button|canvas|caption|code|dd|details|"
    "div|dl|dt|em|embed|fieldset|figure|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|"
    "input|label|legend|li|link|main|meta|nav|object|ol|optgroup|option|p|pre|script|section|"
    "select|small|source|span|strong|style|sub|summary|sup|svg|table|tbody|td|textarea|tfoot|"
    "th|thead|title|tr|u|ul|video"
)
_HTML_TAG = re.compile(rf"<\s*/?\s*(?:{_TAGS})(?:\s[^<>]*)?/?\s*>|<(?:{_TAGS})\s+[a-zA-Z-]+\s*=",
                       re.IGNORECASE)


def check_path(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    program = scope.program
    for n in scope.select("call"):
        name = call_name(n)
        if last_name(name) in ("extractall", "extract") and ctx.touched(n):
            hits += _tar_extract(scope, n, name)
        targets = path_targets(scope, n, name)
        if targets:
            hits += _flow(ctx, scope, n, name, targets)
        elif program is not None and (name in program.functions or name.startswith(
                ("self.", "cls."))) and _may_read_requests(ctx):
            hits += _through_helper(ctx, scope, program, n, name)
    return hits


def path_targets(scope: Scope, n: Node, name: str) -> list[Node]:
    """The arguments of ``n`` that name a file it opens, writes, deletes or probes."""
    last = last_name(name)
    if last in _PATH_METHODS:
        receiver = _path_receiver(n)
        if receiver is not None:
            return [receiver]
    if name in _FILE_SINKS or name in _PROBES:
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
    return first.type == "string" and is_constant(first) and \
        string_text(first).strip() in _FILE_TOOLS


def _file_tool_paths(positional: list[Node]) -> list[Node]:
    """``execute("cp", src, dst)``, ``run(["rm", "-f", path])``: the non-constant operands
    of a file utility run as a command."""
    items = positional
    first = unparen(positional[0])
    if first.type in ("list", "tuple") and len(positional) == 1:
        items = first.named_children
    if not items or not is_constant(items[0]) or string_text(items[0]).strip() not in _FILE_TOOLS:
        return []
    return [a for a in items[1:] if a.type not in ("keyword_argument", "list_splat",
                                                    "dictionary_splat") and not is_constant(a)]


def _is_join(scope: Scope, n: Node) -> bool:
    """``os.path.join(...)`` / ``base / name``, directly or as the value of a variable."""
    n = unparen(n)
    if n.type == "identifier":
        return any(d.value is not None and d.value.type != "identifier"
                   and _is_join(scope, d.value) for d in scope.reaching(text(n), n))
    if n.type == "call":
        return bool(_JOIN_CALL.search(call_name(n)))
    op = n.child_by_field_name("operator") if n.type == "binary_operator" else None
    return op is not None and op.type == "/"


def _reported(taint: Taint) -> bool:
    """Request data, or a parameter joined onto a base path (a name meant to stay inside)."""
    return taint.level >= Level.SOURCE or (taint.level >= Level.PARAM and taint.joined
                                           and not taint.scalar)


def _flow(ctx: Ctx, scope: Scope, n: Node, name: str, targets: list[Node],
          via: str = "", probe: bool | None = None) -> list[StaticHit]:
    probe = name in _PROBES if probe is None else probe
    for t in targets:
        taint = scope.level(t, PATH)
        if not _reported(taint) or (probe and taint.level < Level.SOURCE):
            continue  # finding a program with os.path.isfile(join(d, name)) is no attack
        source = taint.level >= Level.SOURCE
        anchor = ctx.anchor(n, scope, [t], PATH, Level.SOURCE if source else Level.PARAM,
                            f"`{name}`")
        if anchor is None:
            continue
        what = taint.origin or ("user input" if source else "a parameter")
        joined = "" if source else " joined onto a base directory"
        return [RULES["py.path-traversal"].hit(
            anchor.line, anchor.end, "path traversal: user-controlled path" if source else
            "path traversal: unchecked name joined onto a base directory",
            f"A path from {what}{joined} reaches `{name}`{via}{anchor.note} "
            "without a containment check; '../' or an absolute path escapes the intended "
            "directory. Use werkzeug.utils.secure_filename / safe_join, or resolve with "
            "os.path.realpath and check the result starts with the base directory.",
            severity=None if source else Severity.WARNING, confidence=0.9 if source else 0.6)]
    return []


_REQUEST_HINT = re.compile(
    rb"request|\breq\b|get_(?:query_|body_)?argument|get_(?:secure_)?cookie"
    rb"|@[\w.]*\.(?:route|get|post|put|patch|delete|api_route|websocket)\b")


def _may_read_requests(ctx: Ctx) -> bool:
    """Could the file read request data at all? Flows into helpers are followed only then
    (a cheap bound: most files of a project serve no requests)."""
    found = ctx.cache.get("path-request-hint")
    if found is None:
        found = ctx.cache["path-request-hint"] = bool(_REQUEST_HINT.search(ctx.src.data))
    return bool(found)


def _through_helper(ctx: Ctx, scope: Scope, program: Program[Scope], n: Node, name: str
                    ) -> list[StaticHit]:
    """A call to a function of this file that passes an argument on to a file sink."""
    found = program.callee(n)
    if found is None:
        return []
    fn, bound = found
    argl = n.child_by_field_name("arguments")
    if argl is None or not _might_sink(ctx, program, fn, 0) or not any(
            _reported(scope.level(a, PATH)) for a in argl.named_children):
        return []  # nothing worth following into the helper
    reached = _sink_params(ctx, program, fn)
    if not reached:
        return []
    params = list(program.scope(fn).params)
    for value, param in bind(n, params, bound):
        hit = reached.get(param) if param is not None else next(iter(reached.values()))
        if hit is None:
            continue
        sink_name, sink_line = hit
        found_hits = _flow(ctx, scope, n, name, [value],
                           f" (through `{sink_name}` at line {sink_line})",
                           probe=sink_name in _PROBES)
        if found_hits:
            return found_hits
    return []


_SINK_WORD = re.compile(
    rb"\bopen\s*\(|\bos\.\w+\s*\(|\bshutil\.|send_file|send_from_directory|FileResponse"
    rb"|\bFile\s*\(|ZipFile|tarfile\.|\.(?:read_text|read_bytes|write_text|write_bytes|unlink"
    rb"|rmdir|mkdir|touch|iterdir|rmtree|rename|save|save_as)\s*\(|path\.join|joinpath"
    rb"|\(\s*\[?\s*[bu]?['\"](?:cat|chgrp|chmod|chown|cp|dd|head|install|ln|mkdir|mv|readlink"
    rb"|rm|rmdir|rsync|stat|tail|tar|tee|touch|truncate|unzip)['\"\s]")
"""A cheap test for the text of a function that may hold a file sink (see path_targets)."""
_CALLED = re.compile(rb"(?<![\w.])(?:self\.|cls\.)?(\w+)\s*\(")


def _might_sink(ctx: Ctx, program: Program[Scope], fn: Node, depth: int) -> bool:
    """A cheap, conservative test of :func:`_sink_params`: does the text of ``fn``, or of a
    function of the file it calls (three deep), name a file sink?"""
    cache: dict[tuple[int, int], bool] = ctx.cache.setdefault("path-might-sink", {})
    key = (fn.id, depth)
    if key in cache:
        return cache[key]
    cache[key] = False  # a cycle adds nothing
    body = fn.text or b""
    found = bool(_SINK_WORD.search(body))
    if not found and depth < 3:
        cls = _class_of(fn)
        for name in set(_CALLED.findall(body)):
            short = name.decode()
            callee = program.functions.get(short) or (
                program.functions.get(f"{cls}.{short}") if cls else None)
            if callee is not None and not isinstance(callee, str) and callee.id != fn.id and \
                    _might_sink(ctx, program, callee, depth + 1):
                found = True
                break
    cache[key] = found
    return found


def _class_of(fn: Node) -> str:
    block = fn.parent
    while block is not None and block.type == "decorated_definition":
        block = block.parent
    cls = block.parent if block is not None else None
    return text(cls.child_by_field_name("name")) if cls is not None and \
        cls.type == "class_definition" else ""


def _sink_params(ctx: Ctx, program: Program[Scope], fn: Node) -> dict[str, tuple[str, int]]:
    """The parameters of ``fn`` that reach a file sink in it (or in a helper it calls,
    within the program's depth and time bounds), with that sink's name and line."""
    cache: dict[int, dict[str, tuple[str, int]]] = ctx.cache.setdefault("path-sink-params", {})
    if fn.id in cache:
        return cache[fn.id]
    if not program.enter(fn):
        return {}
    out: dict[str, tuple[str, int]] = {}
    try:
        base = program.scope(fn)
        sinks: list[tuple[Node, tuple[str, int]]] = []
        for call in base.select("call"):
            name = call_name(call)
            targets = path_targets(base, call, name)
            sinks += [(t, (name, line(call))) for t in targets]
            inner = program.callee(call) if not targets else None
            if inner is not None:
                reached = _sink_params(ctx, program, inner[0])
                for value, param in bind(call, list(program.scope(inner[0]).params), inner[1]):
                    hit = reached.get(param) if param is not None else None
                    if hit is not None:
                        sinks.append((value, hit))
        sinks.sort(key=lambda s: s[1][0] in _PROBES)  # a real sink before a probe
        for param in base.params:
            if param in out or base.params[param].scalar:
                continue
            variant = base.with_params(marked(base.params, param))
            for target, where in sinks:
                if is_marked(variant.level(target, PATH)):
                    out[param] = where
                    break
    finally:
        program.leave(fn)
    cache[fn.id] = out
    return out


_PATH_METHODS = frozenset({"open", "read_text", "read_bytes", "write_text", "write_bytes",
                           "unlink", "rmdir", "mkdir", "touch", "rename", "replace", "iterdir",
                           "rmtree"})


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


def _tar_extract(scope: Scope, n: Node, name: str) -> list[StaticHit]:
    fn = n.child_by_field_name("function")
    obj = fn.child_by_field_name("object") if fn is not None and fn.type == "attribute" else None
    if obj is None or kwarg(n, "filter") is not None or kwarg(n, "members") is not None:
        return []
    origin = unparen(obj)
    if origin.type == "identifier":
        defs = scope.reaching(text(origin), origin)
        origin = next((unparen(d.value) for d in defs if d.value is not None), origin)
    if origin.type != "call" or call_name(origin) not in ("tarfile.open", "tarfile.TarFile",
                                                          "TarFile.open"):
        return []
    return [RULES["py.tar-extract"].hit(
        line(n), end_line(n), f"{last_name(name)}() without a filter",
        "Tar members can be named ../x or /etc/x, or be links pointing outside the target, "
        "so extracting an archive you did not create can overwrite any file (tar slip). Pass "
        "filter=\"data\" (Python 3.12+, backported to 3.8+) or check each member's path.")]


def check_xss(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for n in scope.select("call", "return_statement"):
        if n.type == "call":
            hits += _xss_call(ctx, scope, n)
        elif n.type == "return_statement" and scope.is_view and n.named_children:
            hits += _view_return(ctx, scope, n, n.named_children[0])
    hits += _html_builds(ctx, scope)
    return hits


def _view_return(ctx: Ctx, scope: Scope, stmt: Node, value: Node) -> list[StaticHit]:
    """``return "Hello " + request.args["name"]`` from a view: Flask, Bottle and friends
    send a returned str as text/html."""
    value = unparen(value)
    b = built(value, scope)
    if b is None:
        # the request value itself, directly or through a variable (not redirect(x) and
        # other calls that turn it into something else)
        if value.type == "identifier":
            direct = any(d.value is not None and (built(d.value, scope) is not None
                                                   or _is_request_read(d.value))
                         for d in scope.reaching(text(value), value))
        else:
            direct = _is_request_read(value)
        if not direct:
            return []
    taint = b.taint(scope, HTML) if b is not None else scope.level(value, HTML)
    if taint.level < Level.SOURCE:
        return []
    anchor = ctx.anchor(stmt, scope, [value], HTML, Level.SOURCE, "the response")
    if anchor is None:
        return []
    return [RULES["py.xss-response"].hit(
        anchor.line, anchor.end, "request data returned as the response",
        f"The view returns {taint.origin} unescaped{anchor.note}; a returned str is sent as "
        "text/html, so markup in the value runs in the browser. Escape it (markupsafe.escape) "
        "or render a template with autoescaping.")]


def _is_request_read(n: Node) -> bool:
    """``request.args["x"]``, ``request.form.get("x")``, ``self.request.get("x")``."""
    n = unparen(n)
    while n.type == "subscript":
        inner = n.child_by_field_name("value")
        if inner is None:
            break
        n = inner
    if n.type == "call":
        name = call_name(n)
        receiver = name.rsplit(".", 1)[0] if "." in name else ""
        return source_of(name, call=True) is not None or (
            bool(receiver) and source_of(receiver) is not None)
    return n.type == "attribute" and source_of(re.sub(r"\s+", "", text(n))) is not None


def _xss_call(ctx: Ctx, scope: Scope, n: Node) -> list[StaticHit]:
    name = call_name(n)
    positional = args(n)
    first = positional[0] if positional else None
    if last_name(name) == "format_html" and first is not None:
        b = built(first, scope)
        taint = b.taint(scope, HTML) if b is not None else None
        if taint is not None and taint.level >= Level.LOCAL:
            anchor = ctx.anchor(n, scope, [first], HTML, Level.LOCAL, f"`{name}`")
            if anchor is not None:
                return [RULES["py.xss-mark-safe"].hit(
                    anchor.line, anchor.end, "format_html() on an already formatted string",
                    f"format_html escapes only its arguments; here the format string itself is "
                    f"built with {b.how if b else 'formatting'} from {taint.origin or 'a value'}"
                    f"{anchor.note} and is marked safe unescaped. Pass the values as "
                    "format_html arguments: format_html(\"<b>{}</b>\", value).")]
        return []
    if name in _MARK_SAFE and first is not None:
        taint = scope.level(first, HTML)
        rendered = unparen(first).type == "call" and (
            set(words(last_name(call_name(unparen(first))))) & {"render", "template", "html"})
        if taint.level >= Level.LOCAL and not rendered:
            anchor = ctx.anchor(n, scope, [first], HTML, Level.LOCAL, f"`{name}`")
            if anchor is not None:
                return [RULES["py.xss-mark-safe"].hit(
                    anchor.line, anchor.end, f"{last_name(name)}() on a non-constant value",
                    f"`{name}` marks its argument as safe HTML, so it is never escaped; the "
                    f"value comes from {taint.origin or 'outside this literal'}{anchor.note}. "
                    "Escape the parts (markupsafe.escape / format_html) instead.",
                    severity=Severity.ERROR if taint.level >= Level.PARAM else None)]
    elif first is not None and "Sandbox" not in name and (name in _TEMPLATE_FROM_STRING or (
            last_name(name) == "from_string" and _jinja_env(name))):
        taint = scope.level(first, HTML)
        if taint.level >= Level.PARAM:
            anchor = ctx.anchor(n, scope, [first], HTML, Level.PARAM, f"`{name}`")
            if anchor is not None:
                return [RULES["py.xss-template-string"].hit(
                    anchor.line, anchor.end, "template compiled from a non-constant string",
                    f"The template text comes from {taint.origin}{anchor.note}: template syntax "
                    "in it runs on the server (SSTI) and HTML in it is not escaped. Keep the "
                    "template constant and pass values as context variables.")]
    elif _RESPONSE.search(name) and first is not None:
        taint = scope.level(first, HTML)
        if taint.level >= Level.SOURCE:
            anchor = ctx.anchor(n, scope, [first], HTML, Level.SOURCE, f"`{name}`")
            if anchor is not None:
                return [RULES["py.xss-response"].hit(
                    anchor.line, anchor.end, "request data written to the response",
                    f"{taint.origin} is written to the response by `{name}`{anchor.note} "
                    "without escaping. Escape it (html.escape / markupsafe.escape) or render a "
                    "template with autoescaping.")]
    elif _MARKDOWN.search(name) and first is not None and not _sanitised_by_parent(n, HTML):
        taint = scope.level(first, HTML)
        if taint.level >= Level.LOCAL:
            anchor = ctx.anchor(n, scope, [first], HTML, Level.LOCAL, f"`{name}`")
            if anchor is not None:
                return [RULES["py.xss-markdown"].hit(
                    anchor.line, anchor.end, "Markdown rendered without sanitising",
                    f"`{name}` keeps raw HTML from its input (here "
                    f"{taint.origin or 'a computed value'}{anchor.note}), so <script> or "
                    "onerror= in the text reaches the page. Sanitise the output "
                    "(bleach.clean / nh3.clean) or escape the input.",
                    confidence=0.6)]
    elif last_name(name) == "Environment" and ctx.touched(n) and _jinja(ctx):
        autoescape = kwarg(n, "autoescape")
        if autoescape is None or autoescape.type == "false":
            return [RULES["py.xss-autoescape-off"].hit(
                line(n), end_line(n), "jinja2 Environment without autoescaping",
                "jinja2 does not escape by default, so every {{ value }} in an HTML template "
                "is inserted raw (XSS). Pass autoescape=select_autoescape() (or True).")]
    elif name == "json.dumps" and first is not None and kwarg(n, "cls") is None:
        hits = _json_in_template(ctx, scope, n, first)
        if hits:
            return hits
    return []


def _jinja_env(callee: str) -> bool:
    receiver = callee.rsplit(".", 1)[0] if "." in callee else ""
    return bool(set(words(receiver.rsplit(".", 1)[-1])) & {"env", "environment", "jinja", "jinja2"})


def _jinja(ctx: Ctx) -> bool:
    if "jinja" not in ctx.cache:
        ctx.cache["jinja"] = b"jinja2" in ctx.src.data
    return bool(ctx.cache["jinja"])


def _sanitised_by_parent(n: Node, sink: Sink) -> bool:
    cur = n.parent
    while cur is not None and cur.type in ("parenthesized_expression", "argument_list"):
        if cur.type == "argument_list" and cur.parent is not None:
            return is_safe_call(call_name(cur.parent), sink)
        cur = cur.parent
    return False


def _json_in_template(ctx: Ctx, scope: Scope, n: Node, first: Node) -> list[StaticHit]:
    pair = n.parent
    if pair is None or pair.type != "pair" or pair.child_by_field_name("value") != n:
        return []
    dictionary = pair.parent
    argl = dictionary.parent if dictionary is not None else None
    render = argl.parent if argl is not None and argl.type == "argument_list" else None
    if render is None or last_name(call_name(render)) not in _RENDER:
        return []
    if scope.level(first, HTML).level < Level.LOCAL or not ctx.touched(n):
        return []
    return [RULES["py.xss-json-in-template"].hit(
        line(n), line(n), "json.dumps() output passed to a template",
        "json.dumps does not escape <, > or &; a template that puts this into a <script> block "
        "(the usual reason to pass JSON) lets a value containing </script> break out. Use an "
        "HTML-safe encoder (e.g. cls=DjangoJSONEncoder plus escaping, JSONEncoderForHTML) or "
        "Django's json_script / Jinja's tojson.", confidence=0.6)]


def _html_builds(ctx: Ctx, scope: Scope) -> list[StaticHit]:
    hits: list[StaticHit] = []
    for b in outermost_builds(scope):
        if not b.known or not _HTML_TAG.search(b.text.replace(SLOT, "x")):
            continue
        parent = b.node.parent
        if parent is not None and parent.type == "argument_list" and parent.parent is not None \
                and (call_name(parent.parent) in _MARK_SAFE
                     or is_safe_call(call_name(parent.parent), HTML)):
            continue
        risky = [(s, slot_taint(scope, b, s, HTML)) for s in b.slots]
        risky = [(s, t) for s, t in risky if t.level >= Level.PARAM and not t.scalar]
        if not risky:
            continue
        taint = max((t for _, t in risky), key=lambda t: t.level)
        anchor = ctx.anchor(b.node, scope, [s.expr for s, _ in risky if s.expr is not None],
                            HTML, Level.PARAM, "the HTML", risky_span(b, [s for s, _ in risky]))
        if anchor is None:
            continue
        hits.append(RULES["py.xss-html-format"].hit(
            anchor.line, anchor.end, "HTML built from unescaped values",
            f"HTML is built with {b.how} from {taint.origin or 'a parameter'}{anchor.note} "
            "without escaping; markup in the value becomes part of the page (XSS). Use "
            "format_html / markupsafe.escape on each value, or a template with autoescaping.",
            severity=Severity.ERROR if taint.level >= Level.SOURCE else None))
    return hits
