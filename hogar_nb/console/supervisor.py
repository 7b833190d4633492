"""Start, watch and stop ``hogar serve`` processes for the deployments started from the console.

Each runs as ``python -m hogar_nb serve GRAPH --port 0 --admin-token-file FILE`` on
127.0.0.1, in a process group of its own; its first line ``serving NAME on URL`` tells
where it listens. A process that exits while it should run is started again (counted as
a restart, on the timeline).

The console owns its children: stopping the console stops them, and each one's pid (with
its start time) is kept in ``DATA/deployments/ID/pid``, so that a console started after one
that was killed stops what that one left running before it starts the deployments again:
a deployment never runs twice.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .config import ConsoleError, data_dir
from .isolation import child_spec

__all__ = ["Supervisor"]

log = logging.getLogger("hogar.console")
_READY = re.compile(r"^serving (?P<name>\S+) on (?P<url>https?://\S+)\s*$")


class _Child:
    def __init__(self, proc: subprocess.Popen, folder: Path) -> None:
        self.proc = proc
        self.folder = folder
        self.url: str | None = None
        self.ready = threading.Event()
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True, name=f"hogar-serve-{proc.pid}").start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for raw in self.proc.stdout:
                line = raw.rstrip("\n")
                if len(self.lines) < 200:
                    self.lines.append(line)
                match = _READY.match(line)
                if match and self.url is None:
                    self.url = match["url"]
                    self.ready.set()
        except (ValueError, OSError):  # the pipe was closed by _terminate
            pass
        self.ready.set()

    def output(self) -> str:
        return "\n".join(self.lines[-20:])


class Supervisor:
    """The ``hogar serve`` children of this console process, by deployment id."""

    def __init__(self, start_timeout: float = 60.0, backoff: float = 1.0) -> None:
        self.start_timeout = start_timeout
        self.backoff = backoff
        self._children: dict[int, _Child] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Resume every managed deployment that should run, then watch them."""
        from .models import Deployment

        self.stop_leftovers()
        for dep in Deployment.objects.filter(kind=Deployment.MANAGED, desired="running"):
            threading.Thread(target=self.launch, args=(dep.pk,), daemon=True).start()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="hogar-supervisor")
        self._thread.start()

    def shutdown(self) -> None:
        """Stop every child (they are started again when the console starts again)."""
        self._stopped.set()
        with self._lock:
            children = list(self._children.items())
            self._children.clear()
        for _, child in children:  # all at once, then wait for each
            if child.proc.poll() is None:
                _signal_group(child.proc, signal.SIGTERM)
        for pk, child in children:
            _terminate(child.proc)
            _pid_file(pk).unlink(missing_ok=True)

    def stop_leftovers(self) -> int:
        """Stop the ``hogar serve`` processes (and their process groups) that a console which
        ended without stopping them left running; how many there were."""
        from .models import Deployment, TimelineEvent

        import psutil

        stopped = 0
        for path in sorted((data_dir() / "deployments").glob("*/pid")):
            try:
                info = json.loads(path.read_text())
                proc = psutil.Process(int(info["pid"]))
                if proc.create_time() != info["started"] or os.getpgid(proc.pid) != proc.pid:
                    raise ProcessLookupError  # the pid was reused by another process
            except (OSError, ValueError, KeyError, TypeError, psutil.Error):
                path.unlink(missing_ok=True)
                continue
            _stop_group(proc.pid)
            path.unlink(missing_ok=True)
            stopped += 1
            pk = int(path.parent.name) if path.parent.name.isdigit() else None
            text = f"stopped hogar serve (pid {proc.pid}) that a console which ended without stopping it left running"
            log.warning("deployment %s: %s", pk, text)
            if pk is not None and Deployment.objects.filter(pk=pk).exists():
                TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="stop", text=text)
        return stopped

    # ------------------------------------------------------------------ one deployment
    def launch(self, pk: int) -> bool:
        """Start deployment ``pk``'s process and wait until it serves; False if it did not."""
        from .models import Deployment, TimelineEvent

        dep = Deployment.objects.get(pk=pk)
        Deployment.objects.filter(pk=pk).update(state="starting", error="")
        try:
            spec = child_spec(pk)
            graph_file = spec.write("graph.json", json.dumps(dep.earg))
            token_file = spec.write("admin-token", dep.admin_token)
            cmd = [spec.python, "-m", "hogar_nb", "serve", str(graph_file), "--host", "127.0.0.1",
                   "--port", "0", "--admin-token-file", str(token_file)]
            if dep.allow_faults:
                cmd.append("--allow-fault-injection")
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    text=True, bufsize=1, **spec.popen_args())
        except (ConsoleError, OSError) as err:
            message = f"hogar serve could not be started: {err}"
            Deployment.objects.filter(pk=pk).update(state="failed", desired="stopped", error=message)
            TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="failed", text=message[:2000])
            return False
        folder = spec.folder
        _write_pid(pk, proc.pid)
        child = _Child(proc, folder)
        with self._lock:
            old = self._children.pop(pk, None)
            self._children[pk] = child
        if old is not None:
            _terminate(old.proc)
        child.ready.wait(self.start_timeout)
        if child.url is None:
            _terminate(proc)
            _pid_file(pk).unlink(missing_ok=True)
            with self._lock:
                if self._children.get(pk) is child:
                    del self._children[pk]
            message = f"hogar serve did not start:\n{child.output()}"
            Deployment.objects.filter(pk=pk).update(state="failed", desired="stopped", error=message)
            TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="failed", text=message[:2000])
            return False
        Deployment.objects.filter(pk=pk).update(url=child.url, state="running", error="")
        TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="start",
                                     text=f"serving on {child.url} (pid {proc.pid})")
        return True

    def stop(self, pk: int) -> None:
        with self._lock:
            child = self._children.pop(pk, None)
        if child is not None:
            _terminate(child.proc)
        _pid_file(pk).unlink(missing_ok=True)

    def pid(self, pk: int) -> int | None:
        with self._lock:
            child = self._children.get(pk)
        return child.proc.pid if child is not None else None

    def _watch(self) -> None:
        from .models import Deployment, TimelineEvent

        while not self._stopped.wait(0.5):
            with self._lock:
                dead = [(pk, c) for pk, c in self._children.items() if c.url and c.proc.poll() is not None]
                for pk, _ in dead:
                    del self._children[pk]
            for pk, child in dead:
                try:
                    dep = Deployment.objects.get(pk=pk)
                except Deployment.DoesNotExist:
                    continue
                if dep.desired != "running":
                    continue
                text = f"hogar serve exited with code {child.proc.returncode}; starting it again"
                log.warning("deployment %s: %s", dep.name, text)
                Deployment.objects.filter(pk=pk).update(restarts=dep.restarts + 1, state="restarting")
                TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="restart", text=text)
                if not self._stopped.wait(self.backoff):
                    threading.Thread(target=self.launch, args=(pk,), daemon=True).start()


def _pid_file(pk: int) -> Path:
    folder = data_dir() / "deployments" / str(pk)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "pid"


def _write_pid(pk: int, pid: int) -> None:
    """Record a child by pid and start time (a pid alone may be reused)."""
    import psutil

    try:
        started = psutil.Process(pid).create_time()
    except psutil.Error:  # already gone: nothing to leave behind
        return
    path = _pid_file(pk)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": pid, "started": started}))
    tmp.replace(path)


def _stop_group(pgid: int, grace: float = 10.0) -> None:
    """SIGTERM a process group, then SIGKILL whatever is left of it after ``grace`` seconds."""
    import psutil

    def members() -> list:
        out = []
        for p in psutil.process_iter():
            try:
                if os.getpgid(p.pid) == pgid:
                    out.append(p)
            except OSError:
                pass
        return out

    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    _, alive = psutil.wait_procs(members(), timeout=grace)
    if alive:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        psutil.wait_procs(alive, timeout=5)


def _terminate(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a child and its process group (its process replicas): SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(5)
    _signal_group(proc, signal.SIGKILL)  # whatever of its group outlived it
    if proc.stdout is not None:
        try:
            proc.stdout.close()
        except OSError:
            pass


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
