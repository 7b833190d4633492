"""Connect to a Ray cluster, or start a small local one on 127.0.0.1, and start Serve on it.

``LocalRay(join=address, labels=...)`` starts a further node (a raylet of its own,
with its labels and resources) that joins a running head: several of them make a
multi-machine cluster on one host, for placement across machines.

A local Ray is a ``ray start --head --block`` child process, in a session of its
own, with every port chosen up front on 127.0.0.1: the raylet then has no port
files to wait for. On a busy machine Ray's Python helpers can take longer to start
than the raylet waits for them, so the start is retried.

A local Ray belongs to the process that started it: it stops with the deployment
and at interpreter exit (``atexit``; SIGTERM becomes a normal exit when nothing else
handles it). ``ray start --block`` tears its cluster down on SIGINT, not on SIGTERM;
whatever is left of the session after that is killed. A process killed with SIGKILL
cannot clean up: its head then runs on until ``ray stop`` or a kill of its session.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ...runtime.errors import DeploymentConfigError

__all__ = ["LOCAL_OBJECT_STORE_BYTES", "LocalRay", "RayImportedTooEarly", "connect", "free_port",
           "local_auth", "start_serve"]

LOCAL_OBJECT_STORE_BYTES = 128 << 20  # the graph's payloads, not datasets
START_TIMEOUT = 180.0


#: what Ray appends to its temp dir for its longest unix socket path
#: (``/session_2026-12-02_13-14-19_123456_12345/sockets/plasma_store``); 107 bytes at most in all
_SOCKET_TAIL, _SOCKET_MAX = 62, 107


def _private_temp_dir() -> str:
    """A new directory for a local head's session files: in the temporary directory when
    its sockets' paths fit there, else in /tmp."""
    import tempfile

    base = tempfile.gettempdir()
    if len(base) + 10 + _SOCKET_TAIL > _SOCKET_MAX:
        base = "/tmp"
    return tempfile.mkdtemp(prefix="ray", dir=base)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class LocalRay:
    """A one-node Ray cluster on 127.0.0.1, owned by this process; with ``join`` (a head's
    address), a further node of that cluster instead, with ``labels`` and ``resources``."""

    def __init__(self, num_cpus: int | None = None, object_store_bytes: int = LOCAL_OBJECT_STORE_BYTES,
                 temp_dir: str | None = None, attempts: int = 3, nice: int = 0, join: str | None = None,
                 labels: dict[str, str] | None = None, resources: dict[str, float] | None = None) -> None:
        self.join = join
        self.labels = dict(labels or {})
        self.resources = dict(resources or {})
        self.node_id = ""  # the raylet's node, once started
        self.num_cpus = num_cpus if num_cpus is not None else max(2, os.cpu_count() or 2)
        self.object_store_bytes = object_store_bytes
        #: a head's session files: ``temp_dir``, else a fresh directory of its own (removed
        #: when it stops), so its raylet can be told the agent's port (see _announce_listen_port)
        self.own_temp_dir = temp_dir is None and join is None
        self.temp_dir = temp_dir if not self.own_temp_dir else _private_temp_dir()
        self.attempts = attempts
        self.nice = nice
        self.process: subprocess.Popen | None = None
        self.address = ""
        self.listen_port = 0
        self.startup_s = 0.0

    def _command(self) -> list[str]:
        # Ray's CLI beside this interpreter, else the same CLI through it (an interpreter with
        # Ray on its path but no script beside it, e.g. a system Python running as another user)
        script = shutil.which("ray", path=str(Path(sys.executable).parent))
        ray_cli = [script] if script else [sys.executable, "-m", "ray.scripts.scripts"]
        ports = [free_port() for _ in range(7)]
        self.listen_port = ports[2]
        if self.join:
            self.address = self.join
            cmd = [*ray_cli, "start", "--address", self.join, "--block", "--node-ip-address", "127.0.0.1",
                   "--object-manager-port", str(ports[0])]
        else:
            self.address = f"127.0.0.1:{ports[0]}"
            cmd = [*ray_cli, "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                   "--port", str(ports[0]), "--include-dashboard", "false"]
        cmd += ["--num-cpus", str(self.num_cpus), "--object-store-memory", str(self.object_store_bytes),
                "--dashboard-agent-grpc-port", str(ports[1]), "--dashboard-agent-listen-port", str(ports[2]),
                "--runtime-env-agent-port", str(ports[3]), "--metrics-export-port", str(ports[4]),
                "--node-manager-port", str(ports[5]), "--disable-usage-stats"]
        if self.labels:
            cmd += ["--labels", ",".join(f"{k}={v}" for k, v in self.labels.items())]
        if self.resources:
            import json

            cmd += ["--resources", json.dumps(self.resources)]
        if self.temp_dir:
            os.makedirs(self.temp_dir, exist_ok=True)  # again after a failed attempt removed it
            cmd += ["--temp-dir", self.temp_dir]
        return cmd

    def start(self) -> "LocalRay":
        """Start the head and connect this process to it (``ray.init``); a joining node
        is only started (this process keeps the connection it has, if any)."""
        local_auth()
        import ray
        t0 = time.monotonic()
        tail: list[str] = []
        for _ in range(self.attempts):
            nice = self.nice

            def lower() -> None:  # pragma: no cover - runs in the child
                if nice:
                    os.nice(nice)

            self.process = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, preexec_fn=lower, start_new_session=True)
            _stop_at_exit(self)  # also when the start hangs or is interrupted
            ready = threading.Event()
            tail = []
            threading.Thread(target=self._drain, args=(self.process, ready, tail), daemon=True).start()
            if self.temp_dir:
                threading.Thread(target=self._announce_listen_port, args=(self.process, ready),
                                 daemon=True).start()
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.process.poll() is None and not ready.wait(0.1):
                pass
            if ready.is_set() and self.process.poll() is None and self.join:
                self.startup_s = time.monotonic() - t0
                return self
            if ready.is_set() and self.process.poll() is None:
                try:
                    ray.init(address=self.address, log_to_driver=False, configure_logging=False)
                except Exception as exc:
                    tail.append(f"connecting to it failed: {exc}\n")
                else:
                    self.startup_s = time.monotonic() - t0
                    _stop_at_exit(self)  # again: ray.init() put Ray's own SIGTERM handler in place
                    return self
            self.stop()
        raise RuntimeError(f"a local Ray did not start after {self.attempts} attempts:\n"
                           + "".join(tail[-10:]))

    def _announce_listen_port(self, proc: subprocess.Popen, ready: threading.Event) -> None:
        """Write the dashboard agent's listen-port file for the raylet.

        ``ray start`` does not pass ``--dashboard-agent-listen-port`` on to the raylet,
        which therefore waits (15 s at most, then aborts) for the agent to write that
        port to a file; on a busy machine the agent's imports alone take longer. The
        port is the one chosen up front, so the file can be written as soon as the
        raylet has named its node.
        """
        session = Path(self.temp_dir or "") / "session_latest"
        pattern = re.compile(r"node_id=([0-9a-f]{56})")
        while proc.poll() is None and not ready.is_set():
            log = session / "logs" / "raylet.out"
            match = pattern.search(log.read_text(errors="replace")) if log.exists() else None
            if match:
                self.node_id = match.group(1)
                target = session.resolve() / f"dashboard_agent_listen_port_{match.group(1)}"
                if not target.exists():
                    tmp = target.with_suffix(".tmp")
                    tmp.write_text(str(self.listen_port))
                    tmp.replace(target)
                return
            time.sleep(0.05)

    @staticmethod
    def _drain(proc: subprocess.Popen, ready: threading.Event, tail: list[str]) -> None:
        for line in proc.stdout or ():
            tail.append(line)
            del tail[:-50]
            if "Ray runtime started" in line:
                ready.set()

    def processes(self) -> list[Any]:
        """The head and every process of its session still running (``psutil.Process``)."""
        import psutil

        proc = self.process
        if proc is None:
            return []
        found = []
        for p in psutil.process_iter():
            try:
                if os.getsid(p.pid) == proc.pid:
                    found.append(p)
            except (OSError, psutil.Error):
                continue
        return found

    def kill(self) -> None:
        """End every process of this node at once (SIGKILL), as a machine that is lost."""
        import psutil

        left = self.processes()
        for p in left:
            try:
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(left, timeout=10)
        if self.process is not None:
            self.process.wait(10)
        self.process = None
        _LOCAL.discard(self)

    def stop(self, timeout: float = 60.0) -> None:
        """Disconnect and stop every process of this cluster."""
        import psutil

        if "ray" in sys.modules and not self.join:
            import ray

            if ray.is_initialized():
                ray.shutdown()
        proc = self.process
        if proc is None:
            return
        left = self.processes()
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # `ray start --block` stops its processes on SIGINT
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        _gone, alive = psutil.wait_procs(left, timeout=5)
        for p in alive:  # whatever the head left behind
            try:
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=10)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        self.process = None
        _LOCAL.discard(self)
        if self.own_temp_dir and self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


_LOCAL: set[LocalRay] = set()  # local Rays this process started and has not stopped


def _stop_all() -> None:
    for local in list(_LOCAL):
        local.stop(timeout=30)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds the main thread, so atexit stops the local Rays


def _stop_at_exit(local: LocalRay) -> None:
    """Stop ``local`` at interpreter exit; a SIGTERM nothing else handles exits normally."""
    if not _LOCAL:
        atexit.unregister(_stop_all)  # once, however often the set empties and fills
        atexit.register(_stop_all)
    _LOCAL.add(local)
    # Python's view of the handler: Ray's driver replaces it in C (a stack dump, then death)
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, _exit_on_sigterm)):
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


class RayImportedTooEarly(DeploymentConfigError):
    """Ray was imported before the local cluster's token was set, and cannot re-read it."""


def local_auth() -> None:
    """Token authentication for a local cluster and its clients in this process.

    Ray reads these variables when it is first imported. When something imported Ray
    before them, Ray's configuration and token cache are read again (as Ray's own
    tests do); when that is not possible, RayImportedTooEarly says what to do.
    """
    had = {k: k in os.environ for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    if all(had.values()) or "ray" not in sys.modules:
        return
    try:
        from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]  # Cython, no stub

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
    except (ImportError, AttributeError) as exc:
        raise RayImportedTooEarly(
            "Ray was imported before hogar_nb could give the local Ray it starts a token, and "
            f"this Ray version cannot read the token again ({exc}). Call run(graph, backend='ray') "
            "before importing ray, set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN before importing it, "
            "or start Ray yourself (ray.init(...)) or pass address=... to join a running cluster."
        ) from None


def connect(address: str | None = None, ray_namespace: str | None = None,
            runtime_env: dict[str, Any] | None = None, **init: Any) -> LocalRay | None:
    """Join the cluster at ``address``, or start a local Ray; returns the LocalRay it started.

    A Ray already initialised in this process is used as it is.
    """
    import ray

    if ray.is_initialized():
        return None
    if address is None:
        local = LocalRay(**init).start()
        if ray_namespace or runtime_env:
            ray.shutdown()
            ray.init(address=local.address, namespace=ray_namespace, runtime_env=runtime_env,
                     log_to_driver=False, configure_logging=False)
        return local
    ray.init(address=address, namespace=ray_namespace, runtime_env=runtime_env, log_to_driver=False,
             configure_logging=False, **init)
    return None


def start_serve(http_port: int | None) -> None:
    """Start Serve if it is not running: its HTTP proxy on 127.0.0.1 only when asked."""
    from ray import serve

    if http_port is None:
        serve.start(proxy_location="Disabled")
    else:
        serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": http_port})
