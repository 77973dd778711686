"""Server settings from the environment, and the commands' start-up errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.errors import ConfigError
from reviewbot.server.settings import QueueURL, load_settings
from tests.conftest import run_cli


def test_secrets_from_env_or_files_and_never_in_repr(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("from-a-file\n")
    (tmp_path / "key.pem").write_text(
        "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"
    )
    s = load_settings(
        {
            "REVIEWBOT_WEBHOOK_SECRET_FILE": str(tmp_path / "secret"),
            "REVIEWBOT_GITHUB_APP_ID": " 42 ",
            "REVIEWBOT_GITHUB_PRIVATE_KEY_FILE": str(tmp_path / "key.pem"),
            "REVIEWBOT_LLM_API_KEY": "sk-hidden",
            "HOME": "/root",
        }
    )
    assert s.webhook_secret == b"from-a-file"
    assert s.app_id == "42" and s.private_key is not None and "abc" in s.private_key
    assert dict(s.review_env) == {"REVIEWBOT_LLM_API_KEY": "sk-hidden"}
    text = repr(s)
    assert "from-a-file" not in text and "abc" not in text and "sk-hidden" not in text
    env_wins = load_settings(
        {
            "REVIEWBOT_WEBHOOK_SECRET": "direct",
            "REVIEWBOT_WEBHOOK_SECRET_FILE": str(tmp_path / "secret"),
        }
    )
    assert env_wins.webhook_secret == b"direct"


def test_queue_urls(tmp_path: Path) -> None:
    assert QueueURL.parse(None) == QueueURL("sqlite", "reviewbot-queue.db")
    assert QueueURL.parse("sqlite:///var/lib/rb/q.db") == QueueURL("sqlite", "/var/lib/rb/q.db")
    assert QueueURL.parse("sqlite://q.db") == QueueURL("sqlite", "q.db")
    assert QueueURL.parse("/data/q.db").kind == "sqlite"
    r = QueueURL.parse("redis://:hunter2@cache:6380/2")
    assert r.kind == "redis" and r.describe() == "redis://cache:6380/2"
    with pytest.raises(ConfigError, match="unsupported scheme"):
        QueueURL.parse("amqp://broker")
    s = load_settings({"REVIEWBOT_QUEUE_URL": "q.db"}, cwd=tmp_path)
    assert s.queue == QueueURL("sqlite", str(tmp_path / "q.db"))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REVIEWBOT_GITHUB_API_URL": "api.github.com"}, "must be an http"),
        ({"REVIEWBOT_JOB_LEASE_SECONDS": "soon"}, "must be a number"),
        ({"REVIEWBOT_MAX_BODY_BYTES": "10"}, "at least 1024"),
        ({"REVIEWBOT_WEBHOOK_SECRET_FILE": "/nonexistent/secret"}, "cannot read"),
        ({"REVIEWBOT_FAIL_ON": "sometimes"}, "fail_on"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_serve_without_a_secret_says_what_to_set(tmp_path: Path) -> None:
    r = run_cli(["serve", "--port", "0"], tmp_path)
    assert r.code == 2
    assert "no webhook secret" in r.err and "REVIEWBOT_WEBHOOK_SECRET" in r.err


def test_worker_without_credentials_says_what_to_set(tmp_path: Path) -> None:
    r = run_cli(["worker"], tmp_path)
    assert r.code == 2 and "REVIEWBOT_GITHUB_APP_ID" in r.err


def test_worker_with_a_key_that_cannot_sign(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("not a key")
    r = run_cli(
        ["worker"],
        tmp_path,
        env={"REVIEWBOT_GITHUB_APP_ID": "1", "REVIEWBOT_GITHUB_PRIVATE_KEY_FILE": "key.pem"},
    )
    assert r.code == 2 and "cannot sign" in r.err and "not a key" not in r.err
