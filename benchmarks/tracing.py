"""Tracing's cost: the 4-node chain through `hogar serve`, tracing off, 1 % and 100 %.

In one run, on 127.0.0.1, with `wrk` (as benchmarks/serve.py: 64 connections, one
client thread):

1. `hogar serve` of the 4-node identity chain, tracing off (no sampler or exporter
   configured: requests still get a `traceparent`, no span is built);
2. the same with `--trace-sample 0.01` (1 % of requests traced into the store);
3. the same with `--trace-sample 1` (every request traced into the store; no
   exporter configured, so nothing leaves the process).

Each round starts the servers afresh, plus a second server with tracing off (the
control), all with one hash seed that changes from round to round; they are warmed
up, measured in turns (the order turning each round so that none is always measured
first or last) and stopped. Two processes of the very same server differ by a few
per cent for as long as they live (their memory layout, their hash seed), so servers
kept for the whole run would carry their own offset into every round; fresh ones
draw a new offset each round, and the median of the rounds' comparisons evens it
out. The control against tracing off shows what is left of it: the noise floor of
the comparison, printed beside the targets. Every round is printed; each figure
is the median of its rounds, and each comparison with tracing off the median of
the rounds' own comparisons (a server against the two off servers of the same
round, averaged), which holds while the machine's load drifts.

Two measures of the cost, each against its target (< 1 % at 1 %, < 5 % at 100 %):
the throughput lost (requests/s), and the server process's CPU time per request
(every thread's, from /proc, read around each measurement): the loss a CPU-bound
server would see, the steadier figure on a machine shared with other work.

Then, with ``--switch SECONDS`` (default 30; 0 leaves it out), a finer comparison:
ONE server process (the same HTTP front, served with ``dep.serve_http``, and the
garbage collector set as ``hogar serve`` sets it) under
one wrk run that does not stop, its tracing switched between off, 1 % and 100 %
every ``--slice`` seconds (the order turning each cycle). The server reads its
own CPU time and answered requests around each slice (after a short settle), so
the three states see the same machine within a fraction of a second (each state
keeps its own tracer, attached to the walker's observer hub while the state lasts,
so its store stays full as in a server that traces all along), and a shared
machine's drift, which moves whole rounds of the first comparison by ±10 %, falls
on all three alike. Each state's figures are its slices' totals;
the comparison with off is also given per cycle (median and its middle half).

    .venv/bin/python benchmarks/tracing.py [--duration 3] [--rounds 7] [--switch 30] [--slice 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import instructions  # noqa: E402
from serve import CHAIN, PY, ROOT, Result, Server, _spawn, _stopper, line, wrk  # noqa: E402

OTEL = [k for k in os.environ if k.startswith("OTEL_")]
TICK = os.sysconf("SC_CLK_TCK")
CASES = {"off": ("tracing off", ()),
         "control": ("control, tracing off (a second server)", ()),
         "one": ("sampling 1 % (to the store)", ("--trace-sample", "0.01")),
         "all": ("sampling 100 % (to the store only)", ("--trace-sample", "1"))}
TARGETS = {"one": 1.0, "all": 5.0}  # % of throughput, at most
SWITCHED = ("off", "one", "all")  # the states of the one-server comparison


def start(work: Path, *extra: str, seed: int = 0) -> tuple[Server, int]:
    before = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        proc, url = _spawn([PY, "-m", "hogar_nb", "serve", "chain4.udgl", "--port", "0", *extra], work)
    finally:
        if before is None:
            del os.environ["PYTHONHASHSEED"]
        else:
            os.environ["PYTHONHASHSEED"] = before
    return Server(url, "/echo", _stopper(proc)), proc.pid


def cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid`` so far, every thread's: the scheduler's nanoseconds
    per thread where the kernel keeps them, else the process's clock ticks."""
    total, seen = 0, False
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
                seen = True
            except (OSError, ValueError, IndexError):  # a thread that just ended
                pass
    except OSError:
        pass
    if seen:
        return total / 1e9
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(args: argparse.Namespace, work: Path) -> dict[str, list[tuple[Result, float]]]:
    """Round after round, every server started afresh (one hash seed a round),
    warmed up, measured in turns (the order turning each round) and stopped: per
    server, each round's result and CPU microseconds per request."""
    got: dict[str, list[tuple[Result, float]]] = {name: [] for name in CASES}
    names = list(CASES)
    for i in range(args.rounds):
        servers = {}
        try:
            for name in names:
                servers[name] = start(work, *CASES[name][1], seed=i + 1)
            for server, _pid in servers.values():
                wrk(server, "[1, 2, 3]", 1.0, args.connections, work)  # warm up
            for name in names[i % len(names):] + names[:i % len(names)]:
                server, pid = servers[name]
                before = cpu_seconds(pid)
                r = wrk(server, "[1, 2, 3]", args.duration, args.connections, work)
                used = cpu_seconds(pid) - before
                got[name].append((r, used / max(1.0, r.rps * args.duration) * 1e6))
        finally:
            for server, _pid in servers.values():
                server.stop()
    return got


SWITCH_APP = """
import json, sys, time
import hogar_nb

dep = hogar_nb.run(hogar_nb.parse_udgl(open("chain4.udgl").read()))
print("serving", dep.serve_http(), flush=True)
RATES = {"one": 0.01, "all": 1.0}
# One tracer per state, made once and attached while its state lasts, so that each
# state's store stays full as in a server that traces all along (a tracer made and
# closed in every slice would put its setup and its garbage into the slices).
from hogar_nb.observe.tracing import Tracing

hub = dep._engine.walker.hub
TRACERS = {}
for name, rate in RATES.items():
    TRACERS[name] = Tracing(dep, sample=rate, export=False)
    hub._remove(TRACERS[name].subscription)

def use(name):
    if dep.tracing is not None:
        hub._remove(dep.tracing.subscription)
        dep.tracing = None
    if name in TRACERS:
        hub._subs = (*hub._subs, TRACERS[name].subscription)
        hub._update()
        dep.tracing = TRACERS[name]

def answered():
    return dep.metrics().graph.ok

from hogar_nb.serving.server import quiet_collector

quiet_collector()  # the garbage collector's settings of `hogar serve`, whose cost this compares

for line in sys.stdin:  # "slices CYCLES SLICE SETTLE": every state once a cycle, the order turning
    cycles, slice_s, settle = int(line.split()[1]), float(line.split()[2]), float(line.split()[3])
    names = ["off", "one", "all"]
    for c in range(cycles):
        for name in names[c % 3:] + names[:c % 3]:
            use(name)
            time.sleep(settle)
            t0, cpu0, n0 = time.monotonic(), time.process_time(), answered()
            time.sleep(slice_s)
            t1, cpu1, n1 = time.monotonic(), time.process_time(), answered()
            print(json.dumps([c, name, t1 - t0, cpu1 - cpu0, n1 - n0]), flush=True)
    use("off")
    print("done", flush=True)
"""


def switching(args: argparse.Namespace, work: Path) -> dict[str, list[tuple[int, float, float, int]]]:
    """One server, its tracing switched every ``args.slice`` s under one wrk run:
    per state, each slice's (cycle, seconds, CPU seconds, requests answered)."""
    env = {**os.environ, "PYTHONPATH": f"{work}{os.pathsep}{Path(__file__).resolve().parent.parent}"}
    proc = subprocess.Popen([PY, "-c", SWITCH_APP], cwd=work, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    got: dict[str, list[tuple[int, float, float, int]]] = {name: [] for name in SWITCHED}
    try:
        url = proc.stdout.readline().split()[-1]
        server = Server(url, "/echo", lambda: None)
        wrk(server, "[1, 2, 3]", 1.0, args.connections, work)  # warm up
        settle = 0.05
        cycles = max(1, round(args.switch / (3 * (args.slice + settle + 0.05))))
        script = work / "post.lua"  # as wrk() wrote it
        load = subprocess.Popen(["wrk", "-t1", f"-c{args.connections}", f"-d{args.switch * 2 + 30:g}s",
                                 "-s", str(script), url + "/echo"], stdout=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            proc.stdin.write(f"slices {cycles} {args.slice} {settle}\n")
            proc.stdin.flush()
            for line in proc.stdout:
                if line.startswith("done"):
                    break
                cycle, name, seconds, cpu, answered = json.loads(line)
                got[name].append((cycle, seconds, cpu, answered))
        finally:
            load.terminate()
            load.wait()
    finally:
        proc.stdin.close()
        proc.terminate()
        proc.wait(30)
    return got


def report_switching(got: dict[str, list[tuple[int, float, float, int]]], slice_s: float) -> None:
    cycles = len(got["off"])
    print(f"\nOne server, tracing switched every {slice_s:g} s under one wrk run: {cycles} cycles of the three "
          "states, the order turning; totals of each state's slices")
    totals = {n: (sum(s for _c, s, _u, _a in got[n]), sum(u for _c, _s, u, _a in got[n]),
                  sum(a for _c, _s, _u, a in got[n])) for n in got}
    for name in got:
        seconds, cpu, answered = totals[name]
        print(f"  {CASES[name][0]:<36} {answered / seconds:>8.0f} req/s   server CPU {cpu / answered * 1e6:6.1f} "
              "us/request")
    off_s, off_cpu, off_n = totals["off"]
    for name in ("one", "all"):
        seconds, cpu, answered = totals[name]
        loss = (1.0 - (answered / seconds) / (off_n / off_s)) * 100.0
        extra = (cpu / answered - off_cpu / off_n) * 1e6
        cpu_loss = extra / (cpu / answered * 1e6) * 100.0
        by_cycle = {c: a / s for c, s, _u, a in got["off"]}
        per = sorted((1.0 - (a / s) / by_cycle[c]) * 100.0 for c, s, _u, a in got[name] if c in by_cycle)
        q = statistics.quantiles(per, n=4) if len(per) >= 4 else [per[0], statistics.median(per), per[-1]]
        print(f"  {CASES[name][0]}: throughput loss {loss:5.1f} % ({verdict(loss, TARGETS[name])}); per cycle "
              f"median {q[1]:.1f} % (middle half {q[0]:.1f} .. {q[2]:.1f} %)")
        print(f"    server CPU {extra:+5.1f} us/request: CPU loss {cpu_loss:5.1f} % "
              f"({verdict(cpu_loss, TARGETS[name])})")


def verdict(loss: float, target: float, noise: float | None = None) -> str:
    """Whether ``loss`` meets ``target`` (both %); with the comparison's ``noise`` (%),
    whether the difference from the target is beyond it."""
    said = f"target < {target:g} %: {'met' if loss < target else 'NOT met'}"
    if noise is not None and abs(loss - target) < noise:
        said += f", within the comparison's noise of {noise:.1f} %"
    return said


def report(got: dict[str, list[tuple[Result, float]]]) -> None:
    names = list(CASES)
    print("round " + "".join(f"{CASES[n][0].split(' (')[0]:>28}" for n in names))
    for i in range(len(got["off"])):
        print(f"{i + 1:>5} " + "".join(f"{got[n][i][0].rps:>13.0f} req/s {got[n][i][1]:>6.1f} us" for n in names))
    off, control = got["off"], got["control"]
    print(line(CASES["off"][0], _median(off)) + f"  server CPU {statistics.median(c for _r, c in off):6.1f} us/request")
    times = statistics.median(c.rps / o.rps for (c, _c), (o, _o) in zip(control, off))
    print(line(CASES["control"][0], _median(control), times)
          + f"  server CPU {statistics.median(c for _r, c in control):6.1f} us/request")
    noise = statistics.median(abs(c.rps / o.rps - 1.0) * 100.0 for (c, _c), (o, _o) in zip(control, off))
    print(f"  against tracing off: {(times - 1.0) * 100.0:+5.1f} %, a round's difference {noise:4.1f} % (median): "
          "the comparison's own noise")
    # the baseline of each round: both servers with tracing off, averaged
    base = [((o.rps + c.rps) / 2.0, (oc + cc) / 2.0) for (o, oc), (c, cc) in zip(off, control)]
    base_cpu = statistics.median(cpu for _rps, cpu in base)
    print(f"baseline, both servers with tracing off, per round averaged: {statistics.median(r for r, _c in base):.0f} "
          f"req/s, server CPU {base_cpu:.1f} us/request")
    for name in ("one", "all"):
        rounds, target = got[name], TARGETS[name]
        times = statistics.median(r.rps / b for (r, _c), (b, _bc) in zip(rounds, base))
        extra = statistics.median(c - bc for (_r, c), (_b, bc) in zip(rounds, base))
        cost = statistics.median((1.0 / r.rps - 1.0 / b) * 1e6 for (r, _c), (b, _bc) in zip(rounds, base))
        loss = (1.0 - times) * 100.0
        cpu_loss = extra / (base_cpu + extra) * 100.0
        print(line(CASES[name][0], _median(rounds), times)
              + f"  server CPU {statistics.median(c for _r, c in rounds):6.1f} us/request")
        print(f"  throughput loss {loss:5.1f} % ({verdict(loss, target, noise)}), cost per request {cost:6.1f} us")
        print(f"  server CPU {extra:+5.1f} us/request: CPU loss {cpu_loss:5.1f} % "
              f"({verdict(cpu_loss, target, noise)})")


def counting(args: argparse.Namespace, work: Path) -> dict[str, instructions.Count]:
    """Every server of the comparison under callgrind at once: the instructions each
    runs per request answered (see benchmarks/instructions.py)."""
    servers = {name: [PY, "-m", "hogar_nb", "serve", "chain4.udgl", "--port", "0", *extra]
               for name, (_label, extra) in CASES.items()}
    return instructions.count(servers, "/echo", "[1, 2, 3]", args.instructions, work,
                              env={"PYTHONPATH": f"{work}{os.pathsep}{ROOT}", "PYTHONHASHSEED": "1"})


def report_counting(got: dict[str, instructions.Count], seconds: float) -> None:
    print(f"\nInstructions per request answered (callgrind; the servers at once under valgrind, wrk: 1 thread, "
          f"16 connections each, {seconds:g} s counted after a {instructions.WARM_UP_S:g} s warm-up, less what "
          f"each runs in as long without requests, counted over {instructions.QUIET_S:g} s)")
    off, control = got["off"].per_request, got["control"].per_request
    base = (off + control) / 2.0
    noise = abs(control / off - 1.0) * 100.0
    print(f"  {CASES['off'][0]:<42} {off:>10,.0f}   ({got['off'].requests} requests)")
    print(f"  {CASES['control'][0]:<42} {control:>10,.0f}   {(control / off - 1.0) * 100.0:+5.1f} %: the count's "
          f"own noise ({got['control'].requests} requests)")
    for name in ("one", "all"):
        n = got[name].per_request
        more = (n / base - 1.0) * 100.0
        print(f"  {CASES[name][0]:<42} {n:>10,.0f}   {more:+5.1f} %, {n - base:+,.0f} a request "
              f"({verdict(more, TARGETS[name], noise)}; {got[name].requests} requests)")


def _median(rounds: list[tuple[Result, float]]) -> Result:
    rs = [r for r, _c in rounds]
    return Result(statistics.median(r.rps for r in rs), statistics.median(r.p50_ms for r in rs),
                  statistics.median(r.p99_ms for r in rs), sum(r.errors for r in rs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=7, help="measurements of each server, in turns")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--switch", type=float, default=30.0,
                        help="seconds of the one-server comparison, tracing switched under load (0: leave it out)")
    parser.add_argument("--slice", type=float, default=0.5, help="seconds in each state, each time")
    parser.add_argument("--instructions", type=float, default=20.0,
                        help="seconds of load whose instructions callgrind counts (0: leave it out)")
    args = parser.parse_args()
    for key in OTEL:  # no exporter, no sampler from the environment: every server keeps to the store
        os.environ.pop(key, None)
    if shutil.which("wrk") is None:
        print("benchmarks/tracing.py needs wrk: `make bench` installs it (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bench_impls.py").write_text("def identity(x):\n    return x\n")
        (work / "chain4.udgl").write_text(CHAIN)
        print(f"Tracing on `hogar serve` (4-node identity chain), 127.0.0.1, wrk: 1 thread, "
              f"{args.connections} connections, {args.rounds} rounds of {args.duration:g} s per server, "
              "in turns; per round requests/s and server CPU per request; medians")
        if args.rounds > 0:
            report(measure(args, work))
        if args.switch > 0:
            report_switching(switching(args, work), args.slice)
        if args.instructions > 0:
            if instructions.available():
                report_counting(counting(args, work), args.instructions)
            else:
                print("\nInstructions per request: left out, valgrind is not installed (`make bench` installs it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
