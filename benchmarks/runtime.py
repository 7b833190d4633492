"""Embedded engine benchmark: throughput vs an asyncio floor, per-hop latency,
metrics overhead (on vs off) and memory growth over 1,000,000 requests.

The floor (the same 4-stage chain as asyncio tasks and queues) runs in each round
right before the engine, and the ratio is taken per round: on a shared machine the
load moves both alike. Beside requests/s, each side's CPU time per request (this
process's, every thread) is printed: other processes' load hardly moves it.

    .venv/bin/python benchmarks/runtime.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import os
import statistics
import sys
import time

if not os.environ.get("PYTHONPATH"):  # else the code on PYTHONPATH is measured (before/after)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import hogar_nb  # noqa: E402

WINDOW = 512  # requests kept in flight by the driver


def identity(x):
    return x


def chain_doc(n: int) -> dict:
    nodes = [{"name": "src", "kind": "source"}]
    nodes += [{"name": f"s{i}", "kind": "python", "impl": identity, "replicas": 1} for i in range(n)]
    nodes += [{"name": "out", "kind": "sink", "response": True}]
    names = [n["name"] for n in nodes]
    edges = [{"src": a, "dst": b} for a, b in zip(names, names[1:])]
    return {"earg": 1, "name": f"chain{n}", "response": "out", "nodes": nodes, "edges": edges}


def drive(dep, n: int) -> float:
    """Push n requests keeping WINDOW in flight; returns requests/s."""
    return drive_cpu(dep, n)[0]


def drive_cpu(dep, n: int) -> tuple[float, float]:
    """Push n requests keeping WINDOW in flight; returns (requests/s, CPU µs per request).

    CPU time is this process's (every engine thread), so load from other processes
    on a shared machine hardly moves it, unlike wall-clock throughput.
    """
    window: collections.deque = collections.deque()
    submit = dep.submit
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        window.append(submit(i))
        if len(window) >= WINDOW:
            window.popleft().result()
    for f in window:
        f.result()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return n / wall, cpu / n * 1e6


def asyncio_floor(n: int, stages: int = 4) -> float:
    return asyncio_floor_cpu(n, stages)[0]


def asyncio_floor_cpu(n: int, stages: int = 4) -> tuple[float, float]:
    """The floor's (requests/s, CPU µs per request)."""
    async def main() -> tuple[float, float]:
        queues = [asyncio.Queue(maxsize=WINDOW) for _ in range(stages + 1)]

        async def stage(i: int) -> None:
            get, put = queues[i].get, queues[i + 1].put
            while True:
                item = await get()
                await put(identity(item))

        tasks = [asyncio.create_task(stage(i)) for i in range(stages)]
        c0, t0 = time.process_time(), time.perf_counter()

        async def produce() -> None:
            for i in range(n):
                await queues[0].put(i)

        prod = asyncio.create_task(produce())
        for _ in range(n):
            await queues[-1].get()
        rate, cpu = n / (time.perf_counter() - t0), (time.process_time() - c0) / n * 1e6
        await prod
        for t in tasks:
            t.cancel()
        return rate, cpu

    return asyncio.run(main())


def p50_latency_us(dep, n: int) -> float:
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        dep.call(i)
        lat.append(time.perf_counter() - t0)
    return statistics.median(lat) * 1e6


def metrics_cost(n: int, pairs: int) -> dict:
    """Metrics on vs off as the median of paired ratios of CPU per request.

    The process is pinned to one CPU for this part: with the engine's threads on
    one core the runs are steady to about 1 %, where on two cores thread hand-offs
    between cores moved single runs by +-25 %. Each pair alternates which
    configuration runs first, and each run starts after the latency stride has
    adapted to the rate (the first samples, about a second in).
    """
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(allowed)})  # threads started from here inherit it
    try:
        runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        ratios = []
        for i in range(pairs):
            pair = {}
            for flag in ((True, False) if i % 2 == 0 else (False, True)):
                with hogar_nb.run(chain_doc(4), metrics=flag) as dep:
                    drive(dep, 40_000)
                    rate, cpu = min((drive_cpu(dep, n) for _ in range(2)), key=lambda r: r[1])
                runs[flag].append((rate, cpu))
                pair[flag] = cpu
            ratios.append(pair[True] / pair[False] - 1)
    finally:
        os.sched_setaffinity(0, allowed)
    med = statistics.median
    return {"pairs": pairs, "pct": 100 * med(ratios), "low": 100 * min(ratios), "high": 100 * max(ratios),
            "cpu_on": med(c for _r, c in runs[True]), "cpu_off": med(c for _r, c in runs[False]),
            "rps_on": med(r for r, _c in runs[True]), "rps_off": med(r for r, _c in runs[False])}


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller counts (for a smoke run)")
    ap.add_argument("--throughput-only", action="store_true",
                    help="only the engine against the asyncio floor")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of the floor and the engine")
    args = ap.parse_args()
    n = 20_000 if args.quick else 60_000
    mem_n = 100_000 if args.quick else 1_000_000
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, window {WINDOW}")

    med = statistics.median
    floors, rates, ratios, floor_cpus, cpus, cpu_ratios = [], [], [], [], [], []
    for _ in range(args.rounds):  # each round: the floor, then the engine, so both see the same load
        floor, floor_cpu = asyncio_floor_cpu(n)
        with hogar_nb.run(chain_doc(4)) as dep:  # each deployment alone: two disturb each other
            drive(dep, 3000)
            runs = [drive_cpu(dep, n) for _ in range(3)]
        rate, cpu = med(r for r, _c in runs), med(c for _r, c in runs)
        floors.append(floor)
        rates.append(rate)
        ratios.append(rate / floor)
        floor_cpus.append(floor_cpu)
        cpus.append(cpu)
        cpu_ratios.append(floor_cpu / cpu)
    rounds = f"median of {args.rounds} rounds"
    print(f"asyncio floor, 4 stages:           {med(floors):10.0f} req/s  ({rounds}),"
          f" {med(floor_cpus):.2f} µs CPU per request")
    print(f"engine, 4 nodes (metrics on):      {med(rates):10.0f} req/s  ({med(ratios):.2f}x floor,"
          f" median of the rounds' ratios {', '.join(f'{r:.2f}' for r in ratios)};"
          f" target >= 0.3x)")
    print(f"  CPU per request (every thread):  {med(cpus):8.2f} µs   (the floor's is {med(cpu_ratios):.2f}x"
          f" of it, median of the rounds' {', '.join(f'{r:.2f}' for r in cpu_ratios)})")

    if args.throughput_only:
        return
    cost = metrics_cost(n // 2, pairs=8 if args.quick else 16)
    print(f"metrics on vs off, pinned to one CPU, {cost['pairs']} pairs of runs (medians):")
    print(f"  CPU per request, on / off:       {cost['cpu_on']:8.1f} µs / {cost['cpu_off']:.1f} µs")
    print(f"  throughput, on / off:            {cost['rps_on']:8.0f} / {cost['rps_off']:.0f} req/s")
    print(f"  metrics cost (CPU per request):  {cost['pct']:8.1f} %     (target < 5 %; "
          f"pairs range {cost['low']:.1f} .. {cost['high']:.1f} %)")

    with hogar_nb.run(chain_doc(0)) as d0, hogar_nb.run(chain_doc(4)) as d4:
        p50_latency_us(d0, 500)
        p50_latency_us(d4, 500)
        base = statistics.median(p50_latency_us(d0, 2000) for _ in range(3))
        four = statistics.median(p50_latency_us(d4, 2000) for _ in range(3))
    per_hop = (four - base) / 4
    print(f"p50 call latency, 0 hops / 4 hops: {base:8.1f} µs / {four:.1f} µs")
    print(f"p50 latency added per hop:         {per_hop:8.1f} µs    (target < 50 µs)")

    with hogar_nb.run(chain_doc(4)) as dep:
        drive(dep, 50_000)
        gc.collect()
        before = rss_bytes()
        t0 = time.perf_counter()
        drive(dep, mem_n)
        elapsed = time.perf_counter() - t0
        gc.collect()
        grown = rss_bytes() - before
    print(f"memory: {mem_n:,} requests in {elapsed:.1f} s, RSS grew {grown / 2**20:.1f} MiB"
          f"  (target < 20 MB)")


if __name__ == "__main__":
    main()
