"""Monitor cost: Python time per dashboard refresh (10 and 100 nodes) and the engine's
throughput with a live dashboard (1 Hz) attached vs without.

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
    window: collections.deque = collections.deque()
    submit, done = dep.submit, 0
    t0 = time.perf_counter()
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
    return done / (time.perf_counter() - t0)


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
    """Throughput without / with a dashboard refreshing at 1 Hz (alternating runs)."""
    dep = hogar_nb.run(chain_doc(n))
    without, with_dash, refreshes = [], [], 0
    try:
        drive_for(dep, 0.5)  # warm up
        for _ in range(rounds):
            without.append(drive_for(dep, seconds))
            dash = Dashboard(DeploymentSource(dep), interval=1.0)
            with_dash.append(drive_for(dep, seconds))
            dash.close()
            refreshes += dash.refreshes
    finally:
        dep.stop()
    a, b = statistics.median(without), statistics.median(with_dash)
    return {"nodes": n, "without_rps": a, "with_rps": b, "cost_pct": 100 * (a - b) / a,
            "refreshes": refreshes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    args = parser.parse_args()
    fill, reps, seconds, rounds = (3.0, 10, 2.0, 2) if args.quick else (9.0, 30, 4.0, 3)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, hogar_nb {hogar_nb.__version__}")
    print("\nRefresh cost (Python time per dashboard refresh; points = engine series length, at most 720)")
    print(f"{'nodes':>6} {'points':>7} {'traces':>7} {'median ms':>10} {'p95 ms':>8}")
    for n in (10, 100):
        r = refresh_cost(n, fill, reps)
        print(f"{r['nodes']:>6} {r['points']:>7} {r['traces']:>7} {r['median_ms']:>10.1f} {r['p95_ms']:>8.1f}")
    print(f"\nEngine throughput with a dashboard at 1 Hz vs without ({rounds} x {seconds:g} s each, medians)")
    print(f"{'nodes':>6} {'without/s':>10} {'with/s':>10} {'cost':>7} {'refreshes':>10}")
    for n in (10, 100):
        r = overhead(n, seconds, rounds)
        print(f"{r['nodes']:>6} {r['without_rps']:>10.0f} {r['with_rps']:>10.0f} "
              f"{r['cost_pct']:>6.1f}% {r['refreshes']:>10}")


if __name__ == "__main__":
    main()
