"""How long to wait for a local Ray to start: while it makes progress, not a fixed time.

On a loaded machine a head can take minutes to start, and a fixed wait fails it while
its processes are still busy starting; a fixed wait long enough for that makes a start
whose GCS or raylet died hang for as long. :class:`StartWatch` judges samples of the
start instead: it goes on while the session's processes use CPU or ``ray start``
prints, stops at once when the GCS or the raylet exits after it appeared, and stops
after :data:`STALL_S` without any progress (or :data:`LIMIT_S` in all).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CRITICAL", "LIMIT_S", "STALL_S", "Sample", "StartWatch", "sample_session", "log_tail"]

STALL_S = 60.0  # no CPU used and nothing printed for this long: the start has stalled
LIMIT_S = 900.0  # however busy, no start waits longer
CRITICAL = ("gcs_server", "raylet")  # the start cannot go on without these
_CPU_EPS = 0.01  # CPU seconds that count as progress between two samples


@dataclass
class Sample:
    """One look at a starting head: the CPU seconds its session's processes used
    (summed), how many lines ``ray start`` printed, and its processes (pid -> name)."""

    cpu: float
    lines: int
    names: dict[int, str] = field(default_factory=dict)


class StartWatch:
    """Judges a start from successive :class:`Sample` s (times in seconds, any clock)."""

    def __init__(self, t0: float, stall: float = STALL_S, limit: float = LIMIT_S) -> None:
        self.t0 = t0
        self.stall = stall
        self.limit = limit
        self.last_progress = t0
        self.cpu = 0.0
        self.lines = 0
        self.critical: dict[int, str] = {}  # the GCS and raylet seen so far
        self.dead: tuple[int, str] | None = None

    def observe(self, sample: Sample, now: float) -> str | None:
        """None while the start may go on; else why it must end, as a sentence."""
        for pid, name in sample.names.items():
            if name in CRITICAL:
                self.critical.setdefault(pid, name)
        for pid, name in self.critical.items():
            if pid not in sample.names:
                self.dead = (pid, name)
                return f"its {name} (pid {pid}) exited {now - self.t0:.1f} s into the start"
        if sample.cpu > self.cpu + _CPU_EPS or sample.lines > self.lines:
            self.last_progress = now
        self.cpu = max(self.cpu, sample.cpu)
        self.lines = max(self.lines, sample.lines)
        if now - self.last_progress > self.stall:
            return (f"no progress for {self.stall:g} s (its processes used no CPU and printed "
                    f"nothing), {now - self.t0:.0f} s into the start")
        if now - self.t0 > self.limit:
            return f"still not ready after {self.limit:g} s, although its processes kept working"
        return None


def sample_session(processes: list[Any], lines: int) -> Sample:
    """A :class:`Sample` of ``processes`` (``psutil.Process`` es of the head's session)."""
    import psutil

    cpu, names = 0.0, {}
    for p in processes:
        try:
            with p.oneshot():
                if p.status() == psutil.STATUS_ZOMBIE:  # exited, not yet reaped by its parent
                    continue
                times = p.cpu_times()
                cpu += times.user + times.system + times.children_user + times.children_system
                names[p.pid] = p.name()
        except psutil.Error:
            continue
    return Sample(cpu, lines, names)


def session_dir(processes: list[Any]) -> Path | None:
    """The session directory the head's processes were given (``--session_dir=...``,
    or the parent of ``--log_dir=...``), if one of them says."""
    import psutil

    for p in processes:
        try:
            args = p.cmdline()
        except psutil.Error:
            continue
        for arg in args:
            for flag in ("--session_dir=", "--session-dir="):
                if arg.startswith(flag):
                    return Path(arg[len(flag):])
            for flag in ("--log_dir=", "--log-dir="):
                if arg.startswith(flag):
                    return Path(arg[len(flag):]).parent
    return None


def log_tail(session: Path | None, name: str, lines: int = 8) -> str:
    """The last ``lines`` lines of ``name``'s logs in ``session`` (``.err`` then ``.out``)."""
    if session is None:
        return ""
    out = []
    for suffix in (".err", ".out"):
        path = session / "logs" / f"{name}{suffix}"
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        if tail:
            out.append(f"{path}:\n" + "".join(f"  {line}\n" for line in tail))
    return "".join(out) or f"(no log of {name} in {session}{os.sep}logs)\n"
