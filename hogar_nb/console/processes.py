"""The console's children as processes: their pid files, their process groups, stopping them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from .config import deployments_dir

__all__ = ["pid_file", "signal_group", "stop_group", "terminate", "write_pid"]


def pid_file(pk: int) -> Path:
    folder = deployments_dir() / str(pk)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / "pid"


def write_pid(pk: int, pid: int) -> None:
    """Record a child by pid and start time (a pid alone may be reused)."""
    import psutil

    try:
        started = psutil.Process(pid).create_time()
    except psutil.Error:  # already gone: nothing to leave behind
        return
    path = pid_file(pk)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": pid, "started": started}))
    tmp.replace(path)


def stop_group(pgid: int, grace: float = 10.0) -> None:
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


def terminate(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a child and its process group (its process replicas): SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            signal_group(proc, signal.SIGKILL)
            proc.wait(5)
    signal_group(proc, signal.SIGKILL)  # whatever of its group outlived it
    if proc.stdout is not None:
        try:
            proc.stdout.close()
        except OSError:
            pass


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
