"""Monitor cost: Python time per dashboard refresh (10 and 100 nodes) and the engine's
CPU per request and throughput with a live dashboard (1 Hz) attached vs without.

    .venv/bin/python benchmarks/monitor.py [--quick]

Refreshes run outside a kernel (widget messages go to a no-op comm), so the figure
is the Python side: reading the snapshot, health, building and validating traces.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import hogar_nb  # noqa: E402
from hogar_nb.jupyter.monitor import Dashboard, DeploymentSource  # noqa: E402

WINDOW = 256  # requests kept in flight by the driver


def identity(x):
    return x


def chain_doc(n: int) -> dict:
    """src -> n python nodes (2 replicas each) -> out: n + 2 nodes in all."""
    nodes = [{"name": "src", "kind": "source"}]
    nodes += [{"name": f"s{i}", "kind": "python", "impl": identity, "replicas": 2, "timeout_ms": 2000}
              for i in range(n - 2)]
    nodes += [{"name": "out", "kind": "sink", "response": True}]
    names = [x["name"] for x in nodes]
    edges = [{"src": a, "dst": b} for a, b in zip(names, names[1:])]
    return {"earg": 1, "name": f"chain{n}", "response": "out", "nodes": nodes, "edges": edges}


def drive_for(dep, seconds: float) -> float:
    """Keep WINDOW requests in flight for ``seconds``; returns completions/s."""
    return drive_cpu(dep, seconds)[0]


def drive_cpu(dep, seconds: float) -> tuple[float, float]:
    """Keep WINDOW requests in flight for ``seconds``; returns (completions/s, CPU µs each).

    CPU time is this process's (engine threads and the dashboard's refresh thread),
    so other processes on a shared machine hardly move it, unlike throughput.
    """
    window: collections.deque = collections.deque()
    submit, done = dep.submit, 0
    c0, t0 = time.process_time(), time.perf_counter()
    end = t0 + seconds
    i = 0
    while time.perf_counter() < end:
        window.append(submit(i))
        i += 1
        if len(window) >= WINDOW:
            window.popleft().result()
            done += 1
    for f in window:
        f.result()
        done += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return done / wall, cpu / done * 1e6


def refresh_cost(n: int, fill_s: float, reps: int) -> dict:
    """ms per refresh once the series hold many points (filled fast by 10 ms sampling)."""
    dep = hogar_nb.run(chain_doc(n), sample_interval=0.01)
    try:
        drive_for(dep, fill_s)
        points = len(dep.metrics().series("rps").t)
        dash = Dashboard(DeploymentSource(dep), start=False, window=300.0)
        dash.refresh()  # first refresh creates traces
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            dash.refresh()
            times.append((time.perf_counter() - t0) * 1000)
        traces = sum(len(f.data) for f in dash.panels.figures.values()) + len(dash.behaviour.figure.data)
        dash.close()
    finally:
        dep.stop()
    return {"nodes": n, "points": points, "traces": traces, "median_ms": statistics.median(times),
            "p95_ms": sorted(times)[int(0.95 * (len(times) - 1))]}


def overhead(n: int, seconds: float, rounds: int) -> dict:
    """CPU per request and throughput without / with a dashboard refreshing at 1 Hz.

    Runs alternate on one deployment; the CPU figure is the least disturbed run of
    each (other work on the machine only adds to it), throughput the median.
    """
    dep = hogar_nb.run(chain_doc(n))
    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    refreshes = 0
    try:
        drive_for(dep, 0.5)  # warm up
        for _ in range(rounds):
            runs[False].append(drive_cpu(dep, seconds))
            dash = Dashboard(DeploymentSource(dep), interval=1.0)
            runs[True].append(drive_cpu(dep, seconds))
            dash.close()
            refreshes += dash.refreshes
    finally:
        dep.stop()
    cpu = {k: min(c for _r, c in v) for k, v in runs.items()}
    rps = {k: statistics.median(r for r, _c in v) for k, v in runs.items()}
    return {"nodes": n, "without_rps": rps[False], "with_rps": rps[True],
            "without_us": cpu[False], "with_us": cpu[True],
            "cost_pct": 100 * (cpu[True] / cpu[False] - 1), "refreshes": refreshes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    args = parser.parse_args()
    fill, reps, seconds, rounds = (3.0, 10, 2.0, 2) if args.quick else (9.0, 30, 3.0, 6)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, hogar_nb {hogar_nb.__version__}")
    print("\nRefresh cost (Python time per dashboard refresh; points = engine series length, at most 720)")
    print(f"{'nodes':>6} {'points':>7} {'traces':>7} {'median ms':>10} {'p95 ms':>8}")
    for n in (10, 100):
        r = refresh_cost(n, fill, reps)
        print(f"{r['nodes']:>6} {r['points']:>7} {r['traces']:>7} {r['median_ms']:>10.1f} {r['p95_ms']:>8.1f}")
    print(f"\nEngine with a dashboard at 1 Hz vs without ({rounds} alternating runs of {seconds:g} s;"
          " CPU: best run, rate: median)")
    print(f"{'nodes':>6} {'CPU µs/req without':>19} {'with':>7} {'cost':>7} {'req/s without':>14} "
          f"{'with':>7} {'refreshes':>10}")
    for n in (10, 100):
        r = overhead(n, seconds, rounds)
        print(f"{r['nodes']:>6} {r['without_us']:>19.1f} {r['with_us']:>7.1f} {r['cost_pct']:>6.1f}% "
              f"{r['without_rps']:>14.0f} {r['with_rps']:>7.0f} {r['refreshes']:>10}")
    print("cost = extra CPU per request with the dashboard attached (target < 10 %)")


if __name__ == "__main__":
    main()
