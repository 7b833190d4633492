"""Recovery benchmark: outcomes under sustained faults, time to a healthy replacement,
and the engine's fault-free throughput before and after the recovery work.

    .venv/bin/python benchmarks/recovery.py [--quick] [--before REV]

Every request is counted: ok, explicit error (by cause) or lost (no outcome within
60 s). Time to a healthy replacement is measured from a replica's death to the
moment its replacement is ready: for thread replicas from the recovery events of
a crash storm, for process replicas from SIGKILLs sent one at a time. Throughput
uses benchmarks/runtime.py's method (a 4-node chain, 512 requests in flight) on
this tree and on ``--before`` (default: the main-line commit before restart
intensity, deadlines and backpressure), each in its own process pinned to one
CPU (steadier on a shared machine), in alternating pairs so that both see the
same machine; CPU time per request is the steadier figure of the two.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hogar_nb  # noqa: E402

BEFORE = "da23a03"  # main just before the recovery work (restart intensity, deadlines, backpressure)

STORM = """
source s
python a { impl = "benchmarks.recovery_impls:double", replicas = 2 }
python b { impl = "benchmarks.recovery_impls:double", replicas = 2, retries = 3, recovery = restart }
sink t
s -> a -> b -> t
"""


def outcomes(futures, timeout: float = 60.0) -> tuple[int, dict[str, int], int]:
    deadline = time.monotonic() + timeout
    ok, errors, lost = 0, {}, 0
    for f in futures:
        try:
            exc = f.exception(max(deadline - time.monotonic(), 0))
        except TimeoutError:
            lost += 1
            continue
        if exc is None:
            ok += 1
        else:
            errors[exc.cause] = errors.get(exc.cause, 0) + 1
    return ok, errors, lost


def show(name: str, n: int, ok: int, errors: dict[str, int], lost: int, elapsed: float) -> None:
    errs = ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "none"
    print(f"  {name:<44} {n:>5} requests: ok {ok:>5} ({ok / n:6.1%})  explicit errors {sum(errors.values()):>3}"
          f" ({errs})  lost {lost}  in {elapsed:.1f} s")


def chain(impl: str, **attrs) -> dict:
    node = {"name": "n0", "kind": "python", "impl": impl, **attrs}
    return {"earg": 1, "name": "bench", "response": "out", "edges": [
        {"src": "src", "dst": "n0"}, {"src": "n0", "dst": "out"}], "nodes": [
        {"name": "src", "kind": "source"}, node, {"name": "out", "kind": "sink", "response": True}]}


def crash_storm(n: int) -> list[float]:
    """5% crashes at b; returns thread replicas' times to a healthy replacement."""
    with hogar_nb.run(hogar_nb.parse_udgl(STORM)) as dep:
        dep.inject_fault("b", "crash", rate=0.05, seed=3)
        t0 = time.monotonic()
        futures = [dep.submit(i) for i in range(n)]
        show("5% crashes, retries 3, default restart", n, *outcomes(futures), time.monotonic() - t0)
        return [e.duration_s for e in dep.events if e.cause == "crash" and e.action == "restart"]


def hang_storm(n: int) -> None:
    doc = chain("benchmarks.recovery_impls:double", replicas=2, timeout_ms=200.0, retries=2,
                recovery={"policy": "restart", "max_restarts": 5, "backoff_ms": 10.0})
    with hogar_nb.run(doc) as dep:
        dep.inject_fault("n0", "hang", rate=0.02, seed=5)
        t0 = time.monotonic()
        futures = [dep.submit(i) for i in range(n)]
        show("2% hangs, timeout 200ms, retries 2", n, *outcomes(futures), time.monotonic() - t0)


def kill_storm(n: int) -> None:
    doc = chain("benchmarks.recovery_impls:slow_inc", replicas=2, isolation="process", retries=3,
                recovery={"policy": "restart", "max_restarts": 5, "backoff_ms": 20.0})
    with hogar_nb.run(doc) as dep:
        stop = threading.Event()
        kills = []

        def killer() -> None:
            while not stop.wait(0.4):
                pids = dep.replica_pids("n0")
                if pids:
                    os.kill(pids[len(kills) % len(pids)], signal.SIGKILL)
                    kills.append(1)

        thread = threading.Thread(target=killer)
        t0 = time.monotonic()
        thread.start()
        futures = []
        for i in range(n):
            futures.append(dep.submit(i))
            if i % 300 == 0:
                time.sleep(0.15)
        result = outcomes(futures)
        stop.set()
        thread.join()
        show(f"process replicas SIGKILLed every 0.4 s ({len(kills)} kills)", n, *result,
             time.monotonic() - t0)


def bad_payloads(n: int) -> None:
    doc = chain("benchmarks.recovery_impls:double", replicas=2, isolation="process")
    with hogar_nb.run(doc) as dep:
        t0 = time.monotonic()
        futures = [dep.submit(threading.Lock() if i % 100 == 50 else i) for i in range(n)]
        show("1 in 100 payloads cannot reach the process", n, *outcomes(futures), time.monotonic() - t0)


def process_replacements(kills: int) -> list[float]:
    """SIGKILL one process replica at a time; seconds from the kill to a ready replacement."""
    doc = chain("benchmarks.recovery_impls:double", replicas=2, isolation="process", retries=2,
                recovery={"policy": "restart", "max_restarts": 5, "backoff_ms": 20.0})
    times = []
    with hogar_nb.run(doc) as dep:
        for k in range(kills):
            pid = dep.replica_pids("n0")[k % 2]
            seen = len(dep.events)
            killed = time.time()
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                done = [e for e in dep.events[seen:] if e.action == "restart"]
                if done and len(dep.replica_pids("n0")) == 2:
                    times.append(done[0].time + done[0].duration_s - killed)
                    break
                time.sleep(0.002)
            dep.call(k, timeout=30)  # serves again (a request served resets the backoff)
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


WORKER = r"""
import os, statistics, sys
os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # one CPU, as runtime.py's metrics cost
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[1] + "/benchmarks")
import hogar_nb, runtime
rates, cpus = [], []
for _ in range(int(sys.argv[3])):
    with hogar_nb.run(runtime.chain_doc(4)) as dep:
        runtime.drive(dep, 3000)
        for _ in range(3):
            rate, cpu = runtime.drive_cpu(dep, int(sys.argv[2]))
            rates.append(rate)
            cpus.append(cpu)
print(statistics.median(rates), statistics.median(cpus))
"""


def throughput(tree: Path, n: int, runs: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", WORKER, str(tree), str(n), str(runs)], capture_output=True,
                         text=True, check=True, cwd=tree)
    rate, cpu = out.stdout.split()
    return float(rate), float(cpu)


def before_tree(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "hogar_nb", "benchmarks"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def compare(rev: str, n: int, pairs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hogar-before-") as tmp:
        try:
            old = before_tree(rev, Path(tmp))
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            print(f"  (no git checkout to compare with {rev}: {exc})")
            return
        after, before = [], []
        for i in range(pairs):  # alternate which side runs first
            for side in ((ROOT, after), (old, before)) if i % 2 == 0 else ((old, before), (ROOT, after)):
                side[1].append(throughput(side[0], n, 1))
    med = statistics.median
    ratios = [a[0] / b[0] for a, b in zip(after, before)]
    cpu_ratios = [a[1] / b[1] for a, b in zip(after, before)]
    print(f"  before ({rev}):  {med(r for r, _ in before):8.0f} req/s   {med(c for _, c in before):6.1f} µs CPU/request")
    print(f"  after (this tree): {med(r for r, _ in after):8.0f} req/s   {med(c for _, c in after):6.1f} µs CPU/request")
    print(f"  after / before, median of {pairs} paired runs: throughput {med(ratios):.3f}x "
          f"(pairs {min(ratios):.2f}..{max(ratios):.2f}), CPU per request {med(cpu_ratios):.3f}x "
          f"(pairs {min(cpu_ratios):.2f}..{max(cpu_ratios):.2f})  (target: no regression beyond 5%)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller counts (for a smoke run)")
    ap.add_argument("--before", default=BEFORE, help=f"revision to compare throughput with (default {BEFORE})")
    args = ap.parse_args()
    q = args.quick
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    print("requests under sustained faults (every request ends ok or with an explicit error):")
    thread_times = crash_storm(2000)
    hang_storm(500)
    kill_storm(1000 if q else 3000)
    bad_payloads(1000 if q else 5000)
    process_times = process_replacements(5 if q else 30)
    print("time from a replica's death to a healthy replacement:")
    for name, times, target in (("thread replicas", thread_times, 0.5), ("process replicas", process_times, 1.5)):
        print(f"  {name:<17} n={len(times):<4} median {statistics.median(times) * 1000:7.1f} ms   "
              f"p99 {pct(times, 0.99) * 1000:7.1f} ms   (target p99 < {target * 1000:.0f} ms)")
    print("engine throughput with no faults, 4-node chain (benchmarks/runtime.py's method, one CPU):")
    compare(args.before, 20_000 if q else 60_000, 4 if q else 8)


if __name__ == "__main__":
    main()
