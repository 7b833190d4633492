"""Model quality's cost: a served iris model with drift and feedback on versus off.

In one run, side by side on the embedded engine:

1. saturated throughput: ``dep.map`` over the same rows, 64 in flight, off and on,
   one fresh deployment each, interleaved over many rounds; the loss is the median
   of the per-round ratios (with an interval for it), beside the CPU time per
   request of the whole process and of the monitor's thread alone (target: < 3%
   loss);
2. the same comparison in ONE deployment: its monitor stopped and started again
   between slices of requests (``--slice``, ``--cycles``), off and on in turns, so
   that the two modes differ in nothing else (the saturated phase's fresh
   deployments differ from round to round by more than the cost measured): the
   loss over all slices and per cycle (median, with its interval);
3. a steady rate (``dep.load``, Poisson arrivals): p50 and p99 off and on, in
   interleaved rounds (target: no p99 change beyond noise: the rounds' p99s on are
   not significantly above off's by a one-sided Mann-Whitney test at 5%);
4. memory over many requests with drift and feedback on and a compressed label
   horizon (the 24 h horizon scaled down to ``--horizon`` seconds): RSS and the
   store's rows at each tenth, which must stay flat once the horizon has passed
   (target: RSS at the end within 10% of RSS at the half, no answer dropped).

Each phase ends with a line saying whether its target was met.

Run: ``.venv/bin/python benchmarks/quality.py`` (``--requests 1000000`` for the full
memory run).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import psutil
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import hogar_nb

GRAPH = """graph iris
source score
model clf {{ impl = "iris.joblib"{quality} }}
sink out
score -> clf -> out
"""
ON = ', reference = "train.csv", drift_window = 1000, feedback = true, feedback_horizon = {horizon}s'


def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="hogar-quality-bench-"))
    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1_000).fit(x, y), folder / "iris.joblib")
    (folder / "train.csv").write_text("a,b,c,d\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n")
    return folder


def _rows(n: int, seed: int = 0) -> list[list[float]]:
    x, _ = load_iris(return_X_y=True)
    rng = np.random.default_rng(seed)
    return np.round(x[rng.integers(0, len(x), n)] + rng.normal(0, 0.05, (n, 4)), 3).tolist()


def _run(folder: Path, on: bool, horizon: float) -> object:
    text = GRAPH.format(quality=ON.format(horizon=horizon) if on else "")
    return hogar_nb.run(hogar_nb.parse_udgl(text), base_dir=folder)


MODES = ("off", "on")
LOSS_TARGET = 3.0  # % of throughput
RSS_GROWTH = 0.10  # RSS at the end over RSS at the half, once the horizon has passed


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def saturated(folder: Path, n: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Requests/s and CPU µs per request (every thread of the process, the monitor's
    included) off and with drift and feedback on; one fresh deployment per mode and
    round, the modes interleaved within each round in a rotating order, so a machine
    whose load changes weighs on every mode alike."""
    rows = _rows(n)
    out: dict[str, dict[str, list[float]]] = {m: {"rate": [], "cpu_us": [], "monitor_us": []} for m in MODES}
    for r in range(rounds):
        for mode in MODES[r % 2:] + MODES[:r % 2]:
            with _run(folder, mode == "on", 3600) as dep:
                list(dep.map(rows[:1000], concurrency=64))  # warm up
                m0, c0, t0 = _monitor_cpu(), time.process_time(), time.perf_counter()
                done = sum(1 for _ in dep.map(rows, concurrency=64))
                wall = time.perf_counter() - t0
                if mode == "on":  # the monitor's work for these requests is part of their cost
                    dep.quality_monitor().evaluate()
                cpu = time.process_time() - c0
                out[mode]["rate"].append(done / wall)
                out[mode]["cpu_us"].append(1e6 * cpu / done)
                out[mode]["monitor_us"].append(1e6 * (_monitor_cpu() - m0) / done)
    return out


def switched(folder: Path, n: int, cycles: int) -> dict[str, list[tuple[float, float]]]:
    """One deployment of the graph with drift and feedback, its monitor stopped and
    started again between slices of ``n`` requests (64 in flight), ``cycles`` times
    each way in a rotating order: per mode, each slice's (seconds, CPU seconds). The
    same process, model and threads serve both modes, a moment apart, so what a
    fresh deployment changes from one round to the next (and a machine's drift
    over a minute) falls on both alike. An ``on`` slice's CPU includes stopping its
    monitor (the last predictions written), as the saturated phase's includes a last
    evaluation."""
    rows = _rows(n, seed=3)
    out: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
    with _run(folder, True, 3600) as dep:
        list(dep.map(rows[:1000], concurrency=64))  # warm up, watched
        dep.stop_quality_monitor()  # each "on" slice starts its own
        for c in range(cycles):
            for mode in MODES[c % 2:] + MODES[:c % 2]:
                if mode == "on":
                    dep.quality_monitor()
                list(dep.map(rows[:200], concurrency=64))  # settle
                c0, t0 = time.process_time(), time.perf_counter()
                done = sum(1 for _ in dep.map(rows, concurrency=64))
                wall = time.perf_counter() - t0
                if mode == "on":
                    dep.stop_quality_monitor()
                out[mode].append((wall / done, (time.process_time() - c0) / done))
    return out


def _monitor_cpu() -> float:
    """CPU seconds of the quality monitor's thread so far (0 while there is none); the
    evaluation the benchmark asks for runs on the main thread and is not in it."""
    ids = {t.native_id for t in threading.enumerate() if t.name.startswith("hogar-quality")}
    return sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id in ids)


def _median_interval(values: list[float]) -> tuple[float, float]:
    """A distribution-free interval of about 90% or more for the median of ``values``:
    the order statistics a sign test puts around it (the whole range below 5 values)."""
    xs, n = sorted(values), len(values)
    k = 0
    while k + 1 < n - k - 1 and _binom_tail(n, k + 1) <= 0.05:
        k += 1
    return xs[k], xs[n - 1 - k]


def _binom_tail(n: int, k: int) -> float:
    """P(X < k) for X ~ Binomial(n, 1/2)."""
    return sum(math.comb(n, i) for i in range(k)) / 2**n


def _losses(runs: dict[str, dict[str, list[float]]], key: str = "rate") -> list[float]:
    """Per round, how much ``key`` of on fell below off's, % (for CPU: how much it rose)."""
    pairs = zip(runs["on"][key], runs["off"][key])
    if key == "rate":
        return [100 * (1 - on / off) for on, off in pairs]
    return [100 * (on / off - 1) for on, off in pairs]


def steady(folder: Path, rate: float, duration: float, rounds: int) -> dict[bool, list]:
    """LoadReports at ``rate`` off and on, ``rounds`` of ``duration`` s each, the two
    interleaved in a rotating order."""
    rows = _rows(int(rate * duration) + 1, seed=1)
    out: dict[bool, list] = {False: [], True: []}
    for r in range(rounds):
        for on in ((False, True) if r % 2 == 0 else (True, False)):
            with _run(folder, on, 3600) as dep:
                out[on].append(dep.load(rate, duration, payload=lambda i: rows[i % len(rows)], seed=7 + r))
    return out


def memory(folder: Path, n: int, horizon: float) -> Iterator[tuple[int, float, float, dict]]:
    """Send ``n`` requests 500 at a time and label every one of them; yields RSS and
    the store's counts before the first and after each tenth, as they come."""
    rows = _rows(20_000, seed=2)
    proc = psutil.Process()
    with _run(folder, True, horizon) as dep:
        monitor = dep.quality_monitor()
        t0, sent, next_mark = time.perf_counter(), 0, max(n // 10, 1)
        yield 0, 0.0, proc.memory_info().rss / 2**20, monitor.store.counts()
        while sent < n:
            futures = [dep.submit(rows[(sent + i) % len(rows)]) for i in range(min(500, n - sent))]
            labels = [(f.context.request_id, f.result()) for f in futures]
            monitor.feedback(labels)
            sent += len(futures)
            if sent >= next_mark:
                next_mark += max(n // 10, 1)
                monitor.evaluate()
                yield sent, time.perf_counter() - t0, proc.memory_info().rss / 2**20, monitor.store.counts()
        report = dep.quality()
        yield -1, 0.0, 0.0, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=200_000, help="requests in the memory run")
    ap.add_argument("--horizon", type=float, default=10.0, help="the compressed label horizon, seconds")
    ap.add_argument("--saturated", type=int, default=20_000, help="requests per mode and round")
    ap.add_argument("--rounds", type=int, default=9, help="interleaved rounds of the saturated phase")
    ap.add_argument("--rate", type=float, default=500.0)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of each steady round")
    ap.add_argument("--steady-rounds", type=int, default=4, help="interleaved rounds of the steady phase")
    ap.add_argument("--slice", type=int, default=5_000, help="requests per slice of the switched phase")
    ap.add_argument("--cycles", type=int, default=40, help="cycles of the switched phase (a slice each way)")
    ap.add_argument("--phases", default="saturated,switched,steady,memory")
    args = ap.parse_args()
    folder = _folder()

    if "saturated" in args.phases:
        runs = saturated(folder, args.saturated, args.rounds)
        print(f"saturated, 64 in flight, {args.saturated} requests x {args.rounds} interleaved rounds:")
        print(f"  {'mode':<5} {'req/s (median)':>14} {'CPU us/req':>10} {'monitor thread us/req':>21}")
        for mode in MODES:
            print(f"  {mode:<5} {statistics.median(runs[mode]['rate']):14.0f} "
                  f"{statistics.median(runs[mode]['cpu_us']):10.1f} {statistics.median(runs[mode]['monitor_us']):21.1f}")
        for key, what in (("rate", "throughput loss"), ("cpu_us", "CPU per request rise")):
            losses = _losses(runs, key)
            lo, hi = _median_interval(losses)
            print(f"  {what}, on vs off, per round: {', '.join(f'{x:.1f}' for x in sorted(losses))} %")
            print(f"    median {statistics.median(losses):.1f}% (median within [{lo:.1f}, {hi:.1f}]%)")
        losses = _losses(runs)
        loss, (lo, hi) = statistics.median(losses), _median_interval(losses)
        print(f"  throughput loss {loss:.1f}% (target < {LOSS_TARGET:g}%): {_verdict(loss < LOSS_TARGET)}"
              + ("" if hi < LOSS_TARGET or lo >= LOSS_TARGET else
                 f", by the median alone: its interval [{lo:.1f}, {hi:.1f}]% holds the target, the machine was"
                 " too noisy to tell"))
        share = 100 * statistics.median(runs["on"]["monitor_us"]) / statistics.median(runs["off"]["cpu_us"])
        print(f"  the monitor thread's CPU, {share:.1f}% of a request's off (the loss where no core is idle; "
              f"target < {LOSS_TARGET:g}%): {_verdict(share < LOSS_TARGET)}", flush=True)

    if "switched" in args.phases:
        got = switched(folder, args.slice, args.cycles)
        print(f"switched: one deployment, its monitor stopped and started between slices of {args.slice} "
              f"requests (64 in flight), {args.cycles} cycles:")
        for mode in MODES:
            walls, cpus = zip(*got[mode])
            print(f"  {mode:<5} {1 / statistics.mean(walls):8.0f} req/s  CPU {1e6 * statistics.mean(cpus):6.1f} us/req"
                  "  (over all its slices)")
        pairs = list(zip(got["on"], got["off"]))
        losses = [100 * (1 - off[0] / on[0]) for on, off in pairs]
        rises = [100 * (on[1] / off[1] - 1) for on, off in pairs]
        totals = (100 * (1 - sum(off[0] for _on, off in pairs) / sum(on[0] for on, _off in pairs)),
                  100 * (sum(on[1] for on, _off in pairs) / sum(off[1] for _on, off in pairs) - 1))
        for per, total, what in ((losses, totals[0], "throughput loss"), (rises, totals[1], "CPU per request rise")):
            lo, hi = _median_interval(per)
            print(f"  {what}, on vs off: all slices {total:.1f}%; per cycle median {statistics.median(per):.1f}% "
                  f"(median within [{lo:.1f}, {hi:.1f}]%)")
        loss, (lo, hi) = statistics.median(losses), _median_interval(losses)
        print(f"  throughput loss {loss:.1f}% (target < {LOSS_TARGET:g}%): {_verdict(loss < LOSS_TARGET)}"
              + ("" if hi < LOSS_TARGET or lo >= LOSS_TARGET else
                 f", by the median alone: its interval [{lo:.1f}, {hi:.1f}]% holds the target"), flush=True)

    if "steady" in args.phases:
        loads = steady(folder, args.rate, args.duration, args.steady_rounds)
        print(f"steady {args.rate:g} req/s, {args.steady_rounds} interleaved rounds of {args.duration:g} s "
              "(medians over the rounds):")
        for on_, reps in loads.items():
            print(f"  {'on ' if on_ else 'off'}  achieved {statistics.median(r.achieved_rate for r in reps):7.1f}/s  "
                  f"ok {sum(r.ok for r in reps)}  p50 {statistics.median(r.p50_ms for r in reps):6.2f} ms  "
                  f"p99 {statistics.median(r.p99_ms for r in reps):6.2f} ms")
        ratios = sorted(on.p99_ms / off.p99_ms for on, off in zip(loads[True], loads[False]))
        print(f"  p99 on/off per round: {', '.join(f'{x:.2f}' for x in ratios)}  "
              f"(median {statistics.median(ratios):.2f}x)")
        from scipy.stats import mannwhitneyu

        p = mannwhitneyu([r.p99_ms for r in loads[True]], [r.p99_ms for r in loads[False]],
                         alternative="greater").pvalue
        print(f"  on's p99s above off's (Mann-Whitney, one-sided): p = {p:.2f} "
              f"(target: no change beyond noise, p >= 0.05): {_verdict(p >= 0.05)}", flush=True)
    if "memory" not in args.phases:
        return
    print(f"memory, drift + feedback on, horizon {args.horizon:g} s, {args.requests} requests:")
    print(f"  {'requests':>9} {'seconds':>8} {'RSS MiB':>8} {'kept':>8} {'labelled':>8} {'purged':>9}")
    marks = []
    for sent, secs, rss, counts in memory(_folder(), args.requests, args.horizon):
        if sent < 0:
            dropped = counts["events_dropped"]
            print(f"  answers dropped by the monitor: {dropped}; labels {counts['labels']}")
            break
        marks.append((sent, rss))
        print(f"  {sent:>9} {secs:>8.1f} {rss:>8.1f} {counts['predictions']:>8} {counts['labelled']:>8} "
              f"{counts['purged']:>9}", flush=True)
    half = marks[len(marks) // 2][1]
    growth = marks[-1][1] / half - 1
    print(f"  RSS from the half to the end {100 * growth:+.1f}% (target < {100 * RSS_GROWTH:g}%, "
          f"nothing dropped): {_verdict(growth < RSS_GROWTH and dropped == 0)}")


if __name__ == "__main__":
    main()
