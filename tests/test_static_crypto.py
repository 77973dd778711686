"""Weak cryptography and insecure configuration rules (py_crypto, py_config)."""

from __future__ import annotations

from tests.static_cases import Case, run

_DEBUG = "DEBUG = True\n"
_RUN_APP = "app.run(debug=True)\n"
_MD5_PASSWORD = """
    import hashlib
    def store(user, password):
        user.hash = hashlib.md5(password.encode()).hexdigest()
"""

POSITIVE: list[Case] = [
    (
        "py.weak-hash",
        """
        import hashlib
        def sign(secret, body):
            return hashlib.md5(secret + body).hexdigest()
    """,
    ),
    (
        "py.weak-hash",
        """
        import hashlib
        def reset_link(user):
            token = hashlib.sha1(user.email.encode()).hexdigest()
            return "/reset/" + token
    """,
    ),
    (
        "py.weak-hash",
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        def sign(key, data):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA1())
    """,
    ),
    (
        "py.weak-cipher",
        """
        from Crypto.Cipher import DES
        def encrypt(key, data):
            return DES.new(key, DES.MODE_CBC).encrypt(data)
    """,
    ),
    (
        "py.weak-cipher",
        """
        from Crypto.Cipher import AES
        def encrypt(key, data):
            return AES.new(key, AES.MODE_ECB).encrypt(data)
    """,
    ),
    (
        "py.weak-cipher",
        """
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        def encrypt(key, data):
            return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(data)
    """,
    ),
    (
        "py.weak-cipher",
        """
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
        def stream(key):
            return Cipher(algorithms.ARC4(key), mode=None)
    """,
    ),
    (
        "py.weak-key",
        """
        from cryptography.hazmat.primitives.asymmetric import rsa
        def make():
            return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    """,
    ),
    (
        "py.weak-key",
        """
        from Crypto.PublicKey import DSA
        def make():
            return DSA.generate(1024)
    """,
    ),
    (
        "py.insecure-random",
        """
        import random, string
        def new_password():
            return "".join(random.choice(string.ascii_letters) for _ in range(12))
    """,
    ),
    (
        "py.insecure-random",
        """
        import random
        def issue(user):
            user.api_key = "%032x" % random.getrandbits(128)
    """,
    ),
    (
        "py.cleartext-transport",
        """
        import requests
        def login(user, pw):
            return requests.post("http://api.example.com/login", data={"password": pw})
    """,
    ),
    (
        "py.cleartext-transport",
        """
        import ftplib
        def upload(user, pw):
            ftp = ftplib.FTP("ftp.example.com")
            ftp.login(user, pw)
    """,
    ),
    (
        "py.cleartext-transport",
        """
        import smtplib
        def send(user, pw, msg):
            s = smtplib.SMTP("mail.example.com", 587)
            s.login(user, pw)
            s.send_message(msg)
    """,
    ),
    (
        "py.cleartext-transport",
        """
        import telnetlib
        def connect(host):
            return telnetlib.Telnet(host, 23)
    """,
    ),
    (
        "py.debug-mode",
        """
        from flask import Flask
        app = Flask(__name__)
        if __name__ == "__main__":
            app.run(host="0.0.0.0", debug=True)
    """,
    ),
    (
        "py.debug-mode",
        """
        def create_app(app):
            app.config["DEBUG"] = True
            return app
    """,
    ),
    (
        "py.insecure-tempfile",
        """
        import tempfile
        def scratch():
            path = tempfile.mktemp(suffix=".txt")
            return open(path, "w")
    """,
    ),
    (
        "py.xml-external-entities",
        """
        from lxml import etree
        def parse(data):
            parser = etree.XMLParser(resolve_entities=True)
            return etree.fromstring(data, parser)
    """,
    ),
    (
        "py.xml-external-entities",
        """
        import xml.sax
        from xml.sax.handler import feature_external_ges
        def parse(stream, handler):
            parser = xml.sax.make_parser()
            parser.setFeature(feature_external_ges, True)
            parser.setContentHandler(handler)
            parser.parse(stream)
    """,
    ),
    # DEBUG = True only in a production settings module, app.run(debug=True) outside tests
    ("py.debug-mode", "mysite/settings.py", _DEBUG),
    ("py.debug-mode", "mysite/settings/production.py", _DEBUG),
    ("py.debug-mode", "server.py", _RUN_APP),
    ("py.weak-password-hash", _MD5_PASSWORD),
]

NEGATIVE: list[Case] = [
    (
        "py.weak-hash",
        """
        import hashlib
        def sign(secret, body):
            return hashlib.md5(secret + body, usedforsecurity=False).hexdigest()
    """,
    ),
    # near misses: MD5 for a cache key and an ETag
    (
        "py.weak-hash",
        """
        import hashlib
        def cache_key(session_id, url):
            return hashlib.md5((session_id + url).encode()).hexdigest()
        def respond(resp, body):
            etag = hashlib.md5(body).hexdigest()
            resp.headers["ETag"] = etag
    """,
    ),
    (
        "py.weak-hash",
        """
        import hashlib
        def sign(secret, body):
            return hashlib.sha256(secret + body).hexdigest()
    """,
    ),
    # near misses: a function named after sessions that hashes a URL; a certificate
    # fingerprint for display
    (
        "py.weak-hash",
        """
        import hashlib
        def get_session(url):
            key = hashlib.md5(url.encode()).hexdigest()
            return SESSIONS[key]
        def show(cert_der):
            print(hashlib.sha1(cert_der).hexdigest())
    """,
    ),
    (
        "py.weak-cipher",
        """
        import os
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        def encrypt(key, data):
            nonce = os.urandom(12)
            return nonce + AESGCM(key).encrypt(nonce, data, None)
    """,
    ),
    (
        "py.weak-cipher",
        """
        from Crypto.Cipher import AES
        def encrypt(key, data):
            return AES.new(key, AES.MODE_GCM).encrypt_and_digest(data)
    """,
    ),
    (
        "py.weak-key",
        """
        from cryptography.hazmat.primitives.asymmetric import rsa
        def make():
            return rsa.generate_private_key(public_exponent=65537, key_size=4096)
    """,
    ),
    (
        "py.weak-key",
        """
        from cryptography.hazmat.primitives.asymmetric import rsa
        def make(bits):
            return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    """,
    ),
    (
        "py.insecure-random",
        """
        import secrets
        def new_token():
            return secrets.token_hex(16)
    """,
    ),
    # near misses: jitter, a random pick that is no secret
    (
        "py.insecure-random",
        """
        import random, time
        def retry(fn, attempt):
            delay = 2 ** attempt + random.random()
            time.sleep(delay)
            return fn()
        def pick(items):
            return random.choice(items)
    """,
    ),
    # near miss: a token drawn from a vocabulary is a word, not a secret
    (
        "py.insecure-random",
        """
        import random
        def babble(vocab, n):
            out = []
            for _ in range(n):
                token = random.choice(vocab)
                out.append(token)
            return out
    """,
    ),
    (
        "py.cleartext-transport",
        """
        import requests
        def login(user, pw):
            return requests.post("https://api.example.com/login", data={"password": pw})
    """,
    ),
    (
        "py.cleartext-transport",
        """
        import requests
        def health():
            return requests.get("http://localhost:8080/health")
        def page():
            return requests.get("http://example.org/index.html")
    """,
    ),
    (
        "py.cleartext-transport",
        """
        import ftplib
        def upload(user, pw):
            ftp = ftplib.FTP_TLS("ftp.example.com")
            ftp.login(user, pw)
            ftp.prot_p()
    """,
    ),
    (
        "py.cleartext-transport",
        """
        import smtplib
        def send(user, pw, msg):
            s = smtplib.SMTP("mail.example.com", 587)
            s.starttls()
            s.login(user, pw)
            s.send_message(msg)
    """,
    ),
    (
        "py.debug-mode",
        """
        import os
        from flask import Flask
        app = Flask(__name__)
        if __name__ == "__main__":
            app.run(debug=os.environ.get("FLASK_DEBUG") == "1")
    """,
    ),
    (
        "py.debug-mode",
        """
        def run(job, pipeline):
            job.run(debug=False)
            pipeline.run(debug=True)
    """,
    ),
    (
        "py.insecure-tempfile",
        """
        import os, tempfile
        def scratch():
            fd, path = tempfile.mkstemp(suffix=".txt")
            os.close(fd)
            with tempfile.NamedTemporaryFile() as f:
                f.write(b"x")
            return path
    """,
    ),
    (
        "py.xml-external-entities",
        """
        from lxml import etree
        def parse(data):
            parser = etree.XMLParser(resolve_entities=False, no_network=True)
            return etree.fromstring(data, parser)
    """,
    ),
    (
        "py.xml-external-entities",
        """
        import xml.sax
        from xml.sax.handler import feature_external_ges
        def parse(stream):
            parser = xml.sax.make_parser()
            parser.setFeature(feature_external_ges, False)
            parser.parse(stream)
    """,
    ),
    ("py.debug-mode", "mysite/settings/dev.py", _DEBUG),
    ("py.debug-mode", "mysite/views.py", _DEBUG),
    ("py.debug-mode", "tests/test_server.py", _RUN_APP),
    # a hashed password is the password rule's finding, not also a weak-hash one
    ("py.weak-hash", _MD5_PASSWORD),
]


def test_api_rules_report_only_changed_calls() -> None:
    code = """
        import tempfile
        def scratch():
            name = "x"
            return tempfile.mktemp()
    """
    assert [h.line for h in run(code, changed={4})] == [4]
    assert run(code, changed={3}) == []
