"""A fake GitHub REST API over real HTTP on 127.0.0.1, for PyGithub pointed at it by base_url.

Stateful (repositories, pull requests with files and patches, contents, reviews, review
comments, issue comments, check runs with annotations) and strict: every request body and
every response body is validated against GitHub's REST API description
(``tests/fixtures/github/openapi-subset.json``); violations are collected in
:attr:`FakeGitHub.violations` (tests assert it stays empty). It behaves like GitHub where a
bot can get it wrong:

* 422 for a review comment on a line outside the diff, a range spanning two hunks, a start
  line after the line, a commit not in the PR, a second pending review, >50 annotations;
* 403 with ``Retry-After`` (secondary rate limit), 5xx, and "5xx *after* applying the write"
  through :meth:`FakeGitHub.inject`;
* read-only tokens get 403 "Resource not accessible by integration" on every write;
* the files list is paginated (30 per page by default, at most 100) and capped at 3000.

Operations the bot uses beyond the subset (delete a comment or a pending review, list check
runs for a ref, list annotations, compare two commits, GET /user, GET /app) are served too; their
responses are checked against the matching component schemas of the subset.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.github_openapi import EXTRA_RESPONSE_SCHEMAS, Spec, load_spec
from tests.fakes.github_routes import Routes
from tests.fakes.github_state import Builders, FakeFile, FakePR, FakeRepo, Token, Version, sha_of

DOCS = "https://docs.github.com/rest"


class HTTPError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": DOCS}
        if errors is not None:
            self.body["errors"] = errors
        else:
            self.body["status"] = str(status)
        self.headers = headers or {}


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    after_apply: bool = False
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Server Error"


@dataclass
class Logged:
    method: str
    path: str
    status: int
    body: Any


class FakeGitHub:
    def __init__(self, spec: Spec | None = None) -> None:
        self.spec = spec or load_spec()
        self.lock = threading.RLock()
        self.repos: dict[str, FakeRepo] = {}
        self.tokens: dict[str, Token] = {}
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.violations: list[str] = []
        self.refused_lines: set[tuple[str, int]] = set()
        """(path, line) GitHub refuses although they are in the diff (as it does for some
        files it counts lines in differently, e.g. with U+2028 in them)."""
        self.app: tuple[str, str] | None = None
        """(app id, public key PEM) accepted for App JWTs."""
        self.ids = iter(range(70001, 10**9))
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.base_url = ""
        self.build: Builders
        self.routes = Routes(self)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.build = Builders(self.spec, self.base_url)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test set-up --------------------------------------------------------------------

    def add_token(
        self,
        token: str,
        login: str = "github-actions[bot]",
        kind: str = "actions",
        write: bool = True,
    ) -> None:
        self.tokens[token] = Token(login, kind, write)

    def add_repo(self, full_name: str) -> FakeRepo:
        repo = FakeRepo(full_name, 100 + len(self.repos))
        self.repos[full_name] = repo
        return repo

    def open_pr(
        self,
        full_name: str,
        number: int,
        files: list[FakeFile],
        *,
        base_contents: dict[str, bytes] | None = None,
        title: str = "A change",
        head_repo: str | None = None,
        base_sha: str | None = None,
        head_sha: str | None = None,
    ) -> FakePR:
        repo = self.repos.get(full_name) or self.add_repo(full_name)
        if head_repo and head_repo not in self.repos:
            self.add_repo(head_repo)
        base = base_sha or sha_of("base", full_name, number)
        for path, data in (base_contents or {}).items():
            repo.contents[(base, path)] = data
        pr = FakePR(
            number, title, base, "master", f"change-{number}", head_repo or full_name, "octo-dev"
        )
        repo.pulls[number] = pr
        self.push(full_name, number, files, sha=head_sha)
        return pr

    def push(
        self, full_name: str, number: int, files: list[FakeFile], sha: str | None = None
    ) -> str:
        """A new head commit; comments on files whose patch changed become outdated."""
        with self.lock:
            repo = self.repos[full_name]
            pr = repo.pulls[number]
            new_sha = sha or sha_of(
                "head", full_name, number, len(pr.versions), [(f.path, f.patch) for f in files]
            )
            pr.versions.append(Version(new_sha, list(files)))
            for f in files:
                if f.content is not None:
                    repo.contents[(new_sha, f.path)] = f.content
            before = {f.path: f for f in pr.versions[-2].files} if len(pr.versions) > 1 else {}
            after = {f.path: f for f in files}
            for c in self.routes.review_comments(repo, pr):
                if c.get("line") is not None:
                    self._track(c, before.get(c["path"]), after.get(c["path"]))
            return new_sha

    @staticmethod
    def _track(c: dict[str, Any], old: FakeFile | None, new: FakeFile | None) -> None:
        """Follow a comment's line to the new head, or make it outdated (``line`` omitted:
        the description has no null ``line``, although GitHub itself sends null)."""
        if new is not None and old is not None and new.patch == old.patch:
            return
        if new is not None and old is not None:
            old_lines = (old.content or b"").decode("utf-8", "replace").split("\n")
            new_lines = (new.content or b"").decode("utf-8", "replace").split("\n")
            line = c["line"]
            text = old_lines[line - 1] if 0 < line <= len(old_lines) else None
            if text is not None and line <= len(new_lines) and new_lines[line - 1] == text:
                return
            hits = [i + 1 for i, t in enumerate(new_lines) if t == text]
            if len(hits) == 1 and "start_line" not in c:
                c["line"] = hits[0]
                return
        for key in ("line", "position", "start_line", "start_side"):
            c.pop(key, None)

    def inject(
        self,
        method: str,
        pattern: str,
        status: int,
        *,
        after_apply: bool = False,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        """Fail matching requests with ``status`` (before or after applying the write);
        status 0 answers normally with ``headers`` added (a hostile ``Link``, say)."""
        default = {
            403: "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
            429: "You have exceeded a secondary rate limit.",
        }
        self.faults.append(
            Fault(
                method,
                re.compile(pattern),
                status,
                after_apply,
                times,
                headers or {},
                message or default.get(status, "Server Error"),
            )
        )

    def calls(self, method: str, pattern: str) -> list[Logged]:
        rx = re.compile(pattern)
        return [x for x in self.log if x.method == method and rx.search(x.path)]

    # -- serving ------------------------------------------------------------------------

    def _fault(self, method: str, path: str) -> Fault | None:
        for f in self.faults:
            if f.times > 0 and f.method == method and f.pattern.search(path):
                f.times -= 1
                return f
        return None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        path, query = url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        method = h.command
        status, body, headers = 200, None, {}
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        op = self.spec.match(method, path)
        try:
            if raw and data is None:
                raise HTTPError(400, "Problems parsing JSON")
            token = self.routes.authenticate(h.headers.get("Authorization", ""), path)
            fault = self._fault(method, path)
            if fault is not None and not fault.after_apply and fault.status:
                raise HTTPError(fault.status, fault.message, headers=fault.headers)
            if op is not None and method in ("POST", "PATCH", "PUT"):
                self.routes.pre_validate(method, path, data)
                errs = self.spec.request_errors(op, data)
                if errs:
                    self.violations += [f"request {method} {path}: {e}" for e in errs]
                    raise HTTPError(422, "Invalid request.", errors=errs)
            with self.lock:
                status, body, headers = self.routes.dispatch(method, path, query, data, token)
            if fault is not None and not fault.status:  # status 0: answer, add headers
                headers = {**headers, **fault.headers}
            elif fault is not None:
                raise HTTPError(fault.status, fault.message, headers=fault.headers)
        except HTTPError as exc:
            status, body, headers = exc.status, exc.body, exc.headers
            if status == 422 and op is not None and self._object_errors(op):
                body = dict(
                    body,
                    errors=[
                        {"resource": "PullRequest", "code": "custom", "message": e}
                        for e in body.get("errors", [])
                    ],
                )
        self._check_response(op, method, path, status, body)
        self.log.append(Logged(method, path, status, data))
        payload = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(payload)))
        h.send_header("X-RateLimit-Remaining", "4999")
        h.send_header("X-RateLimit-Limit", "5000")
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)

    def _object_errors(self, op: Any) -> bool:
        ref = op.op.get("responses", {}).get("422", {}).get("$ref", "")
        return bool(ref.endswith("/validation_failed"))

    def _check_response(self, op: Any, method: str, path: str, status: int, body: Any) -> None:
        if status >= 500 or status == 204:
            return
        if status in (401, 403):  # any endpoint answers these for credentials and permissions
            errs = self.spec.errors("components/schemas/basic-error", body)
        elif op is not None:
            if status in (403, 429) and body and "rate limit" in str(body.get("message", "")):
                errs = self.spec.errors("components/schemas/basic-error", body)
            else:
                errs = self.spec.response_errors(op, status, body)
        elif status < 300:
            errs = self._extra_errors(path, body)
        else:
            errs = self.spec.errors("components/schemas/basic-error", body)
        self.violations += [f"response {method} {path} {status}: {e}" for e in errs]

    def _extra_errors(self, path: str, body: Any) -> list[str]:
        if path.endswith("/check-runs") and isinstance(body, dict):
            pointer = EXTRA_RESPONSE_SCHEMAS["check-runs-for-ref"]
            return [e for run in body.get("check_runs", []) for e in self.spec.errors(pointer, run)]
        if "/compare/" in path and isinstance(body, dict):
            pointer = EXTRA_RESPONSE_SCHEMAS["compare-files"]
            return [e for f in body.get("files", []) for e in self.spec.errors(pointer, f)]
        if path == "/user":
            return self.spec.errors(EXTRA_RESPONSE_SCHEMAS["user"], body)
        if path == "/app":
            return self.spec.errors(EXTRA_RESPONSE_SCHEMAS["app"], body)
        return []

    # -- pagination helper used by routes -----------------------------------------------

    def paginate(
        self, path: str, query: dict[str, str], items: list[Any], default: int = 30
    ) -> tuple[list[Any], dict[str, str]]:
        per_page = max(1, min(100, int(query.get("per_page", default))))
        page = max(1, int(query.get("page", 1)))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        for rel, num in (("next", page + 1), ("last", last)):
            if page < last:
                q = dict(query, per_page=str(per_page), page=str(num))
                links.append(f'<{self.base_url}{path}?{urlencode(q)}>; rel="{rel}"')
        return chunk, ({"Link": ", ".join(links)} if links else {})


Handler = Callable[..., tuple[int, Any, dict[str, str]]]
__all__ = ["FakeFile", "FakeGitHub", "FakePR", "HTTPError", "Handler"]
