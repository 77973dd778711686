"""Helpers for the GitHub tests: pull requests built from real git commits, PyGithub clients.

A PR on the fake GitHub is made from two commits of a real repository: per-file patches come
from ``git diff`` (the way GitHub computes them) and head contents from ``git show``.
"""

from __future__ import annotations

import re
import subprocess

import github

from reviewbot.github.auth import make_github
from reviewbot.github.retry import safe_retry
from tests.conftest import GitRepo
from tests.fakes.github_state import FakeFile

SHOP_BASE = '''"""Order lookups for the shop service."""

import sqlite3


def get_order(conn: sqlite3.Connection, order_id: int):
    cur = conn.cursor()
    cur.execute("SELECT id, total FROM orders WHERE id = ?", (order_id,))
    return cur.fetchone()


def order_total(items):
    total = 0
    for item in items:
        total += item["price"] * item["qty"]
    return total
'''

SHOP_HEAD = '''"""Order lookups for the shop service."""

import sqlite3
import subprocess

import yaml


def get_order(conn: sqlite3.Connection, order_id: int):
    cur = conn.cursor()
    cur.execute("SELECT id, total FROM orders WHERE id = ?", (order_id,))
    return cur.fetchone()


def find_orders(conn: sqlite3.Connection, customer: str, tags=[]):
    cur = conn.cursor()
    cur.execute(f"SELECT id, total FROM orders WHERE customer = '{customer}'")
    rows = cur.fetchall()
    if customer is "admin":
        tags.append("all")
    return rows


def order_total(items, discount=0.0):
    total = 0
    for item in items:
        total += item["price"] * item["qty"]
    if discount:
        total = total * (1 - discount)
    return round(total, 2)


def load_rules(path: str):
    with open(path) as fh:
        return yaml.load(fh)


def export_orders(filename: str) -> None:
    try:
        subprocess.run("tar czf /tmp/export.tgz " + filename, shell=True, check=True)
    except:
        pass
'''

_HEADER_END = re.compile(r"^@@ ", re.M)


def file_patches(repo: GitRepo, base: str, head: str) -> list[FakeFile]:
    """One FakeFile per changed path, with GitHub-style ``patch`` (hunks only) and status."""
    names = repo.git("diff", "--name-status", "-M", base, head).splitlines()
    out: list[FakeFile] = []
    for row in names:
        parts = row.split("\t")
        code, path = parts[0], parts[-1]
        old = parts[1] if code.startswith("R") else None
        status = {"A": "added", "D": "removed", "M": "modified"}.get(code[0], "renamed")
        args = ["diff", "-M", "--no-color", base, head, "--", *([old, path] if old else [path])]
        text = repo.git(*args)
        m = _HEADER_END.search(text)
        patch = text[m.start() :].rstrip("\n") if m else None
        content = None
        if status != "removed":
            content = subprocess.run(
                ["git", "show", f"{head}:{path}"], cwd=repo.root, capture_output=True, check=True
            ).stdout
        out.append(FakeFile(path, status, patch, old, content))
    return out


def shop_repo(git_repo: GitRepo, config: str | None = None) -> tuple[str, str]:
    """(base sha, head sha) of the shop example in ``git_repo``."""
    git_repo.write("shop/orders.py", SHOP_BASE)
    git_repo.write("README.md", "shop\n")
    if config is not None:
        git_repo.write(".reviewbot.yml", config)
    base = git_repo.commit("base")
    git_repo.write("shop/orders.py", SHOP_HEAD)
    head = git_repo.commit("head")
    return base, head


def client(base_url: str, token: str) -> github.Github:
    return make_github(
        token, base_url, retry=safe_retry(backoff_factor=0.01), seconds_between_writes=0
    )
