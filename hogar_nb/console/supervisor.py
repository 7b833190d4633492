"""Start, watch and stop ``hogar serve`` processes for the deployments started from the console.

Each runs as ``python -m hogar_nb serve GRAPH --port 0 --admin-token-file FILE`` on
127.0.0.1; its first line ``serving NAME on URL`` tells where it listens. A process
that exits while it should run is started again (counted as a restart, on the timeline).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from .config import deployments_dir

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
                child.proc.terminate()
        for _, child in children:
            _terminate(child.proc)

    # ------------------------------------------------------------------ one deployment
    def launch(self, pk: int) -> bool:
        """Start deployment ``pk``'s process and wait until it serves; False if it did not."""
        from .models import Deployment, TimelineEvent

        dep = Deployment.objects.get(pk=pk)
        folder = deployments_dir() / str(dep.pk)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        graph_file = folder / "graph.json"
        graph_file.write_text(json.dumps(dep.earg), encoding="utf-8")
        token_file = folder / "admin-token"
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(dep.admin_token)
        cmd = [sys.executable, "-m", "hogar_nb", "serve", str(graph_file), "--host", "127.0.0.1",
               "--port", "0", "--admin-token-file", str(token_file)]
        if dep.allow_faults:
            cmd.append("--allow-fault-injection")
        Deployment.objects.filter(pk=pk).update(state="starting", error="", url="")  # the old URL is gone
        env = {k: v for k, v in os.environ.items() if k != "HOGAR_ADMIN_TOKEN"}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True, bufsize=1, env=env, cwd=folder)
        child = _Child(proc, folder)
        with self._lock:
            old = self._children.pop(pk, None)
            self._children[pk] = child
        if old is not None:
            _terminate(old.proc)
        child.ready.wait(self.start_timeout)
        if child.url is None:
            _terminate(proc)
            with self._lock:
                if self._children.get(pk) is child:
                    del self._children[pk]
            message = f"hogar serve did not start:\n{child.output()}"
            Deployment.objects.filter(pk=pk).update(state="failed", desired="stopped", error=message)
            TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="failed", text=message[:2000])
            return False
        Deployment.objects.filter(pk=pk).update(url=child.url, state="running", error="")
        changed = dep.version is not None and dep.earg != dep.version.earg
        TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="start",
                                     text=f"serving on {child.url} (pid {proc.pid})"
                                     + (" with the changes applied since it was deployed" if changed else ""))
        return True

    def stop(self, pk: int) -> None:
        with self._lock:
            child = self._children.pop(pk, None)
        if child is not None:
            _terminate(child.proc)

    def forget(self, pk: int) -> None:
        """Stop deployment ``pk``'s process and delete its files (graph, admin token)."""
        self.stop(pk)
        shutil.rmtree(deployments_dir() / str(pk), ignore_errors=True)

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


def _terminate(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout is not None:
        try:
            proc.stdout.close()
        except OSError:
            pass
