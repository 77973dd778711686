"""Cross-site scripting (CWE-79) rules. Path traversal is in ``test_static_paths.py``."""

from __future__ import annotations

from tests.static_cases import run

POSITIVE: list[tuple[str, str]] = [
    (
        "py.xss-html-format",
        """
        def gravatar(user, url):
            return '<img src="%s" alt="%s"/>' % (url, user.get_full_name())
    """,
    ),
    (
        "py.xss-html-format",
        """
        def page(request):
            name = request.values.get("pagename", "")
            request.write('''<html>
            <input name="pagename" value="%(name)s">
            </html>''' % locals())
    """,
    ),
    (
        "py.xss-mark-safe",
        """
        from django.utils.safestring import mark_safe
        def bio(profile):
            return mark_safe(profile.bio)
    """,
    ),
    (
        "py.xss-mark-safe",
        """
        from django.utils.html import format_html
        def bold(name):
            return format_html("<b>%s</b>" % name)
    """,
    ),
    (
        "py.xss-template-string",
        """
        from flask import request, render_template_string
        def hello():
            return render_template_string("<p>Hello " + request.args["name"] + "</p>")
    """,
    ),
    (
        "py.xss-response",
        """
        from django.http import HttpResponse
        def echo(request):
            return HttpResponse(request.GET["q"])
    """,
    ),
    (
        "py.xss-response",
        """
        from flask import request
        @app.route("/hello")
        def hello():
            name = request.args.get("name", "")
            return "Hello " + name
    """,
    ),
    (
        "py.xss-response",
        """
        @app.route("/u/<username>")
        def profile(username):
            return f"<h1>{username}</h1>"
    """,
    ),
    (
        "py.xss-markdown",
        """
        from markdown import markdown
        class Comment:
            async def html_content(self):
                content = await self.content
                return markdown(content)
    """,
    ),
    (
        "py.xss-json-in-template",
        """
        import json
        def edit(request):
            items = load(request.user)
            return render('editor.mako', request, {'items_json': json.dumps(items)})
    """,
    ),
    (
        "py.xss-autoescape-off",
        """
        import jinja2
        env = jinja2.Environment(loader=jinja2.FileSystemLoader("templates"))
    """,
    ),
    (
        "py.xss-response",
        """
        class BuildHandler(webapp2.RequestHandler):
            def get(self, build_id):
                try:
                    build_id = int(build_id)
                except ValueError as ex:
                    self.response.write(ex.message)
                    self.abort(400)
    """,
    ),
    (
        "py.xss-response",
        """
        from django.http import HttpResponse
        def upload(request):
            try:
                parse(request.body)
            except Exception as err:
                return HttpResponse("Upload failed: %s" % err, status=400)
    """,
    ),
    (
        "py.xss-url-in-template",
        """
        class LoginHandler(BaseHandler):
            def get(self):
                self.render('login.html', {
                    'title': 'Sign in',
                    'dest': self.request.get('dest'),
                })
    """,
    ),
    (
        "py.xss-url-in-template",
        """
        from django.views.generic import TemplateView
        class Page(TemplateView):
            def get_context_data(self, **kwargs):
                data = super().get_context_data(**kwargs)
                if "next" in self.request.GET:
                    data["next_url"] = self.request.GET["next"]
                return data
    """,
    ),
    (
        "py.xss-url-in-template",
        """
        from flask import request, render_template
        def done():
            target = request.args.get("return_to", "/")
            return render_template("done.html", return_to=target)
    """,
    ),
]

NEGATIVE: list[tuple[str, str]] = [
    # near miss: the link is checked first; a non-URL name; a url_for target
    (
        "py.xss-url-in-template",
        """
        class LoginHandler(BaseHandler):
            def get(self):
                dest = self.request.get('dest')
                check_redirect_url(dest)
                self.render('login.html', {'dest': dest, 'user': self.request.get('user')})
    """,
    ),
    (
        "py.xss-url-in-template",
        """
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
    """,
    ),
    (
        "py.xss-url-in-template",
        """
        from flask import request, render_template, url_for
        def done():
            page = int(request.args.get("page", 1))
            return render_template("done.html", next_url=url_for("list", page=page + 1))
    """,
    ),
    # near miss: a fixed message for the caught exception; the exception only logged; JSON
    (
        "py.xss-response",
        """
        class BuildHandler(webapp2.RequestHandler):
            def get(self, build_id):
                try:
                    build_id = int(build_id)
                except ValueError as ex:
                    log.warning("bad id: %s", ex)
                    self.response.write('invalid build id')
                    self.abort(400)
    """,
    ),
    (
        "py.xss-response",
        """
        from django.http import HttpResponse
        from django.utils.html import escape
        def upload(request):
            try:
                parse(request.body)
            except Exception as err:
                return HttpResponse("Upload failed: %s" % escape(err), status=400)
            except KeyError as missing:
                return HttpResponse(str(missing), content_type="text/plain")
    """,
    ),
    (
        "py.xss-html-format",
        """
        from django.utils.html import format_html
        def gravatar(user, url):
            return format_html('<img src="{0}" alt="{1}"/>', url, user.get_full_name())
    """,
    ),
    (
        "py.xss-html-format",
        """
        from html import escape
        def cell(value):
            return "<td>%s</td>" % escape(value)
    """,
    ),
    # near miss: angle brackets that are not HTML
    (
        "py.xss-html-format",
        """
        def describe(name, own):
            return '<cdata %r %s>' % (name, own)
    """,
    ),
    (
        "py.xss-mark-safe",
        """
        from markupsafe import Markup
        def bold():
            return Markup("<b>fixed</b>")
    """,
    ),
    (
        "py.xss-template-string",
        """
        from flask import render_template_string
        def hello(name):
            return render_template_string("<p>Hello {{ name }}</p>", name=name)
    """,
    ),
    (
        "py.xss-response",
        """
        from django.http import HttpResponse
        from django.utils.html import escape
        def echo(request):
            return HttpResponse(escape(request.GET["q"]))
    """,
    ),
    (
        "py.xss-response",
        """
        from flask import request, escape
        @app.route("/hello")
        def hello():
            return "Hello " + escape(request.args.get("name", ""))
    """,
    ),
    # near miss: an open redirect is not XSS; a helper that is not a view
    (
        "py.xss-response",
        """
        from flask import request, redirect
        @app.route("/go")
        def go():
            return redirect(request.args["next"])

        def greeting(name):
            return "Hello " + name
    """,
    ),
    (
        "py.xss-markdown",
        """
        import bleach
        from markdown import markdown
        def render(text):
            return bleach.clean(markdown(text))
    """,
    ),
    (
        "py.xss-json-in-template",
        """
        import json
        def edit(request):
            items = load(request.user)
            return render('editor.mako', request, {
                'items_json': json.dumps(items, cls=JSONEncoderForHTML)})
    """,
    ),
    (
        "py.xss-autoescape-off",
        """
        import jinja2
        env = jinja2.Environment(autoescape=jinja2.select_autoescape())
    """,
    ),
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


def test_response_and_html_build_on_one_line_give_one_finding() -> None:
    hits = run("""
        from django.http import HttpResponse
        def echo(request):
            return HttpResponse("<p>%s</p>" % request.GET["q"])
    """)
    assert [h.cwe for h in hits] == ["CWE-79"]
