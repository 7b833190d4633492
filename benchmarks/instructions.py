"""The instructions a server process runs per request it answers, counted by callgrind.

Time on a shared machine moves by several per cent from one measurement to the next,
more than a small cost being measured; the number of machine instructions a process
executes for the same work barely moves (about 1 % between runs here). This starts
each server under valgrind's callgrind (no cache simulation), drives it with wrk,
zeroes the counters after a warm-up, and reads the count of one window of load.
Other benchmarks use :func:`count` (benchmarks/tracing.py).

A count is not a time: memory that misses the caches costs time and no
instructions, and the same instruction takes longer on a busy core. What it gives
is the work a change adds, steadily. Under valgrind a server answers a few hundred
requests/s, some 50 times fewer than at full speed, so the work it does per second
whatever comes (its threads' periodic wakes) would weigh some 50 times more per
request than at full speed, and move with the pace of each run. So a quiet window
(no requests) is counted first, and its rate of instructions, over the loaded
window's length, is taken off before dividing by the requests answered.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Count", "available", "count"]

WARM_UP_S = 5.0
QUIET_S = 5.0  # the window counted without requests


@dataclass
class Count:
    requests: int  # answered in the window counted
    instructions: int  # executed by the whole process (every thread) in that window
    quiet: int  # executed in a window as long without requests (its threads' periodic work)

    @property
    def per_request(self) -> float:
        """The instructions of the window, less its quiet share, per request."""
        return (self.instructions - self.quiet) / max(self.requests, 1)


def available() -> bool:
    """Whether valgrind's callgrind and wrk are installed."""
    return all(shutil.which(tool) for tool in ("valgrind", "callgrind_control", "wrk"))


def count(servers: dict[str, list[str]], path: str, body: str, seconds: float, work: Path,
          connections: int = 16, env: dict[str, str] | None = None) -> dict[str, Count]:
    """Start every server (``servers``: name -> argv printing "serving ... URL" as its
    first line of output) under callgrind at once, load each with wrk on ``path``
    (``body`` POSTed as JSON), and count the instructions of one window of
    ``seconds`` after a warm-up; the servers are stopped afterwards."""
    script = work / "instructions.lua"
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = {body!r}\n".replace("'", '"'))
    procs: dict[str, tuple[subprocess.Popen, str, Path]] = {}
    try:
        for name, argv in servers.items():
            out = work / f"callgrind.{name}"
            proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--cache-sim=no",
                                     f"--callgrind-out-file={out}", *argv], cwd=work,
                                    env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            procs[name] = (proc, "", out)
        for name, (proc, _url, out) in procs.items():
            line = proc.stdout.readline()  # "serving NAME on http://HOST:PORT"
            if not line.startswith("serving "):
                raise SystemExit(f"{name} did not start under valgrind: {line!r}")
            procs[name] = (proc, line.split()[-1], out)
        loads = [_wrk(url + path, script, WARM_UP_S, connections) for _p, url, _o in procs.values()]
        for load in loads:
            load.wait()
        for proc, _url, _out in procs.values():  # a quiet window first: what runs without requests
            _control("-z", proc.pid)
        time.sleep(QUIET_S)
        for proc, _url, _out in procs.values():
            _control("-d", proc.pid)
            _control("-z", proc.pid)
        loads = [_wrk(url + path, script, seconds, connections) for _p, url, _o in procs.values()]
        answered = [_answered(load) for load in loads]
        got = {}
        for (name, (proc, _url, out)), requests in zip(procs.items(), answered):
            _control("-d", proc.pid)
            quiet = _total(out.with_name(out.name + ".1"))
            got[name] = Count(requests, _total(out.with_name(out.name + ".2")), round(quiet * seconds / QUIET_S))
        return got
    finally:
        for proc, _url, _out in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc, _url, _out in procs.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wrk(url: str, script: Path, seconds: float, connections: int) -> subprocess.Popen:
    return subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), url],
                            stdout=subprocess.PIPE, text=True)


def _answered(load: subprocess.Popen) -> int:
    out, _ = load.communicate()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed requests while instructions were counted")
    return int(re.search(r"(\d+) requests in", out).group(1))


def _control(flag: str, pid: int) -> None:
    subprocess.run(["callgrind_control", flag, str(pid)], check=True, capture_output=True, timeout=120)


def _total(dump: Path) -> int:
    """The instructions counted in a callgrind dump (its ``summary:`` or ``totals:`` line)."""
    for _ in range(600):  # the dump is written once the program's threads are stopped
        if dump.exists():
            found = re.search(r"^(?:summary|totals):\s*(\d+)", dump.read_text(errors="replace"), re.M)
            if found:
                return int(found.group(1))
        time.sleep(0.1)
    raise SystemExit(f"callgrind wrote no count to {dump}")
