"""The catalogue of static rules: id -> category, default severity, CWE and a summary.

Rule modules build hits with :meth:`Rule.hit` so the id, category and CWE of a hit always
match this table (the README's rule table is written from it, and tests check that every
rule here has positive and negative cases).
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.findings import Category, Severity
from reviewbot.static.base import StaticHit

SEC, BUG, PERF, STYLE = Category.SECURITY, Category.BUG, Category.PERFORMANCE, Category.STYLE
ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: Category
    severity: Severity
    cwe: str | None
    summary: str

    def hit(
        self,
        line: int,
        end: int,
        title: str,
        message: str,
        *,
        suggestion: str | None = None,
        severity: Severity | None = None,
        confidence: float = 0.9,
    ) -> StaticHit:
        return StaticHit(
            self.id,
            line,
            max(line, end),
            self.category,
            severity or self.severity,
            title,
            message,
            suggestion,
            self.cwe,
            confidence,
        )


_ALL = [
    # Python security
    Rule(
        "py.sql-injection",
        SEC,
        ERR,
        "CWE-89",
        "SQL text built with f-strings, %, .format() or + from non-constant values",
    ),
    Rule(
        "py.shell-injection",
        SEC,
        ERR,
        "CWE-78",
        "shell command from a non-constant string (os.system, os.popen, shell=True, commands)",
    ),
    Rule(
        "py.command-string",
        SEC,
        WARN,
        "CWE-78",
        "command line built by string formatting and passed to a command runner",
    ),
    Rule(
        "py.path-traversal",
        SEC,
        ERR,
        "CWE-22",
        "user-controlled path reaches a file operation without a containment check",
    ),
    Rule(
        "py.tar-extract",
        SEC,
        WARN,
        "CWE-22",
        "tarfile extractall/extract without a filter (members can write outside the target)",
    ),
    Rule("py.xss-autoescape-off", SEC, WARN, "CWE-79", "jinja2 Environment without autoescaping"),
    Rule(
        "py.xss-html-format",
        SEC,
        WARN,
        "CWE-79",
        "HTML built by string formatting from unescaped parameters or request data",
    ),
    Rule(
        "py.xss-mark-safe",
        SEC,
        WARN,
        "CWE-79",
        "Markup / mark_safe / SafeString on a non-constant value, format_html on a "
        "pre-formatted string",
    ),
    Rule(
        "py.xss-template-string",
        SEC,
        ERR,
        "CWE-79",
        "render_template_string / Template() on a non-constant template",
    ),
    Rule(
        "py.xss-response",
        SEC,
        ERR,
        "CWE-79",
        "request data or a caught exception's text written to an HTTP response unescaped",
    ),
    Rule(
        "py.xss-markdown",
        SEC,
        WARN,
        "CWE-79",
        "Markdown rendered to HTML from non-constant text without sanitising",
    ),
    Rule(
        "py.xss-url-in-template",
        SEC,
        WARN,
        "CWE-79",
        "request data passed to a template as a link target (javascript: URLs are not escaped)",
    ),
    Rule(
        "py.xss-json-in-template",
        SEC,
        WARN,
        "CWE-79",
        "json.dumps() output put into a template context without an HTML-safe encoder",
    ),
    Rule("py.eval", SEC, ERR, "CWE-95", "eval / exec on a non-constant value"),
    Rule(
        "py.unsafe-deserialization",
        SEC,
        WARN,
        "CWE-502",
        "pickle / marshal / dill / jsonpickle loading non-constant data",
    ),
    Rule("py.yaml-load", SEC, ERR, "CWE-502", "yaml.load without a safe loader"),
    Rule(
        "py.tls-verify-disabled",
        SEC,
        ERR,
        "CWE-295",
        "TLS certificate verification turned off (verify=False, CERT_NONE)",
    ),
    Rule(
        "py.hardcoded-secret",
        SEC,
        WARN,
        "CWE-798",
        "password, token or key written as a string literal",
    ),
    Rule("py.weak-password-hash", SEC, ERR, "CWE-916", "md5 / sha1 used to hash a password"),
    Rule(
        "py.open-redirect",
        SEC,
        ERR,
        "CWE-601",
        "redirect() / HttpResponseRedirect / RedirectResponse to a URL from request data",
    ),
    Rule(
        "py.ssrf",
        SEC,
        ERR,
        "CWE-918",
        "requests / httpx / urllib / aiohttp URL whose host comes from request data or a parameter",
    ),
    Rule(
        "py.xml-untrusted",
        SEC,
        WARN,
        "CWE-776",
        "xml.etree / xml.dom / xml.sax / lxml parsing request data (use defusedxml)",
    ),
    Rule(
        "py.xml-external-entities",
        SEC,
        ERR,
        "CWE-611",
        "XML parser set to resolve external entities or load DTDs (XMLParser(resolve_entities"
        "=True), setFeature(feature_external_ges, True))",
    ),
    Rule(
        "py.ldap-injection",
        SEC,
        ERR,
        "CWE-90",
        "LDAP search filter built by formatting from unescaped parameters or request data",
    ),
    Rule(
        "py.xpath-injection",
        SEC,
        ERR,
        "CWE-643",
        "XPath expression built by formatting from parameters or request data",
    ),
    Rule(
        "py.weak-hash",
        SEC,
        WARN,
        "CWE-328",
        "MD5 / SHA-1 for signatures, tokens or other security uses",
    ),
    Rule("py.weak-cipher", SEC, ERR, "CWE-327", "DES, 3DES, RC4, Blowfish or ECB mode"),
    Rule("py.weak-key", SEC, ERR, "CWE-326", "RSA / DSA / DH key under 2048 bits"),
    Rule(
        "py.insecure-random",
        SEC,
        WARN,
        "CWE-338",
        "random module used for a token, password, nonce or other secret (use secrets)",
    ),
    Rule(
        "py.cleartext-transport",
        SEC,
        WARN,
        "CWE-319",
        "credentials over http://, FTP, Telnet or SMTP without STARTTLS",
    ),
    Rule(
        "py.debug-mode",
        SEC,
        WARN,
        "CWE-489",
        "app.run(debug=True), app.debug = True, DEBUG = True in a settings module",
    ),
    Rule(
        "py.insecure-tempfile",
        SEC,
        WARN,
        "CWE-377",
        "tempfile.mktemp (a name, not a file: race to create it)",
    ),
    Rule(
        "py.command-split",
        SEC,
        WARN,
        "CWE-78",
        "command line from a parameter or request data split into argv (cmd.split(), "
        "shlex.split(cmd))",
    ),
    # Python bugs
    Rule("py.unreachable", BUG, WARN, None, "code after return / raise / continue / break"),
    Rule(
        "py.shadowed-builtin",
        BUG,
        WARN,
        None,
        "a builtin re-bound to a non-callable value in a function that then calls it",
    ),
    Rule(
        "py.missing-await",
        BUG,
        ERR,
        None,
        "coroutine of an async def in this file called without await",
    ),
    # Python performance
    Rule(
        "py.str-concat-loop",
        PERF,
        INFO,
        None,
        "string built with += on an attribute/item in a loop, or in a nested loop",
    ),
    Rule("py.regex-compile-loop", PERF, INFO, None, "re.compile of a constant inside a loop"),
    # JavaScript / TypeScript
    Rule("js.eval", SEC, ERR, "CWE-95", "eval() on a non-constant value"),
    Rule("js.new-function", SEC, ERR, "CWE-95", "new Function() from non-constant strings"),
    Rule(
        "js.inner-html",
        SEC,
        ERR,
        "CWE-79",
        "innerHTML / outerHTML / insertAdjacentHTML / document.write with a non-constant value",
    ),
    Rule(
        "js.dangerous-html",
        SEC,
        WARN,
        "CWE-79",
        "dangerouslySetInnerHTML with a non-constant value",
    ),
    Rule(
        "js.child-process-exec",
        SEC,
        ERR,
        "CWE-78",
        "child_process.exec / execSync with a non-constant command",
    ),
    Rule("js.eqeqeq", STYLE, INFO, None, "`==` / `!=` instead of `===` / `!==`"),
    # Templates
    Rule(
        "tpl.safe-filter",
        SEC,
        WARN,
        "CWE-79",
        "`|safe` or autoescape turned off in a Jinja / Django template",
    ),
]

RULES: dict[str, Rule] = {r.id: r for r in _ALL}
