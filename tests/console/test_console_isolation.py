"""Deployed code does not cross into the console: the allowlist of what operators may
deploy, the audit of what admins deploy, and what a deployed impl can reach. Real
``hogar console serve`` and ``hogar serve`` processes, real HTTP, real sign-ins."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from console_processes import allow, console_env, deploy, serving_url, signed_in, start_console, upload

ROOT = Path(__file__).resolve().parents[2]
PROBE = """graph probe
source inp
python look { impl = "tests.console.hostile_impls:probe", timeout = 5s }
sink out
inp -> look -> out
"""


def hostile(impl: str) -> str:
    return f'graph shell\nsource inp\npython f {{ impl = "{impl}" }}\nsink out\ninp -> f -> out\n'


def test_operators_deploy_only_allowed_code_and_deployed_code_cannot_reach_the_console(tmp_path):
    data = tmp_path / "data"
    env = console_env(data, PYTHONPATH=str(ROOT))
    console, url = start_console(env, {"ops": "operator", "boss": "admin"})
    try:
        ops, boss = signed_in(url, "ops"), signed_in(url, "boss")

        # Nothing is allowed at first: an operator's graph that runs a shell is refused by name.
        for impl in ("os:system", "subprocess:run", "builtins:exec"):
            response = upload(ops, hostile(impl))
            assert response.status_code == 403
            assert f"node &#x27;f&#x27;: impl &#x27;{impl}&#x27; is not on the console&#x27;s allowlist" in response.text
        assert "tests.console.hostile_impls:probe" in upload(ops, PROBE).text

        # An admin may upload it (audited); an operator still cannot deploy that version.
        response = upload(boss, hostile("os:system"))
        assert response.status_code == 302
        version = response.headers["location"]
        refused = deploy(ops, version)
        assert refused.status_code == 403 and "impl &#x27;os:system&#x27; is not on the console" in refused.text

        # Allowed by an admin through the admin pages: the operator may now deploy the probe.
        allow(url, "boss", "python", "tests.console.hostile_impls")
        response = upload(ops, PROBE)
        assert response.status_code == 302, response.text[-2000:]
        started = deploy(ops, response.headers["location"])
        assert started.status_code == 302
        serve = serving_url(ops, started.headers["location"])

        def probe(body: dict) -> dict:
            answer = httpx.post(serve + "/inp", json=body, timeout=20)
            assert answer.status_code == 200, answer.text
            return answer.json()

        seen = probe({"env": True})
        assert seen["uid"] != 0 if os.geteuid() == 0 else seen["uid"] == os.geteuid()
        assert not [k for k in seen["env"] if k.startswith(("HOGAR_CONSOLE", "DJANGO"))], seen["env"]
        assert "HOGAR_ADMIN_TOKEN" not in seen["env"]
        if os.geteuid() == 0:  # as root the children run as another user: the files are out of reach
            for path in (data / "secret_key", data / "console.sqlite3", f"/proc/{console.proc.pid}/environ"):
                assert probe({"path": str(path)}) == {"error": "PermissionError"}, path
            assert probe({"list": str(data)}) == {"error": "PermissionError"}
        assert (data / "secret_key").stat().st_mode & 0o777 == 0o600
        assert (data / "console.sqlite3").stat().st_mode & 0o777 == 0o600
        assert data.stat().st_mode & 0o777 == 0o700

        # The audit log names who uploaded and deployed what, with the version, and what was refused.
        audit = boss.get("/audit/").text
        for row in ("upload", "deploy-refused", "allow", "deploy"):
            assert f">{row}<" in audit, row
        assert "shell v1" in audit and "probe v1" in audit
    finally:
        assert console.stop() == 0, console.output()
    assert "Traceback" not in console.output(), console.output()
