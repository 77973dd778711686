"""eval, deserialisation, yaml, TLS, secrets and password-hash rules."""

from __future__ import annotations

from tests.static_cases import Case

_SECRET = 'DB_PASSWORD = "s3cr3t-Pa55w0rd"\n'

POSITIVE: list[Case] = [
    (
        "py.eval",
        """
        def calc(expr):
            return eval(expr)
    """,
    ),
    (
        "py.eval",
        """
        from flask import request
        def run():
            exec(request.form["code"])
    """,
    ),
    (
        "py.unsafe-deserialization",
        """
        import pickle
        def load(data):
            return pickle.loads(data)
    """,
    ),
    (
        "py.yaml-load",
        """
        import yaml
        def parse(text):
            return yaml.load(text)
    """,
    ),
    (
        "py.yaml-load",
        """
        import yaml
        def parse(text):
            return yaml.load(text, Loader=yaml.Loader)
    """,
    ),
    (
        "py.tls-verify-disabled",
        """
        import requests
        def fetch(url):
            return requests.get(url, verify=False)
    """,
    ),
    (
        "py.tls-verify-disabled",
        """
        import ssl
        def context():
            ctx = ssl.create_default_context()
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
    """,
    ),
    (
        "py.hardcoded-secret",
        """
        DB_PASSWORD = "s3cr3t-Pa55w0rd"
    """,
    ),
    (
        "py.hardcoded-secret",
        """
        def connect():
            return Client(api_key="sk_live_4eC39HqLyjWDarjtT1zdp7dc")
    """,
    ),
    (
        "py.weak-password-hash",
        """
        import hashlib
        def store(user, password):
            user.hash = hashlib.md5(password.encode()).hexdigest()
    """,
    ),
    # a secret in a settings module (the same line in a test file is a fixture: NEGATIVE)
    ("py.hardcoded-secret", "app/settings.py", _SECRET),
]

NEGATIVE: list[Case] = [
    (
        "py.eval",
        """
        import ast
        def calc(expr):
            return ast.literal_eval(expr)
    """,
    ),
    (
        "py.eval",
        """
        def two():
            return eval("1 + 1")
    """,
    ),
    # near miss: a pickle round trip of the program's own object
    (
        "py.unsafe-deserialization",
        """
        import pickle
        def clone(obj):
            return pickle.loads(pickle.dumps(obj))
    """,
    ),
    (
        "py.unsafe-deserialization",
        """
        import json
        def load(data):
            return json.loads(data)
    """,
    ),
    (
        "py.yaml-load",
        """
        import yaml
        def parse(text):
            return yaml.load(text, Loader=yaml.SafeLoader)
    """,
    ),
    (
        "py.yaml-load",
        """
        import yaml
        def parse(text):
            return yaml.safe_load(text)
    """,
    ),
    (
        "py.tls-verify-disabled",
        """
        import requests
        def fetch(url, bundle):
            return requests.get(url, verify=bundle)
    """,
    ),
    # near miss: reading the mode, and an unrelated verify= keyword
    (
        "py.tls-verify-disabled",
        """
        import functools, ssl
        def check(ctx):
            f = functools.partial(make, verify=False)
            return ctx.verify_mode == ssl.CERT_NONE
    """,
    ),
    (
        "py.hardcoded-secret",
        """
        import os
        DB_PASSWORD = os.environ["DB_PASSWORD"]
    """,
    ),
    # near misses: a placeholder, a field name, a prompt
    (
        "py.hardcoded-secret",
        """
        password = "changeme"
        PASSWORD_FIELD = "password"
        token = "<your-token-here>"
        prompt_password = "Enter your password: "
    """,
    ),
    (
        "py.hardcoded-secret",
        """
        CHALLENGE_PASSWORD = "challengePassword"
    """,
    ),
    (
        "py.weak-password-hash",
        """
        import hashlib
        def checksum(path):
            return hashlib.md5(open(path, "rb").read()).hexdigest()
    """,
    ),
    (
        "py.weak-password-hash",
        """
        import hashlib
        def store(user, password, salt):
            user.hash = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)
    """,
    ),
    ("py.hardcoded-secret", "tests/test_login.py", _SECRET),
]
