"""Check-run, App, user and rate-limit handlers of the fake GitHub (a mixin of Routes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.fakes.github_state import FakeRepo, Token

if TYPE_CHECKING:
    from tests.fakes.github_server import FakeGitHub

NOW = "2024-05-01T12:00:00Z"
NOT_ACCESSIBLE = "Resource not accessible by integration"


def err(status: int, message: str, errors: list[str] | None = None) -> Exception:
    from tests.fakes.github_server import HTTPError

    return HTTPError(status, message, errors)


class ChecksAndApps:
    fake: FakeGitHub

    def _user(self, token: Token) -> dict[str, Any]:
        return self.fake.build.user(token.login, token.user_type)

    def check_runs(self, repo: FakeRepo) -> list[dict[str, Any]]:
        return repo.__dict__.setdefault("_check_runs", [])

    # -- check runs ---------------------------------------------------------------------

    def _apply_output(self, run: dict[str, Any], data: dict[str, Any]) -> None:
        output = data.get("output")
        if output:
            run["output"] = {k: output.get(k) for k in ("title", "summary", "text")}
            run["annotations"].extend(output.get("annotations") or [])
        for key in ("status", "conclusion", "external_id", "name"):
            if key in data:
                run[key] = data[key]
        if "conclusion" in data:
            run["status"] = "completed"
            run["completed_at"] = NOW

    def create_check_run(
        self, repo: FakeRepo, data: dict[str, Any], token: Token, **_: Any
    ) -> tuple[int, Any]:
        if token.kind == "user":
            raise err(403, "You must authenticate via a GitHub App.")
        run = {
            "id": next(self.fake.ids),
            "head_sha": data["head_sha"],
            "name": data["name"],
            "started_at": NOW,
            "annotations": [],
            "status": "queued",
        }
        self._apply_output(run, data)
        self.check_runs(repo).append(run)
        return 201, self.fake.build.check_run(repo, run)

    def _run(self, repo: FakeRepo, id: str) -> dict[str, Any]:
        run = next((r for r in self.check_runs(repo) if r["id"] == int(id)), None)
        if run is None:
            raise err(404, "Not Found")
        return run

    def update_check_run(
        self, repo: FakeRepo, id: str, data: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        run = self._run(repo, id)
        self._apply_output(run, data)
        return 200, self.fake.build.check_run(repo, run)

    def list_annotations(self, repo: FakeRepo, id: str, query: dict[str, str], **_: Any) -> tuple:
        run = self._run(repo, id)
        items = [
            {
                "path": a["path"],
                "start_line": a["start_line"],
                "end_line": a["end_line"],
                "start_column": None,
                "end_column": None,
                "annotation_level": a["annotation_level"],
                "title": a.get("title"),
                "message": a["message"],
                "raw_details": a.get("raw_details"),
                "blob_href": "https://github.test/blob",
            }
            for a in run["annotations"]
        ]
        chunk, headers = self.fake.paginate(
            f"/repos/{repo.full_name}/check-runs/{id}/annotations", query, items
        )
        return 200, chunk, headers

    def check_runs_for_ref(
        self, repo: FakeRepo, ref: str, query: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        runs = [
            r
            for r in self.check_runs(repo)
            if r["head_sha"] == ref and query.get("check_name", r["name"]) == r["name"]
        ]
        runs.reverse()  # newest first, as GitHub lists them
        return 200, {
            "total_count": len(runs),
            "check_runs": [self.fake.build.check_run(repo, r) for r in runs],
        }

    # -- apps, users, rate limit --------------------------------------------------------

    def get_installation(self, repo: FakeRepo, **_: Any) -> tuple[int, Any]:
        d = self.fake.spec.example("installation")
        d["id"] = repo.installation_id
        d["access_tokens_url"] = (
            f"{self.fake.base_url}/app/installations/{repo.installation_id}/access_tokens"
        )
        return 200, d

    def create_token(self, id: str, **_: Any) -> tuple[int, Any]:
        if not any(r.installation_id == int(id) for r in self.fake.repos.values()):
            raise err(404, "Not Found")
        value = f"ghs_fake{next(self.fake.ids)}"
        self.fake.add_token(value, "reviewbot-test[bot]", "installation")
        d = self.fake.spec.example("installation-token")
        d["token"] = value
        expires = datetime.now(UTC) + timedelta(hours=1)
        d["expires_at"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
        return 201, d

    def get_app(self, **_: Any) -> tuple[int, Any]:
        """GET /app (JWT): the App whose installation tokens post as reviewbot-test[bot]."""
        owner = self._user(Token("octo-org", "user"))
        return 200, {
            "id": 1,
            "slug": "reviewbot-test",
            "node_id": "MDExOkludGVncmF0aW9uMQ==",
            "owner": owner,
            "name": "reviewbot test",
            "description": "",
            "external_url": "https://github.test",
            "html_url": "https://github.test/apps/x",
            "created_at": NOW,
            "updated_at": NOW,
            "permissions": {"pull_requests": "write", "checks": "write"},
            "events": [],
        }

    def rate_limit(self, **_: Any) -> tuple[int, Any]:
        return 200, self.fake.spec.example("rate-limit-overview")

    def get_user(self, token: Token, **_: Any) -> tuple[int, Any]:
        if token.kind != "user":
            raise err(403, NOT_ACCESSIBLE)
        return 200, self._user(token)
