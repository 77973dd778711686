"""Request handlers of the fake GitHub (see :mod:`tests.fakes.github_server`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import jwt

from tests.fakes.github_routes_extra import NOT_ACCESSIBLE, NOW, ChecksAndApps, err
from tests.fakes.github_state import FakePR, FakeRepo, PatchLines, Token

if TYPE_CHECKING:
    from tests.fakes.github_server import FakeGitHub

R = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
MAX_FILES = 3000


_err = err


class Routes(ChecksAndApps):
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.table: list[tuple[str, re.Pattern[str], Any]] = [
            (m, re.compile("^" + p + "$"), h)
            for m, p, h in (
                ("GET", R, self.get_repo),
                ("GET", R + r"/pulls/(?P<n>\d+)", self.get_pull),
                ("GET", R + r"/pulls/(?P<n>\d+)/files", self.list_files),
                ("GET", R + r"/pulls/(?P<n>\d+)/reviews", self.list_reviews),
                ("POST", R + r"/pulls/(?P<n>\d+)/reviews", self.create_review),
                ("DELETE", R + r"/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)", self.delete_review),
                ("GET", R + r"/pulls/(?P<n>\d+)/comments", self.list_review_comments),
                ("POST", R + r"/pulls/(?P<n>\d+)/comments", self.create_review_comment),
                ("DELETE", R + r"/pulls/comments/(?P<id>\d+)", self.delete_review_comment),
                ("GET", R + r"/issues/(?P<n>\d+)/comments", self.list_issue_comments),
                ("POST", R + r"/issues/(?P<n>\d+)/comments", self.create_issue_comment),
                ("PATCH", R + r"/issues/comments/(?P<id>\d+)", self.edit_issue_comment),
                ("DELETE", R + r"/issues/comments/(?P<id>\d+)", self.delete_issue_comment),
                ("POST", R + r"/check-runs", self.create_check_run),
                ("PATCH", R + r"/check-runs/(?P<id>\d+)", self.update_check_run),
                ("GET", R + r"/check-runs/(?P<id>\d+)/annotations", self.list_annotations),
                ("GET", R + r"/commits/(?P<ref>[^/]+)/check-runs", self.check_runs_for_ref),
                ("GET", R + r"/contents/(?P<path>.+)", self.get_contents),
                ("GET", R + r"/compare/(?P<a>[^/.]+)\.\.\.(?P<b>[^/]+)", self.compare),
                ("GET", R + r"/installation", self.get_installation),
                ("POST", r"/app/installations/(?P<id>\d+)/access_tokens", self.create_token),
                ("GET", r"/app", self.get_app),
                ("GET", r"/rate_limit", self.rate_limit),
                ("GET", r"/user", self.get_user),
            )
        ]

    # -- plumbing -----------------------------------------------------------------------

    def authenticate(self, header: str, path: str) -> Token:
        scheme, _, value = header.partition(" ")
        if path == "/app" or path.startswith("/app/") or path.endswith("/installation"):
            if scheme.lower() != "bearer" or self.fake.app is None:
                raise _err(401, "A JSON web token could not be decoded")
            app_id, public_key = self.fake.app
            try:
                claims = jwt.decode(value, public_key, algorithms=["RS256"])
            except jwt.PyJWTError as exc:
                raise _err(401, f"A JSON web token could not be decoded ({exc})") from None
            if str(claims.get("iss")) != app_id:
                raise _err(401, "'Issuer' claim ('iss') must be an Integer")
            return Token("app", "app")
        token = self.fake.tokens.get(value) if scheme.lower() in ("token", "bearer") else None
        if token is None:
            raise _err(401, "Bad credentials")
        return token

    def pre_validate(self, method: str, path: str, data: Any) -> None:
        output = (data or {}).get("output") if isinstance(data, dict) else None
        if (
            "/check-runs" in path
            and isinstance(output, dict)
            and len(output.get("annotations") or []) > 50
        ):
            raise _err(422, "Validation Failed", ["Only 50 annotations are allowed per request"])

    def dispatch(
        self, method: str, path: str, query: dict[str, str], data: Any, token: Token
    ) -> tuple[int, Any, dict[str, str]]:
        for m, rx, handler in self.table:
            match = rx.match(path)
            if m == method and match:
                if method != "GET" and not token.write:
                    raise _err(403, NOT_ACCESSIBLE)
                args = match.groupdict()
                repo = None
                if "owner" in args:
                    repo = self.fake.repos.get(f"{args.pop('owner')}/{args.pop('repo')}")
                    if repo is None:
                        raise _err(404, "Not Found")
                out = handler(repo=repo, query=query, data=data, token=token, **args)
                return out if len(out) == 3 else (*out, {})
        raise _err(404, "Not Found")

    def _pr(self, repo: FakeRepo, n: str) -> FakePR:
        pr = repo.pulls.get(int(n))
        if pr is None:
            raise _err(404, "Not Found")
        return pr

    def review_comments(self, repo: FakeRepo, pr: FakePR) -> list[dict[str, Any]]:
        return pr.__dict__.setdefault("_review_comments", [])

    def _reviews(self, pr: FakePR) -> list[dict[str, Any]]:
        return pr.__dict__.setdefault("_reviews", [])

    def _issue_comments(self, pr: FakePR) -> list[dict[str, Any]]:
        return pr.__dict__.setdefault("_issue_comments", [])

    # -- repository and pull request ----------------------------------------------------

    def get_repo(self, repo: FakeRepo, **_: Any) -> tuple[int, Any]:
        return 200, self.fake.build.repo(repo)

    def get_pull(self, repo: FakeRepo, n: str, **_: Any) -> tuple[int, Any]:
        pr = self._pr(repo, n)
        return 200, self.fake.build.pull(repo, pr, self.fake.repos.get(pr.head_repo or ""))

    def list_files(self, repo: FakeRepo, n: str, query: dict[str, str], **_: Any) -> tuple:
        pr = self._pr(repo, n)
        chunk, headers = self.fake.paginate(
            f"/repos/{repo.full_name}/pulls/{n}/files", query, pr.head.files[:MAX_FILES]
        )
        return 200, [self.fake.build.diff_entry(repo, pr.head.sha, f) for f in chunk], headers

    def get_contents(self, repo: FakeRepo, path: str, query: dict[str, str], **_: Any) -> tuple:
        ref = query.get("ref", "")
        data = repo.contents.get((ref, path))
        if data is None:
            raise _err(404, "Not Found")
        return 200, self.fake.build.content(repo, ref, path, data)

    def compare(self, repo: FakeRepo, a: str, b: str, **_: Any) -> tuple[int, Any]:
        for pr in repo.pulls.values():
            old, new = pr.version(a), pr.version(b)
            if old is None or new is None:
                continue
            ahead = pr.versions.index(new) - pr.versions.index(old)
            before = {f.path: f.patch for f in old.files}
            files = [
                self.fake.build.diff_entry(repo, b, f)
                for f in new.files
                if before.get(f.path) != f.patch
            ]
            status = "ahead" if ahead > 0 else ("identical" if ahead == 0 else "behind")
            if pr.force_pushed:
                status = "diverged"
            return 200, {
                "url": f"{self.fake.base_url}/repos/{repo.full_name}/compare/{a}...{b}",
                "status": status,
                "ahead_by": max(ahead, 0),
                "behind_by": max(-ahead, 0),
                "total_commits": max(ahead, 0),
                "commits": [],
                "files": files,
            }
        raise _err(404, "Not Found")

    # -- reviews and review comments ----------------------------------------------------

    def _check_anchor(self, pr: FakePR, c: dict[str, Any], commit_id: str) -> None:
        version = pr.version(commit_id)
        if version is None:
            raise _err(422, "Unprocessable Entity", ["commit_sha is not part of the pull request"])
        f = next((f for f in version.files if f.path == c.get("path")), None)
        if f is None:
            raise _err(422, "Unprocessable Entity", ["Path could not be resolved"])
        if "line" not in c:
            raise _err(422, "Unprocessable Entity", ["line or position is required"])
        lines = PatchLines.parse(f.patch)
        side = c.get("side", "RIGHT")
        end_hunk = lines.hunk(int(c["line"]), side)
        if (f.path, int(c["line"])) in self.fake.refused_lines:
            end_hunk = None
        if end_hunk is None:
            raise _err(
                422,
                "Unprocessable Entity",
                ["pull_request_review_thread.line must be part of the diff"],
            )
        if "start_line" in c:
            start_side = c.get("start_side", side)
            if int(c["start_line"]) >= int(c["line"]) and start_side == side:
                raise _err(
                    422,
                    "Unprocessable Entity",
                    ["pull_request_review_thread.start_line must precede the end line"],
                )
            if lines.hunk(int(c["start_line"]), start_side) != end_hunk:
                raise _err(
                    422,
                    "Unprocessable Entity",
                    [
                        "pull_request_review_thread.start_line must be part of the same hunk "
                        "as the line."
                    ],
                )

    def _new_comment(
        self,
        pr: FakePR,
        c: dict[str, Any],
        commit_id: str,
        review_id: int,
        token: Token,
        state: str,
    ) -> dict[str, Any]:
        cid = next(self.fake.ids)
        out = {
            "id": cid,
            "pull_request_review_id": review_id,
            "path": c["path"],
            "line": int(c["line"]),
            "original_line": int(c["line"]),
            "side": c.get("side", "RIGHT"),
            "body": c["body"],
            "commit_id": commit_id,
            "original_commit_id": commit_id,
            "user": self._user(token),
            "position": 1,
            "original_position": 1,
            "diff_hunk": "@@",
            "created_at": NOW,
            "updated_at": NOW,
            "subject_type": "line",
            "review_state": state,
            "author_association": "NONE",
        }
        if "start_line" in c:
            out.update(
                start_line=int(c["start_line"]),
                original_start_line=int(c["start_line"]),
                start_side=c.get("start_side", out["side"]),
            )
        return out

    def create_review(
        self, repo: FakeRepo, n: str, data: dict[str, Any], token: Token, **_: Any
    ) -> tuple[int, Any]:
        pr = self._pr(repo, n)
        event = data.get("event")
        if event in ("COMMENT", "REQUEST_CHANGES") and not data.get("body"):
            raise _err(422, "Unprocessable Entity", ["Body is required for this event"])
        commit_id = data.get("commit_id") or pr.head.sha
        reviews = self._reviews(pr)
        if event is None and any(
            r["state"] == "PENDING" and r["user"]["login"] == token.login for r in reviews
        ):
            raise _err(
                422,
                "Unprocessable Entity",
                ["User can only have one pending review per pull request"],
            )
        for c in data.get("comments") or []:
            self._check_anchor(pr, c, commit_id)
        state = {
            "APPROVE": "APPROVED",
            "REQUEST_CHANGES": "CHANGES_REQUESTED",
            "COMMENT": "COMMENTED",
            None: "PENDING",
        }[event]
        rid = next(self.fake.ids)
        review = {
            "id": rid,
            "user": self._user(token),
            "body": data.get("body") or "",
            "state": state,
            "commit_id": commit_id,
        }
        reviews.append(review)
        for c in data.get("comments") or []:
            self.review_comments(repo, pr).append(
                self._new_comment(pr, c, commit_id, rid, token, state)
            )
        return 200, self.fake.build.review(repo, pr, review)

    def list_reviews(
        self, repo: FakeRepo, n: str, query: dict[str, str], token: Token, **_: Any
    ) -> tuple:
        pr = self._pr(repo, n)
        visible = [
            r
            for r in self._reviews(pr)
            if r["state"] != "PENDING" or r["user"]["login"] == token.login
        ]
        chunk, headers = self.fake.paginate(
            f"/repos/{repo.full_name}/pulls/{n}/reviews",
            query,
            [self.fake.build.review(repo, pr, r) for r in visible],
        )
        return 200, chunk, headers

    def delete_review(self, repo: FakeRepo, n: str, id: str, token: Token, **_: Any) -> tuple:
        pr = self._pr(repo, n)
        review = next((r for r in self._reviews(pr) if r["id"] == int(id)), None)
        if review is None or review["user"]["login"] != token.login:
            raise _err(404, "Not Found")
        if review["state"] != "PENDING":
            raise _err(422, "Unprocessable Entity", ["Can not delete a non-pending review"])
        self._reviews(pr).remove(review)
        comments = self.review_comments(repo, pr)
        comments[:] = [c for c in comments if c["pull_request_review_id"] != review["id"]]
        return 200, self.fake.build.review(repo, pr, review)

    def list_review_comments(
        self, repo: FakeRepo, n: str, query: dict[str, str], **_: Any
    ) -> tuple:
        pr = self._pr(repo, n)
        items = [
            self.fake.build.review_comment(repo, pr, c)
            for c in self.review_comments(repo, pr)
            if c["review_state"] != "PENDING"
        ]
        chunk, headers = self.fake.paginate(
            f"/repos/{repo.full_name}/pulls/{n}/comments", query, items
        )
        return 200, chunk, headers

    def create_review_comment(
        self, repo: FakeRepo, n: str, data: dict[str, Any], token: Token, **_: Any
    ) -> tuple[int, Any]:
        pr = self._pr(repo, n)
        comments = self.review_comments(repo, pr)
        parent_id = data.get("in_reply_to")
        if parent_id is not None:
            parent = next((c for c in comments if c["id"] == int(parent_id)), None)
            if parent is None:
                raise _err(404, "Not Found")
            c = self._new_comment(
                pr,
                {"path": parent["path"], "line": parent["line"] or 1, "body": data["body"]},
                parent["commit_id"],
                next(self.fake.ids),
                token,
                "COMMENTED",
            )
            c["in_reply_to_id"] = parent["id"]
        else:
            commit_id = data.get("commit_id") or pr.head.sha
            self._check_anchor(pr, data, commit_id)
            c = self._new_comment(pr, data, commit_id, next(self.fake.ids), token, "COMMENTED")
        comments.append(c)
        return 201, self.fake.build.review_comment(repo, pr, c)

    def delete_review_comment(self, repo: FakeRepo, id: str, token: Token, **_: Any) -> tuple:
        for pr in repo.pulls.values():
            comments = self.review_comments(repo, pr)
            for c in comments:
                if c["id"] == int(id):
                    if c["user"]["login"] != token.login:
                        raise _err(403, "Must have admin rights to Repository.")
                    comments.remove(c)
                    return 204, None
        raise _err(404, "Not Found")

    # -- issue comments -----------------------------------------------------------------

    def list_issue_comments(self, repo: FakeRepo, n: str, query: dict[str, str], **_: Any) -> tuple:
        pr = self._pr(repo, n)
        items = [self.fake.build.issue_comment(repo, pr, c) for c in self._issue_comments(pr)]
        chunk, headers = self.fake.paginate(
            f"/repos/{repo.full_name}/issues/{n}/comments", query, items
        )
        return 200, chunk, headers

    def create_issue_comment(
        self, repo: FakeRepo, n: str, data: dict[str, Any], token: Token, **_: Any
    ) -> tuple[int, Any]:
        pr = self._pr(repo, n)
        if len(data["body"]) > 65536:
            raise _err(422, "Validation Failed", ["Body is too long (maximum is 65536 characters)"])
        c = {"id": next(self.fake.ids), "body": data["body"], "user": self._user(token)}
        self._issue_comments(pr).append(c)
        return 201, self.fake.build.issue_comment(repo, pr, c)

    def _find_issue_comment(self, repo: FakeRepo, id: str) -> tuple[FakePR, dict[str, Any]]:
        for pr in repo.pulls.values():
            for c in self._issue_comments(pr):
                if c["id"] == int(id):
                    return pr, c
        raise _err(404, "Not Found")

    def edit_issue_comment(
        self, repo: FakeRepo, id: str, data: dict[str, Any], token: Token, **_: Any
    ) -> tuple[int, Any]:
        pr, c = self._find_issue_comment(repo, id)
        if c["user"]["login"] != token.login:
            raise _err(403, "You cannot edit this comment")
        c["body"] = data["body"]
        return 200, self.fake.build.issue_comment(repo, pr, c)

    def delete_issue_comment(self, repo: FakeRepo, id: str, token: Token, **_: Any) -> tuple:
        pr, c = self._find_issue_comment(repo, id)
        if c["user"]["login"] != token.login:
            raise _err(403, "You cannot delete this comment")
        self._issue_comments(pr).remove(c)
        return 204, None
