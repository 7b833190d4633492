"""``hogar console init|adduser|serve`` as processes, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import httpx
import pytest

from console_processes import PASSWORD, allow, Postgres, console_env, csrf, run_hogar, signed_in, start_console

DESIGN_NAME = "fraud_scoring"


def test_adduser_refuses_bad_input_with_clear_messages(tmp_path):
    env = console_env(tmp_path / "data")
    out = run_hogar("console", "adduser", "ann", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert out.returncode == 2 and "run `hogar console init` first" in out.stderr
    assert run_hogar("console", "init", env=env).returncode == 0
    assert (tmp_path / "data" / "console.sqlite3").exists()
    key = tmp_path / "data" / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text()) >= 50
    for args, stdin, message in [
        (["ann"], "short\n", "password refused"),
        (["ann"], "\n", "the password is empty"),
        (["bad name!"], PASSWORD + "\n", "for the user name"),
    ]:
        out = run_hogar("console", "adduser", *args, "--password-stdin", env=env, stdin=stdin)
        assert out.returncode == 2 and message in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
    out = run_hogar("console", "adduser", "ann", "--role", "root", "--password-stdin", env=env, stdin=PASSWORD)
    assert out.returncode == 2 and "invalid choice" in out.stderr
    out = run_hogar("console", "adduser", "ann", env=env, stdin="")
    assert out.returncode == 2 and "--password-stdin" in out.stderr
    out = run_hogar("console", "init", "--db", "mysql://x@127.0.0.1/db", env=env)
    assert out.returncode == 2 and "expected sqlite:///PATH or postgresql://" in out.stderr


def test_serve_on_postgresql(tmp_path):
    """The console on a real PostgreSQL server: init, users, sign-in, upload, audit."""
    pg = Postgres().start()
    console = None
    try:
        env = console_env(tmp_path / "data", db=pg.url)
        console, url = start_console(env, {"ops": "operator", "boss": "admin"})
        assert httpx.get(url + "/graphs/").status_code == 302
        allow(url, "boss", "python", "fraud")
        allow(url, "boss", "model", "models")
        client = signed_in(url, "ops")
        from pathlib import Path

        text = (Path(__file__).resolve().parent.parent / "core" / "cases" / "valid" / "design_example.udgl").read_text()
        token = csrf(client, "/graphs/upload/")
        response = client.post("/graphs/upload/", data={"text": text, "format": "auto", "csrfmiddlewaretoken": token})
        assert response.status_code == 302, response.text[:2000]
        page = client.get(response.headers["location"])
        assert DESIGN_NAME in page.text and "v1" in page.text
        admin = signed_in(url, "boss")
        audit = admin.get("/audit/").text
        assert "upload" in audit and "ops" in audit
        # The rows are in PostgreSQL, not in an SQLite file.
        assert not (tmp_path / "data" / "console.sqlite3").exists()
        import psycopg

        with psycopg.connect(pg.url) as conn:
            assert conn.execute("select count(*) from console_graphversion").fetchone()[0] == 1
            assert conn.execute("select username from auth_user order by username").fetchall() == [("boss",), ("ops",)]
    finally:
        if console is not None:
            assert console.stop() == 0, console.output()  # SIGTERM ends it cleanly
        pg.stop()
