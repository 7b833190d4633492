"""Start, watch and stop ``hogar serve`` processes for the deployments started from the console.

Each runs as ``python -m hogar_nb serve GRAPH --port 0 --admin-token-file FILE`` on
127.0.0.1, in a process group of its own; its first line ``serving NAME on URL`` tells
where it listens. A process that exits while it should run is started again (counted as
a restart, on the timeline) under a restart policy, ``restart(max = N, within = T,
backoff = D)`` as for replicas (:mod:`.restarts`); a process that cannot start the graph
at all (exit code 2, the graph's own error) is not started again. A failed deployment's
error always says why.

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
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from .config import ConsoleError, deployments_dir
from .isolation import child_spec
from .processes import pid_file, signal_group, stop_group, terminate, write_pid
from .restarts import RestartPolicy, describe_exit

__all__ = ["Supervisor"]

log = logging.getLogger("hogar.console")
#: seconds a Ray server may take to start: it starts or joins a cluster and Serve first
RAY_START_TIMEOUT = 300.0

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

    def why(self, how: str) -> str:
        """``hogar serve HOW``, and its last lines of output if it wrote any."""
        out = self.output().strip()
        return f"hogar serve {how}" + (f"; its last output:\n{out}" if out else " (it wrote nothing)")


class Supervisor:
    """The ``hogar serve`` children of this console process, by deployment id."""

    def __init__(self, start_timeout: float = 60.0, policy: RestartPolicy | None = None) -> None:
        self.start_timeout = start_timeout
        self.policy = policy or RestartPolicy.from_env()
        self._children: dict[int, _Child] = {}
        self._policies: dict[int, RestartPolicy] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Stop what a killed console left running, resume every managed deployment that
        should run, then watch them."""
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
                signal_group(child.proc, signal.SIGTERM)
        for pk, child in children:
            terminate(child.proc)
            pid_file(pk).unlink(missing_ok=True)

    def stop_leftovers(self) -> int:
        """Stop the ``hogar serve`` processes (and their process groups) that a console which
        ended without stopping them left running; how many there were."""
        from .models import Deployment, TimelineEvent

        import psutil

        stopped = 0
        for path in sorted(deployments_dir().glob("*/pid")):
            try:
                info = json.loads(path.read_text())
                proc = psutil.Process(int(info["pid"]))
                if proc.create_time() != info["started"] or os.getpgid(proc.pid) != proc.pid:
                    raise ProcessLookupError  # the pid was reused by another process
            except (OSError, ValueError, KeyError, TypeError, psutil.Error):
                path.unlink(missing_ok=True)
                continue
            stop_group(proc.pid)
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
        """Start deployment ``pk``'s process and wait until it serves; False if it did not
        (it may then be started again, as the restart policy allows)."""
        from .models import Deployment, TimelineEvent

        dep = Deployment.objects.get(pk=pk)
        if self._stopped.is_set():
            return False
        Deployment.objects.filter(pk=pk).update(state="starting", error="", url="")  # the old URL is gone
        try:
            spec = child_spec(pk)
            graph_file = spec.write("graph.json", json.dumps(dep.earg))
            token_file = spec.write("admin-token", dep.admin_token)
            cmd = [spec.python, "-m", "hogar_nb", "serve", str(graph_file), "--host", "127.0.0.1",
                   "--port", "0", "--admin-token-file", str(token_file)]
            if dep.allow_faults:
                cmd.append("--allow-fault-injection")
            if dep.backend == Deployment.RAY:
                cmd += ["--backend", "ray"] + (["--address", dep.ray_address] if dep.ray_address else [])
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    text=True, bufsize=1, **spec.popen_args())
        except (ConsoleError, OSError) as err:
            self._fail(pk, f"hogar serve could not be started: {err}")
            return False
        write_pid(pk, proc.pid)
        child = _Child(proc, spec.folder)
        with self._lock:
            old = self._children.pop(pk, None)
            closing = self._stopped.is_set()
            if not closing:
                self._children[pk] = child
        if old is not None:
            terminate(old.proc)
        if closing:  # the console stopped while this one started
            terminate(proc)
            pid_file(pk).unlink(missing_ok=True)
            return False
        started = time.monotonic()
        # a Ray server starts a cluster (or joins one) and Serve before it serves
        limit = self.start_timeout if dep.backend != Deployment.RAY else max(self.start_timeout, RAY_START_TIMEOUT)
        timed_out = not child.ready.wait(limit)
        if child.url is None:
            terminate(proc)  # its output ended: it is exiting, or (timed out) it is stopped
            with self._lock:
                if self._children.get(pk) is child:
                    del self._children[pk]
                else:  # stopped (or replaced) meanwhile
                    return False
            pid_file(pk).unlink(missing_ok=True)
            if timed_out:
                how = f"did not start within {limit:g} s"
            else:
                how = f"{describe_exit(proc.returncode)} during start-up, after {time.monotonic() - started:.1f} s"
            if proc.returncode == 2 and not timed_out:  # the graph's own error: starting again cannot help
                self._fail(pk, child.why(f"could not start the graph ({how})"))
            else:
                self._exited(pk, child, how, served=False)
            return False
        self._policy(pk).served()
        Deployment.objects.filter(pk=pk).update(url=child.url, state="running", error="")
        changed = dep.version is not None and dep.earg != dep.version.earg
        TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="start",
                                     text=f"serving on {child.url} (pid {proc.pid})"
                                     + (" with the changes applied since it was deployed" if changed else ""))
        return True

    def stop(self, pk: int) -> None:
        with self._lock:
            child = self._children.pop(pk, None)
            self._policies.pop(pk, None)
        if child is not None:
            terminate(child.proc)
        pid_file(pk).unlink(missing_ok=True)

    def forget(self, pk: int) -> None:
        """Stop deployment ``pk``'s process and delete its files (graph, admin token)."""
        from .isolation import feedback_dir

        self.stop(pk)
        shutil.rmtree(deployments_dir() / str(pk), ignore_errors=True)
        shutil.rmtree(feedback_dir(pk), ignore_errors=True)

    def pid(self, pk: int) -> int | None:
        with self._lock:
            child = self._children.get(pk)
        return child.proc.pid if child is not None else None

    def _policy(self, pk: int) -> RestartPolicy:
        with self._lock:
            policy = self._policies.get(pk)
            if policy is None:
                policy = self._policies[pk] = self.policy.fresh()
            return policy

    def _fail(self, pk: int, message: str) -> None:
        from .models import Deployment, TimelineEvent

        log.warning("deployment %s failed: %s", pk, message)
        Deployment.objects.filter(pk=pk).update(state="failed", desired="stopped", error=message)
        TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="failed", text=message[:2000])

    def _exited(self, pk: int, child: _Child, how: str, served: bool) -> None:
        """A child ended that should run: start it again as the policy allows, or fail saying why."""
        from django.db.models import F

        from .models import Deployment, TimelineEvent

        if self._stopped.is_set() or not Deployment.objects.filter(pk=pk, desired="running").exists():
            return
        policy = self._policy(pk)
        delay = policy.exited(time.monotonic(), served)
        if delay is None:
            self._fail(pk, child.why(f"{how}; it ended {len(policy.exits)} times within {policy.within:g} s, more "
                                     f"than {policy.text()} allows, so it is not started again"))
            return
        text = f"hogar serve {how}; starting it again" + (f" in {delay:g} s" if delay else "")
        log.warning("deployment %s: %s", pk, text)
        Deployment.objects.filter(pk=pk).update(restarts=F("restarts") + 1, state="restarting", error=text)
        TimelineEvent.objects.create(deployment_id=pk, time=time.time(), kind="restart", text=text)

        def again() -> None:
            if not self._stopped.wait(delay) and Deployment.objects.filter(pk=pk, desired="running").exists():
                self.launch(pk)

        threading.Thread(target=again, daemon=True, name=f"hogar-restart-{pk}").start()

    def _watch(self) -> None:
        while not self._stopped.wait(0.5):
            with self._lock:
                dead = [(pk, c) for pk, c in self._children.items() if c.url and c.proc.poll() is not None]
                for pk, _ in dead:
                    del self._children[pk]
            for pk, child in dead:
                pid_file(pk).unlink(missing_ok=True)
                terminate(child.proc)  # what is left of its process group
                self._exited(pk, child, f"{describe_exit(child.proc.returncode)} while serving", served=True)
