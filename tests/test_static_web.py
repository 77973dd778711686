"""Path traversal (CWE-22) and XSS (CWE-79) rules."""

from __future__ import annotations

import time

from tests.static_cases import run

POSITIVE: list[tuple[str, str]] = [
    ("py.path-traversal", """
        import os
        from flask import request, send_file
        def download():
            name = request.args.get("file")
            return send_file(os.path.join("/srv/files", name))
    """),
    ("py.path-traversal", """
        import os
        @app.route('/delete_video/<filename>')
        def delete_video(filename):
            os.remove("static/videos/{}".format(filename))
    """),
    ("py.path-traversal", """
        import os
        from flask import request
        def upload():
            f = request.files["file"]
            f.save(os.path.join(UPLOAD_FOLDER, f.filename))
    """),
    ("py.path-traversal", """
        from pathlib import Path
        def view(request, name):
            return (Path("/data") / name).read_text()
    """),
    # a parameter joined onto a base directory: the name is meant to stay inside it
    ("py.path-traversal", """
        import os
        class Store:
            def delete(self, key):
                self.backend.delete(os.path.join(self.root, key))
    """),
    ("py.path-traversal", """
        import os
        def remove_upload(name):
            os.remove(f"{UPLOAD_DIR}/{name}")
    """),
    ("py.path-traversal", """
        import os, subprocess
        def purge(base, name):
            subprocess.run(["rm", "-f", os.path.join(base, name)], check=True)
    """),
    ("py.path-traversal", """
        def sizes(root, names):
            total = 0
            for name in names:
                target = "%s/%s" % (root, name)
                total += len(open(target).read())
            return total
    """),
    ("py.path-traversal", """
        import os
        from flask import request
        def exists():
            return os.path.exists(os.path.join(BASE, request.args["f"]))
    """),
    # through a helper of the same file: the helper's parameter reaches the sink
    ("py.path-traversal", """
        import os
        from flask import request
        def download():
            return _read(request.args["f"])

        def _read(name):
            with open(os.path.join(BASE, "public", name)) as fh:
                return fh.read()
    """),
    # a local "safe_join" that only joins is judged by its body, not its name
    ("py.path-traversal", """
        import os
        from flask import request, send_file
        def safe_join(base, name):
            return os.path.join(base, name)

        def download():
            return send_file(safe_join(BASE, request.args["f"]))
    """),
    ("py.tar-extract", """
        import tarfile
        def unpack(path, dest):
            with tarfile.open(path) as tf:
                tf.extractall(dest)
    """),
    ("py.xss-html-format", """
        def gravatar(user, url):
            return '<img src="%s" alt="%s"/>' % (url, user.get_full_name())
    """),
    ("py.xss-html-format", """
        def page(request):
            name = request.values.get("pagename", "")
            request.write('''<html>
            <input name="pagename" value="%(name)s">
            </html>''' % locals())
    """),
    ("py.xss-mark-safe", """
        from django.utils.safestring import mark_safe
        def bio(profile):
            return mark_safe(profile.bio)
    """),
    ("py.xss-mark-safe", """
        from django.utils.html import format_html
        def bold(name):
            return format_html("<b>%s</b>" % name)
    """),
    ("py.xss-template-string", """
        from flask import request, render_template_string
        def hello():
            return render_template_string("<p>Hello " + request.args["name"] + "</p>")
    """),
    ("py.xss-response", """
        from django.http import HttpResponse
        def echo(request):
            return HttpResponse(request.GET["q"])
    """),
    ("py.xss-response", """
        from flask import request
        @app.route("/hello")
        def hello():
            name = request.args.get("name", "")
            return "Hello " + name
    """),
    ("py.xss-response", """
        @app.route("/u/<username>")
        def profile(username):
            return f"<h1>{username}</h1>"
    """),
    ("py.xss-markdown", """
        from markdown import markdown
        class Comment:
            async def html_content(self):
                content = await self.content
                return markdown(content)
    """),
    ("py.xss-json-in-template", """
        import json
        def edit(request):
            items = load(request.user)
            return render('editor.mako', request, {'items_json': json.dumps(items)})
    """),
    ("py.xss-autoescape-off", """
        import jinja2
        env = jinja2.Environment(loader=jinja2.FileSystemLoader("templates"))
    """),
    ("py.xss-response", """
        class BuildHandler(webapp2.RequestHandler):
            def get(self, build_id):
                try:
                    build_id = int(build_id)
                except ValueError as ex:
                    self.response.write(ex.message)
                    self.abort(400)
    """),
    ("py.xss-response", """
        from django.http import HttpResponse
        def upload(request):
            try:
                parse(request.body)
            except Exception as err:
                return HttpResponse("Upload failed: %s" % err, status=400)
    """),
    ("py.xss-url-in-template", """
        class LoginHandler(BaseHandler):
            def get(self):
                self.render('login.html', {
                    'title': 'Sign in',
                    'dest': self.request.get('dest'),
                })
    """),
    ("py.xss-url-in-template", """
        from django.views.generic import TemplateView
        class Page(TemplateView):
            def get_context_data(self, **kwargs):
                data = super().get_context_data(**kwargs)
                if "next" in self.request.GET:
                    data["next_url"] = self.request.GET["next"]
                return data
    """),
    ("py.xss-url-in-template", """
        from flask import request, render_template
        def done():
            target = request.args.get("return_to", "/")
            return render_template("done.html", return_to=target)
    """),
]

NEGATIVE: list[tuple[str, str]] = [
    # near miss: the link is checked first; a non-URL name; a url_for target
    ("py.xss-url-in-template", """
        class LoginHandler(BaseHandler):
            def get(self):
                dest = self.request.get('dest')
                check_redirect_url(dest)
                self.render('login.html', {'dest': dest, 'user': self.request.get('user')})
    """),
    ("py.xss-url-in-template", """
        import urllib.parse
        from django.views.generic import TemplateView
        class Page(TemplateView):
            def get_context_data(self, **kwargs):
                data = super().get_context_data(**kwargs)
                back = self.request.GET.get("back")
                if back is not None and urllib.parse.urlparse(back).scheme == "":
                    data["back_link"] = back
                data["query"] = self.request.GET.get("q")
                return data
    """),
    ("py.xss-url-in-template", """
        from flask import request, render_template, url_for
        def done():
            page = int(request.args.get("page", 1))
            return render_template("done.html", next_url=url_for("list", page=page + 1))
    """),
    # near miss: a fixed message for the caught exception; the exception only logged; JSON
    ("py.xss-response", """
        class BuildHandler(webapp2.RequestHandler):
            def get(self, build_id):
                try:
                    build_id = int(build_id)
                except ValueError as ex:
                    log.warning("bad id: %s", ex)
                    self.response.write('invalid build id')
                    self.abort(400)
    """),
    ("py.xss-response", """
        from django.http import HttpResponse
        from django.utils.html import escape
        def upload(request):
            try:
                parse(request.body)
            except Exception as err:
                return HttpResponse("Upload failed: %s" % escape(err), status=400)
            except KeyError as missing:
                return HttpResponse(str(missing), content_type="text/plain")
    """),
    ("py.path-traversal", """
        import os
        from flask import request, send_file
        from werkzeug.utils import secure_filename
        def download():
            name = secure_filename(request.args.get("file"))
            return send_file(os.path.join("/srv/files", name))
    """),
    # near miss: containment checked before use
    ("py.path-traversal", """
        import os
        from flask import request, abort
        def download():
            path = os.path.realpath(os.path.join(BASE, request.args["file"]))
            if not path.startswith(BASE):
                abort(404)
            return open(path).read()
    """),
    # near miss: a path from the command line is the local user's own choice
    ("py.path-traversal", """
        import sys
        def main():
            with open(sys.argv[1]) as fh:
                return fh.read()
    """),
    ("py.path-traversal", """
        def read(path):
            return open(path).read()
    """),
    ("py.path-traversal", """
        import os
        from flask import request
        from werkzeug.utils import secure_filename
        def upload():
            f = request.files["file"]
            f.save(os.path.join(UPLOAD_FOLDER, secure_filename(f.filename)))
    """),
    # containment checks, sanitisers, and paths that are the caller's own
    ("py.path-traversal", """
        import os
        def read(base, name):
            full = os.path.realpath(os.path.join(base, name))
            if not full.startswith(base + os.sep):
                raise ValueError(name)
            return open(full).read()
    """),
    ("py.path-traversal", """
        from pathlib import Path
        def read(base: Path, name):
            p = (base / name).resolve()
            if not p.is_relative_to(base):
                raise ValueError(name)
            return open(p).read()
    """),
    ("py.path-traversal", """
        import os
        from werkzeug.utils import secure_filename
        def store(upload, name):
            upload.save(os.path.join(UPLOAD_DIR, secure_filename(name)))
    """),
    ("py.path-traversal", """
        import os
        def passwd(root):
            return open(os.path.join(root, "etc", "passwd")).read()
    """),
    ("py.path-traversal", """
        import requests
        def fetch(self, name):
            return requests.get(f"{self.base_url}/{name}")
    """),
    # near miss: names listed from a directory carry no separator
    ("py.path-traversal", """
        import os, shutil
        def mirror(src, dst):
            for name in os.listdir(src):
                shutil.copy(os.path.join(src, name), os.path.join(dst, name))
    """),
    # near miss: the helper only probes; a parameter probed along a search path is no leak
    ("py.path-traversal", """
        import os
        def compare(a, b, common):
            return [_same(os.path.join(a, x), os.path.join(b, x)) for x in common]

        def _same(x, y):
            return os.stat(x).st_size == os.stat(y).st_size
    """),
    # near misses: a search along a list of directories; a directory from the environment
    ("py.path-traversal", """
        import os
        def find_program(name, dirs):
            for d in dirs:
                candidate = os.path.join(d, name)
                if os.path.isfile(candidate):
                    return candidate
    """),
    ("py.path-traversal", """
        import os
        def cache_file():
            return open(os.path.join(HOME, os.environ.get("CACHE_NAME", "cache"))).read()
    """),
    # a helper of the same file that checks containment before returning the path
    ("py.path-traversal", """
        import os
        from flask import abort, request, send_file
        def _contained(base, name):
            full = os.path.realpath(os.path.join(base, name))
            if os.path.commonpath([base, full]) != base:
                abort(400)
            return full

        def download():
            return send_file(_contained(BASE, request.args["f"]))
    """),
    ("py.tar-extract", """
        import tarfile
        def unpack(path, dest):
            with tarfile.open(path) as tf:
                tf.extractall(dest, filter="data")
    """),
    ("py.xss-html-format", """
        from django.utils.html import format_html
        def gravatar(user, url):
            return format_html('<img src="{0}" alt="{1}"/>', url, user.get_full_name())
    """),
    ("py.xss-html-format", """
        from html import escape
        def cell(value):
            return "<td>%s</td>" % escape(value)
    """),
    # near miss: angle brackets that are not HTML
    ("py.xss-html-format", """
        def describe(name, own):
            return '<cdata %r %s>' % (name, own)
    """),
    ("py.xss-mark-safe", """
        from markupsafe import Markup
        def bold():
            return Markup("<b>fixed</b>")
    """),
    ("py.xss-template-string", """
        from flask import render_template_string
        def hello(name):
            return render_template_string("<p>Hello {{ name }}</p>", name=name)
    """),
    ("py.xss-response", """
        from django.http import HttpResponse
        from django.utils.html import escape
        def echo(request):
            return HttpResponse(escape(request.GET["q"]))
    """),
    ("py.xss-response", """
        from flask import request, escape
        @app.route("/hello")
        def hello():
            return "Hello " + escape(request.args.get("name", ""))
    """),
    # near miss: an open redirect is not XSS; a helper that is not a view
    ("py.xss-response", """
        from flask import request, redirect
        @app.route("/go")
        def go():
            return redirect(request.args["next"])

        def greeting(name):
            return "Hello " + name
    """),
    ("py.xss-markdown", """
        import bleach
        from markdown import markdown
        def render(text):
            return bleach.clean(markdown(text))
    """),
    ("py.xss-json-in-template", """
        import json
        def edit(request):
            items = load(request.user)
            return render('editor.mako', request, {
                'items_json': json.dumps(items, cls=JSONEncoderForHTML)})
    """),
    ("py.xss-autoescape-off", """
        import jinja2
        env = jinja2.Environment(autoescape=jinja2.select_autoescape())
    """),
]


def test_removing_a_sanitiser_is_reported_at_the_changed_assignment() -> None:
    code = """
        from markdown import markdown
        async def html_content(self):
            content = await self.content
            if not content:
                return ''
            return markdown(content)
    """
    (hit,) = run(code, changed={3})
    assert hit.rule_id == "py.xss-markdown" and hit.line == 3 and "line 6" in hit.message


def test_flow_through_a_helper_names_the_sink_inside_it() -> None:
    hits = run("""
        import os
        from flask import request
        def download():
            return _read(request.args["f"])

        def _read(name):
            return _open_in(BASE, name)

        def _open_in(base, name):
            return open(os.path.join(base, name)).read()
    """, changed={4})
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
    parts = ["import os\nfrom flask import request\n\ndef view():\n"
             "    return h0(request.args['f'])\n"]
    parts += [f"\ndef h{i}(a, b=None):\n    x = h{(i + 1) % n}(a) + h{(i * 7 + 3) % n}(b, a)\n"
              f"    open(os.path.join('/srv', x))\n    return h{(i - 1) % n}(x, a)\n"
              for i in range(n)]
    started = time.monotonic()
    hits = run("".join(parts))
    assert time.monotonic() - started < 30
    # every helper joins its parameter onto /srv (the view's flow through h0 is found only
    # while the time budget lasts)
    assert n <= len([h for h in hits if h.rule_id == "py.path-traversal"]) <= n + 1


def test_response_and_html_build_on_one_line_give_one_finding() -> None:
    hits = run("""
        from django.http import HttpResponse
        def echo(request):
            return HttpResponse("<p>%s</p>" % request.GET["q"])
    """)
    assert [h.cwe for h in hits] == ["CWE-79"]
