"""Path traversal (CWE-22) and XSS (CWE-79) rules."""

from __future__ import annotations

import pytest

from tests.static_cases import rule_ids, run

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
]

NEGATIVE: list[tuple[str, str]] = [
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


@pytest.mark.parametrize(("rule", "code"), POSITIVE)
def test_rule_fires(rule: str, code: str) -> None:
    assert rule in rule_ids(code)


@pytest.mark.parametrize(("rule", "code"), NEGATIVE)
def test_rule_stays_quiet(rule: str, code: str) -> None:
    assert rule not in rule_ids(code)


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


def test_response_and_html_build_on_one_line_give_one_finding() -> None:
    hits = run("""
        from django.http import HttpResponse
        def echo(request):
            return HttpResponse("<p>%s</p>" % request.GET["q"])
    """)
    assert [h.cwe for h in hits] == ["CWE-79"]
