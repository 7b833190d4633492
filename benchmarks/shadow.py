"""Shadow traffic's cost to the requests it copies: the same graph with and without a
mirror edge, side by side in one run.

``ingest -> v1 -> out`` where ``v1`` sleeps 2 ms (2 replicas); the shadowed run adds
``ingest -> v2 { mirror = 100% }``, a candidate ten times slower with one replica and a
short queue, so most copies are dropped: the worst case for the requests it copies.
8 clients in flight, closed loop; rounds alternate, the best round of each is
printed. Target: p50 and p99 of the shadowed graph within 1.2x of the plain one,
and every response the primary's.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

PLAIN = """\
graph plain
source ingest
python v1 { impl = "benchmarks.shadow:primary", replicas = 2 }
sink out
ingest -> v1 -> out
"""
SHADOWED = PLAIN.replace("graph plain", "graph shadowed") + """\
python v2 { impl = "benchmarks.shadow:candidate", max_queue = 8 }
ingest -> v2 { mirror = 100% }
"""


def primary(x):
    time.sleep(0.002)
    return x * 2


def candidate(x):
    time.sleep(0.02)
    return x * 2


def round_(dep, n: int, clients: int) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, wrong answers) of ``n`` requests from ``clients`` threads."""
    lat: list[float] = []
    wrong = [0]
    lock = threading.Lock()
    per = n // clients

    def client(k: int) -> None:
        for i in range(k * per, (k + 1) * per):
            t0 = time.perf_counter()
            out = dep.call(i)
            d = time.perf_counter() - t0
            with lock:
                lat.append(d)
                wrong[0] += out != 2 * i

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    return lat[len(lat) // 2] * 1000, lat[int(0.99 * len(lat))] * 1000, wrong[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("PYTHONPATH"):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import hogar_nb
    from hogar_nb.steer import ShadowMonitor

    best = {"plain": (float("inf"), float("inf")), "shadowed": (float("inf"), float("inf"))}
    wrong = 0
    with hogar_nb.run(hogar_nb.parse_udgl(PLAIN)) as plain, hogar_nb.run(hogar_nb.parse_udgl(SHADOWED)) as shadowed:
        shadow = ShadowMonitor(shadowed)
        for _ in range(args.rounds):
            for name, dep in (("plain", plain), ("shadowed", shadowed)):
                p50, p99, bad = round_(dep, args.requests, args.clients)
                wrong += bad
                best[name] = (min(best[name][0], p50), min(best[name][1], p99))
        time.sleep(0.5)
        report = shadow.report()
        shadow.close()
    print(f"{args.requests} requests x {args.rounds} rounds, {args.clients} in flight; best round of each")
    print(f"{'':<12}{'p50 ms':>9}{'p99 ms':>9}")
    for name, (p50, p99) in best.items():
        print(f"{name:<12}{p50:>9.2f}{p99:>9.2f}")
    r50, r99 = best["shadowed"][0] / best["plain"][0], best["shadowed"][1] / best["plain"][1]
    print(report.summary())
    met = r50 <= 1.2 and r99 <= 1.2 and wrong == 0
    print(f"shadowed / plain: p50 {r50:.2f}x, p99 {r99:.2f}x; responses not the primary's: {wrong} "
          f"(target <= 1.2x and 0: {'met' if met else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
