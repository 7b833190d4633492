"""Tracing's cost: the 4-node chain through `hogar serve`, tracing off, 1 % and 100 %.

In one run, on 127.0.0.1, with `wrk` (as benchmarks/serve.py: 64 connections, one
client thread, the servers measured in turns, round after round, medians):

1. `hogar serve` of the 4-node identity chain, tracing off (no sampler or exporter
   configured: requests still get a `traceparent`, no span is built);
2. the same with `--trace-sample 0.01` (1 % of requests traced into the store);
3. the same with `--trace-sample 1` (every request traced into the store; no
   exporter configured, so nothing leaves the process).

Targets: < 1 % throughput loss at 1 %, < 5 % at 100 %. Two measures of the
per-request cost: the difference of the inverse throughputs, and the server
process's CPU time per request (from /proc, read around each measurement), which
holds better than requests/s on a machine whose other load drifts; the CPU loss is
the throughput a CPU-bound server loses at that cost.

    .venv/bin/python benchmarks/tracing.py [--duration 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import CHAIN, PY, Result, Server, _spawn, _stopper, line, wrk  # noqa: E402

OTEL = [k for k in os.environ if k.startswith("OTEL_")]
TICK = os.sysconf("SC_CLK_TCK")


def start(work: Path, *extra: str) -> tuple[Server, int]:
    for key in OTEL:  # no exporter, no sampler from the environment: the store only
        os.environ.pop(key, None)
    proc, url = _spawn([PY, "-m", "hogar_nb", "serve", "chain4.udgl", "--port", "0", *extra], work)
    return Server(url, "/echo", _stopper(proc)), proc.pid


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (every thread)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(starts: dict[str, tuple], args: argparse.Namespace, work: Path) -> dict[str, tuple[Result, float, list]]:
    """Each server in turns, round after round: (median result, median CPU us per
    request, the rounds' requests/s); wrk's rounds as benchmarks/serve.py runs them."""
    servers = {name: start(work, *extra) for name, extra in starts.items()}
    got: dict[str, list[tuple[Result, float]]] = {name: [] for name in servers}
    try:
        for server, _pid in servers.values():
            wrk(server, "[1, 2, 3]", 1.0, args.connections, work)  # warm up
        for _ in range(args.rounds):
            for name, (server, pid) in servers.items():
                before = cpu_seconds(pid)
                r = wrk(server, "[1, 2, 3]", args.duration, args.connections, work)
                used = cpu_seconds(pid) - before
                got[name].append((r, used / max(1.0, r.rps * args.duration) * 1e6))
    finally:
        for server, _pid in servers.values():
            server.stop()
    out = {}
    for name, rounds in got.items():
        rs = [r for r, _c in rounds]
        median = Result(statistics.median(r.rps for r in rs), statistics.median(r.p50_ms for r in rs),
                        statistics.median(r.p99_ms for r in rs), sum(r.errors for r in rs))
        out[name] = (median, statistics.median(c for _r, c in rounds), [r.rps for r in rs])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="measurements of each server, in turns")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmarks/tracing.py needs wrk: `make bench` installs it (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bench_impls.py").write_text("def identity(x):\n    return x\n")
        (work / "chain4.udgl").write_text(CHAIN)
        print(f"Tracing on `hogar serve` (4-node identity chain), 127.0.0.1, wrk: 1 thread, "
              f"{args.connections} connections, {args.rounds} rounds of {args.duration:g} s per server, "
              "in turns; medians")
        got = measure({"off": (), "one": ("--trace-sample", "0.01"), "all": ("--trace-sample", "1")},
                      args, work)
        off, off_cpu, off_rounds = got["off"]
        print(line("tracing off", off) + f"  server CPU {off_cpu:6.1f} us/request")
        for label, key, target in (("sampling 1 % (to the store)", "one", 1.0),
                                   ("sampling 100 % (to the store only)", "all", 5.0)):
            r, cpu, rounds = got[key]
            times = statistics.median(x / y for x, y in zip(rounds, off_rounds))
            loss = (1.0 - times) * 100.0
            cost = (1.0 / r.rps - 1.0 / off.rps) * 1e6
            cpu_loss = (1.0 - off_cpu / cpu) * 100.0
            print(line(label, r, times) + f"  server CPU {cpu:6.1f} us/request")
            print(f"  throughput loss {loss:5.1f} % (target < {target:g} %), "
                  f"cost per request {cost:6.1f} us")
            print(f"  server CPU +{cpu - off_cpu:5.1f} us/request: CPU loss {cpu_loss:5.1f} % "
                  f"(target < {target:g} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
