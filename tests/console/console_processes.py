"""Real processes for the console's tests: ``hogar console`` and ``hogar serve`` on 127.0.0.1,
a PostgreSQL server in a temporary directory, and an HTTP session that signs in."""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HOGAR = [sys.executable, "-m", "hogar_nb"]
PASSWORD = "a-long-test-password-7"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class Process:
    """A child whose output is collected by a thread; ``wait_line`` waits for a matching line."""

    def __init__(self, cmd: list[str], env: dict | None = None, cwd: str | None = None) -> None:
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, pattern: str, timeout: float = 60.0) -> re.Match:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._more()):
                    raise AssertionError(f"{' '.join(self.cmd[2:5])}: no line matching {pattern!r}; output:\n"
                                         + "\n".join(self.lines[-40:]))
                self._cond.wait(min(left, 0.5))

    def _more(self) -> bool:
        return False

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self, timeout: float = 40.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def run_hogar(*args: str, env: dict, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*HOGAR, *args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout)


def console_env(data_dir: Path, db: str | None = None, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOGAR_CONSOLE", "DJANGO_"))}
    env["HOGAR_CONSOLE_DATA"] = str(data_dir)
    if db:
        env["HOGAR_CONSOLE_DB"] = db
    env.update(extra)
    env.update(child_python(env.get("PYTHONPATH", "")))
    return env


def child_python(pythonpath: str) -> dict:
    """As root, the console runs its deployments as ``nobody``, who must reach the code.

    When this interpreter lies where that user cannot reach it (a pyenv build under
    /root), the children run Debian's python3 of the same version with this environment's
    packages on their path. A checkout or virtual environment inside a private directory
    (a CI clone in a mode-0700 temporary directory) gets the execute bit for others on
    the directories above it: passing through, not listing.
    """
    if os.geteuid() != 0:
        return {}
    import pwd
    import site
    import stat

    from hogar_nb.console.isolation import why_unreachable

    nobody = pwd.getpwnam("nobody")
    root = str(Path(__file__).resolve().parents[2])
    paths = [p for p in pythonpath.split(os.pathsep) if p] or [root]
    packages = site.getsitepackages()
    for path in {root, *paths, *packages}:
        for part in reversed(Path(path).resolve().parents):
            mode = part.stat().st_mode
            if not mode & stat.S_IXOTH:
                part.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
    if not why_unreachable(sys.executable, nobody.pw_uid, nobody.pw_gid):
        return {}
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    assert os.path.exists(system), f"{system} is missing: apt-get install python3"
    return {"HOGAR_CONSOLE_CHILD_PYTHON": system, "PYTHONPATH": os.pathsep.join([*paths, *packages])}


def start_console(env: dict, users: dict[str, str] | None = None) -> tuple[Process, str]:
    """``hogar console init``, ``adduser`` for each (name: role), then ``serve --port 0``."""
    out = run_hogar("console", "init", env=env)
    assert out.returncode == 0, out.stderr
    for name, role in (users or {}).items():
        out = run_hogar("console", "adduser", name, "--role", role, "--password-stdin", env=env, stdin=PASSWORD + "\n")
        assert out.returncode == 0, out.stderr
    proc = Process([*HOGAR, "console", "serve", "--port", "0"], env=env)
    url = proc.wait_line(r"^console on (http://127\.0\.0\.1:\d+)$", 60)[1]
    return proc, url


def signed_in(url: str, user: str, password: str = PASSWORD) -> httpx.Client:
    """An HTTP session signed in through the sign-in form (CSRF token from the page)."""
    client = httpx.Client(base_url=url, timeout=30.0, follow_redirects=False)  # an upload runs hogar check
    page = client.get("/signin/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    response = client.post("/signin/", data={"username": user, "password": password,
                                             "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.text[:500]
    return client


def csrf(client: httpx.Client, page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(page).text)[1]


class Postgres:
    """A PostgreSQL server from Debian's packages in a temporary directory, on 127.0.0.1.

    initdb and postgres refuse to run as root, so as root they run as the ``postgres`` user.
    """

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise AssertionError("PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)")
        self.bin = Path(bins[-1]).parent
        # Its own directory under the system temp dir: pytest's is closed to other users.
        self.root = Path(tempfile.mkdtemp(prefix="hogar-pg-"))
        self.dir = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres")
        self.proc: Process | None = None

    def _cmd(self, *args: str) -> list[str]:
        return (["runuser", "-u", "postgres", "--"] if self.as_root else []) + list(args)

    def start(self) -> "Postgres":
        out = subprocess.run(self._cmd(str(self.bin / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres",
                                       "--no-sync", "-E", "UTF8"), capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        self.proc = Process(self._cmd(str(self.bin / "postgres"), "-D", str(self.dir), "-h", "127.0.0.1",
                                      "-p", str(self.port), "-k", str(self.dir), "-c", "fsync=off"))
        self.proc.wait_line(r"ready to accept connections", 60)
        out = subprocess.run(self._cmd(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                                       "-U", "postgres", "hogar_console"), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return self

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/hogar_console"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def allow(url: str, admin: str, kind: str, *entries: str) -> None:
    """Add allowlist entries as ``admin`` through the admin pages, as a person would."""
    client = signed_in(url, admin)
    for entry in entries:
        token = csrf(client, "/admin/console/allowedcode/add/")
        response = client.post("/admin/console/allowedcode/add/", data={
            "kind": kind, "entry": entry, "note": "", "csrfmiddlewaretoken": token})
        assert response.status_code == 302, response.text[:2000]
    client.close()


def upload(client: httpx.Client, text: str) -> httpx.Response:
    """Paste ``text`` on the upload page (302 to the new version, or the page with why not)."""
    token = csrf(client, "/graphs/upload/")
    return client.post("/graphs/upload/", data={"text": text, "format": "auto", "csrfmiddlewaretoken": token})


def deploy(client: httpx.Client, version_url: str) -> httpx.Response:
    """Deploy the version at ``version_url`` (302 to the deployment's page)."""
    token = csrf(client, version_url)
    return client.post(version_url + "deploy/", data={"name": "", "csrfmiddlewaretoken": token})


def serving_url(client: httpx.Client, deployment: str) -> str:
    """The URL a deployment serves on, once it does (it must not fail meanwhile)."""

    def found():
        page = client.get(deployment).text
        assert "failed" not in re.findall(r'class="state[^"]*">([^<]*)<', page), page[-3000:]
        m = re.search(r'id="dep-url">(http://127\.0\.0\.1:\d+)<', page)
        return m and m[1]

    return wait_for(found, 90, "the deployment to serve", 0.2)
