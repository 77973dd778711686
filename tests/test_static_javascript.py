"""JavaScript / TypeScript rules and the template (|safe) check."""

from __future__ import annotations

from reviewbot.findings import Severity
from tests.static_cases import run

POSITIVE: list[tuple[str, str, str]] = [
    ("js.eval", "app.js", "function run(code) { return eval(code); }\n"),
    ("js.new-function", "app.js", "const f = new Function('a', body);\n"),
    ("js.inner-html", "app.js", "el.innerHTML = `<b>${name}</b>`;\n"),
    ("js.inner-html", "app.ts", "el.outerHTML += html;\n"),
    ("js.inner-html", "app.js", "document.write('<p>' + msg + '</p>');\n"),
    ("js.inner-html", "app.js", "el.insertAdjacentHTML('beforeend', row);\n"),
    (
        "js.dangerous-html",
        "App.jsx",
        "const A = () => <div dangerouslySetInnerHTML={{__html: post.body}} />;\n",
    ),
    (
        "js.child-process-exec",
        "run.js",
        "const cp = require('child_process');\ncp.exec('ls ' + dir, cb);\n",
    ),
    (
        "js.child-process-exec",
        "run.ts",
        "import { execSync } from 'child_process';\nexecSync(`git log ${ref}`);\n",
    ),
    ("js.eqeqeq", "app.js", "if (a == b) { go(); }\n"),
    ("tpl.safe-filter", "templates/page.html", "<div>{{ comment.body|safe }}</div>\n"),
    (
        "tpl.safe-filter",
        "templates/page.jinja",
        "{% autoescape false %}{{ x }}{% endautoescape %}\n",
    ),
]

NEGATIVE: list[tuple[str, str, str]] = [
    ("js.eval", "app.js", "const v = JSON.parse(text);\n"),
    ("js.eval", "app.js", "eval('1 + 1');\n"),
    ("js.new-function", "app.js", "const f = new Function('return 1');\n"),
    ("js.inner-html", "app.js", "el.textContent = name;\n"),
    ("js.inner-html", "app.js", "el.innerHTML = '<b>fixed</b>';\n"),
    ("js.inner-html", "app.js", "el.innerHTML = `<b>static</b>`;\n"),
    (
        "js.dangerous-html",
        "App.jsx",
        "const A = () => <div dangerouslySetInnerHTML={{__html: '<br/>'}} />;\n",
    ),
    # near miss: a method named exec that is not child_process
    ("js.child-process-exec", "re.js", "const m = pattern.exec(input);\n"),
    (
        "js.child-process-exec",
        "run.js",
        "const cp = require('child_process');\ncp.execFile('ls', [dir], cb);\n",
    ),
    ("js.eqeqeq", "app.js", "if (a === b) { go(); }\n"),
    # near miss: `== null` is the idiom for null or undefined
    ("js.eqeqeq", "app.js", "if (a == null) { go(); }\n"),
    ("tpl.safe-filter", "templates/page.html", "<div>{{ comment.body }}</div>\n"),
    ("tpl.safe-filter", "templates/page.html", "<div>{{ '<br>'|safe }}</div>\n"),
]


def test_loose_equality_is_style_info_only() -> None:
    (hit,) = run("if (a != b) { go(); }\n", path="x.js")
    assert hit.severity is Severity.INFO and hit.category.value == "style"


def test_template_check_reads_only_changed_lines() -> None:
    code = "{{ a|safe }}\n{{ b|safe }}\n"
    assert [h.line for h in run(code, path="t.html", changed={2})] == [2]
