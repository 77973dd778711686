"""SQL (CWE-89) and shell (CWE-78) rules: positive, negative and near-miss cases."""

from __future__ import annotations

from reviewbot.findings import Severity
from tests.static_cases import run

POSITIVE: list[tuple[str, str]] = [
    (
        "py.sql-injection",
        """
        def get(cur, name):
            cur.execute("SELECT * FROM users WHERE name = '%s'" % name)
    """,
    ),
    (
        "py.sql-injection",
        """
        def get(cur, name):
            cur.execute(f"SELECT id FROM users WHERE name = '{name}'")
    """,
    ),
    (
        "py.sql-injection",
        """
        def get(db, user_id):
            sql = "SELECT * FROM t WHERE id = {}".format(user_id)
            return db.query(sql)
    """,
    ),
    (
        "py.sql-injection",
        """
        def get(conn, chat_id):
            conn.execute("select * from users where chat_id = '" + str(chat_id) + "'")
    """,
    ),
    (
        "py.sql-injection",
        """
        QUERY = "UPDATE jobs SET closed = 1 WHERE job = {}"
        def close(conn, job):
            conn.cursor().execute(QUERY.format(job))
    """,
    ),
    (
        "py.sql-injection",
        """
        def add(db, base_url, name):
            sql = "INSERT INTO valids (base_url, name) VALUES ("
            sql += "'" + str(base_url) + "', '" + str(name) + "');"
            db.exec(sql)
    """,
    ),
    (
        "py.sql-injection",
        """
        from flask import request
        def search(cur):
            order = request.args["order"]
            cur.execute("SELECT * FROM items ORDER BY %s" % order)
    """,
    ),
    (
        "py.shell-injection",
        """
        import os
        def ping(host):
            os.system("ping -c 1 " + host)
    """,
    ),
    (
        "py.shell-injection",
        """
        import subprocess
        def title(url):
            return subprocess.check_output('youtube-dl --get-title %s' % url, shell=True)
    """,
    ),
    (
        "py.shell-injection",
        """
        import subprocess
        def run(script):
            subprocess.run(["bash", "-c", f"echo {script}"])
    """,
    ),
    (
        "py.shell-injection",
        """
        import os
        def listing():
            return os.popen("ls " + os.environ["HOME"]).read()
    """,
    ),
    (
        "py.command-string",
        """
        class Driver:
            def delete(self, name):
                ssh_cmd = 'svctask rmvdisk -force %s' % name
                out, err = self._run_ssh(ssh_cmd)
    """,
    ),
    (
        "py.command-string",
        """
        def resolve(host, pod, hostname):
            cmd = "kubectl exec -ti {0} nslookup {1}".format(pod, hostname)
            return host.run(cmd)
    """,
    ),
    (
        "py.command-string",
        """
        class Device:
            def pull_report(self, remote, name):
                local = os.path.join(self.log_path, name)
                self.adb.pull('%s %s' % (remote, local))
    """,
    ),
]

NEGATIVE: list[tuple[str, str]] = [
    # near miss: the adb proxy gets an argv list; a constant command line
    (
        "py.command-string",
        """
        class Device:
            def pull_report(self, remote, name):
                local = os.path.join(self.log_path, name)
                self.adb.pull([remote, local])
                self.adb.shell('bugreportz -v')
    """,
    ),
    # parameterised queries and constants
    (
        "py.sql-injection",
        """
        def get(cur, name):
            cur.execute("SELECT * FROM users WHERE name = %s", (name,))
    """,
    ),
    (
        "py.sql-injection",
        """
        def get(db, scene):
            sql = "SELECT * FROM ranks WHERE scene='{scene}'"
            return db.exec(sql, {'scene': scene})
    """,
    ),
    # near miss: table name from the object's own configuration, value bound
    (
        "py.sql-injection",
        """
        class Store:
            def delete(self, sid):
                query = "DELETE FROM %s WHERE identifier = $1;" % (self.table)
                self._query(query, sid)
    """,
    ),
    # near miss: placeholders built from a count, values bound
    (
        "py.sql-injection",
        """
        def delete(curs, chunk):
            curs.execute('delete from t where id in (%s)' % ','.join('?' * len(chunk)), chunk)
    """,
    ),
    # near miss: prose that mentions select ... from
    (
        "py.sql-injection",
        """
        def message(path, exc):
            raise ValueError(f"Cannot select requirements from pylock file {path}: {exc}")
    """,
    ),
    (
        "py.sql-injection",
        """
        def get(cur, user_id: int):
            cur.execute("SELECT * FROM t WHERE id = %s", (user_id,))
    """,
    ),
    (
        "py.shell-injection",
        """
        import subprocess
        def title(url):
            return subprocess.check_output(['youtube-dl', '--get-title', url])
    """,
    ),
    (
        "py.shell-injection",
        """
        import os, shlex
        def ping(host):
            os.system("ping -c 1 " + shlex.quote(host))
    """,
    ),
    (
        "py.shell-injection",
        """
        import os
        def clear():
            os.system("clear")
    """,
    ),
    # near miss: shell= is a variable, not True
    (
        "py.shell-injection",
        """
        import subprocess
        def run(args, shell):
            return subprocess.Popen(args, shell=shell)
    """,
    ),
    # near miss: an argv list element built with formatting
    (
        "py.command-string",
        """
        class Driver:
            def grow(self, volume_name, size):
                self._cli_run(['growvv', '-f', volume_name, '%dg' % size])
    """,
    ),
    # near miss: an error message, not a command
    (
        "py.command-string",
        """
        def check(hook_type, expected):
            raise SystemExit(f'hook-impl for {hook_type} expected {expected} arguments')
    """,
    ),
    # near miss: the value was validated against a pattern first
    (
        "py.command-string",
        """
        import re
        from subprocess import call
        def whitelist(users):
            for user in users.split():
                if not re.match(r'^[A-Za-z0-9_]{3,16}$', user):
                    continue
                call(TEMPLATE.format(user))
    """,
    ),
]


def test_sql_message_names_the_origin_and_the_sink() -> None:
    hits = run("""
        def get(cur, name):
            sql = "SELECT * FROM users WHERE name = '%s'" % name
            cur.execute(sql)
    """)
    (hit,) = hits
    assert hit.rule_id == "py.sql-injection" and hit.cwe == "CWE-89"
    assert hit.severity is Severity.ERROR and hit.line == 2
    assert "parameter `name`" in hit.message and "cur.execute" in hit.message


def test_numeric_formatting_is_only_a_warning() -> None:
    (hit,) = run("""
        def get(cursor, game):
            cursor.execute("SELECT x FROM moves WHERE gameID = %d;" % game)
    """)
    assert hit.rule_id == "py.sql-injection" and hit.severity is Severity.WARNING


def test_sink_line_change_reports_the_query_built_earlier() -> None:
    code = """
        def get(cur, name):
            sql = "SELECT * FROM users WHERE name = '%s'" % name
            cur.execute(sql)
    """
    (hit,) = run(code, changed={3})
    assert hit.line == 3 and "line 2" in hit.message


def test_changed_assignment_carrying_request_data_is_reported_at_the_assignment() -> None:
    code = """
        import os
        from flask import request
        def view():
            name = request.args["name"]
            os.system("echo " + name)
    """
    (hit,) = run(code, changed={4})
    assert hit.rule_id == "py.shell-injection" and hit.line == 4
    assert "line 5" in hit.message
    assert run(code, changed={1}) == []


def test_long_html_like_query_is_anchored_at_the_risky_placeholder() -> None:
    lines = ["def get(cur, name):", '    q = """SELECT *', "        FROM t"]
    lines += [f"        -- {i}" for i in range(10)]
    lines += ["        WHERE name = '%s'", '    """ % name', "    cur.execute(q)"]
    (hit,) = run("\n".join(lines) + "\n")
    assert hit.line == hit.end_line == 14
