"""Autoscaling: a 10x load step on a slow python node, embedded engine vs Ray Serve.

One graph, ``source -> slow -> sink`` where ``slow`` sleeps 50 ms and has
``replicas = auto(min = 1, max = 4)``, ``target_ongoing = 2``, runs three ways, one
after the other in one run:

1. the embedded engine with hogar_nb's autoscaler (up delay 1 s, down delay 15 s: the
   defaults);
2. hogar_nb's Ray backend, i.e. Ray Serve's own autoscaler configured through our export
   (``autoscaling_config`` with the same bounds, target and delays);
3. the same on Ray with Ray Serve's default delays (``upscale_delay_s`` 30 s,
   ``downscale_delay_s`` 600 s), what a Serve user gets without tuning.

Load is closed-loop: client threads each send their next request when the last is
answered. 1 client, then a step to 10 (10x): 10 in flight at 2 per replica want 5
replicas, bounded to 4. Printed for each: the time from the step to 4 live replicas,
the p99 latency of the requests sent in the 10 s after the step, direction changes of
the replica count per minute under the steady load that follows, and requests lost
(every request is counted). Target: the embedded autoscaler reaches its target at
least 5x sooner than Ray Serve's defaults, with at most 1 reversal a minute.

Ray listens on every interface, so the script runs itself in a network namespace with
only loopback (``unshare --net``; it needs root) unless it already is in one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GRAPH = """\
graph stepped
defaults {{ cpu = 0.05, timeout = 60s }}
source s
python slow {{ impl = "benchmarks.autoscale:slow", replicas = auto(min = 1, max = {most}), target_ongoing = 2,
              scale_up_delay = {up}, scale_down_delay = {down} }}
sink out
s -> slow -> out
"""


def slow(x):
    time.sleep(0.05)
    return x


class Clients:
    """Closed-loop clients; every request's start and latency kept, failures counted."""

    def __init__(self, dep) -> None:
        self.dep = dep
        self.samples: list[tuple[float, float]] = []
        self.sent = self.failed = 0
        self.lock = threading.Lock()
        self.threads: list[tuple[threading.Thread, threading.Event]] = []

    def _client(self, stop: threading.Event) -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            with self.lock:
                self.sent += 1
            try:
                self.dep.call(1, timeout=60)
            except Exception:  # counted
                with self.lock:
                    self.failed += 1
                continue
            with self.lock:
                self.samples.append((t0, time.monotonic() - t0))

    def set(self, n: int) -> float:
        while len(self.threads) < n:
            stop = threading.Event()
            t = threading.Thread(target=self._client, args=(stop,), daemon=True)
            self.threads.append((t, stop))
            t.start()
        while len(self.threads) > n:
            t, stop = self.threads.pop()
            stop.set()
            t.join(120)
        return time.monotonic()

    def p99_ms(self, since: float, until: float) -> float:
        with self.lock:
            lat = sorted(d for t, d in self.samples if since <= t < until)
        return lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000 if lat else float("nan")


def _alive(dep) -> int:
    return dep.metrics().node("slow").replicas_alive


def measure(dep, most: int, steady_s: float, limit_s: float) -> dict[str, float]:
    clients = Clients(dep)
    try:
        clients.set(1)
        time.sleep(3.0)
        step = clients.set(10)
        reached = float("nan")
        while time.monotonic() - step < limit_s:
            if _alive(dep) >= most:
                reached = time.monotonic() - step
                break
            time.sleep(0.05)
        counts, t_end = [_alive(dep)], time.monotonic() + steady_s
        while time.monotonic() < t_end:  # steady load: watch the count
            time.sleep(0.25)
            counts.append(_alive(dep))
        p99 = clients.p99_ms(step, step + 10.0)
    finally:
        clients.set(0)
    moves = [b - a for a, b in zip(counts, counts[1:]) if b != a]
    reversals = sum(1 for a, b in zip(moves, moves[1:]) if (a > 0) != (b > 0))
    return {"to_target_s": reached, "p99_ms": p99, "reversals_per_min": reversals * 60.0 / steady_s,
            "lost": clients.sent - len(clients.samples) - clients.failed, "failed": clients.failed,
            "sent": clients.sent}


def _loopback_only() -> bool:
    return sorted(name for _i, name in socket.if_nameindex()) == ["lo"]


def _reexec_in_namespace() -> int:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        print("autoscale.py needs root and `unshare` to run Ray in a loopback-only network namespace",
              file=sys.stderr)
        return 2
    inner = " ".join([sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])
    return subprocess.call(["unshare", "--net", "sh", "-c", f"ip link set lo up && exec {inner}"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steady", type=float, default=30.0, help="seconds of steady load after the step")
    parser.add_argument("--limit", type=float, default=120.0, help="longest wait for the target, s")
    parser.add_argument("--no-ray", action="store_true", help="the embedded engine only")
    args = parser.parse_args()
    if not args.no_ray and not _loopback_only():
        return _reexec_in_namespace()
    if not os.environ.get("PYTHONPATH"):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import hogar_nb

    most = 4
    ours = GRAPH.format(most=most, up="1s", down="15s")
    serve_defaults = GRAPH.format(most=most, up="30s", down="10m")
    rows: dict[str, dict[str, float]] = {}
    with hogar_nb.run(hogar_nb.parse_udgl(ours)) as dep:
        rows["embedded autoscaler (up 1 s, down 15 s)"] = measure(dep, most, args.steady, args.limit)
    if not args.no_ray:
        root = Path(tempfile.mkdtemp(prefix="hogar-bench-"))
        for var, sub in (("HOME", "home"), ("RAY_TMPDIR", "tmp")):
            (root / sub).mkdir()
            os.environ[var] = str(root / sub)
        from hogar_nb.backends.ray.cluster import LocalRay

        local = LocalRay(num_cpus=2, temp_dir=str(root / "tmp")).start()
        from ray import serve

        try:
            serve.start(proxy_location="Disabled")
            for name, text in (("Ray Serve via our export (up 1 s, down 15 s)", ours),
                               ("Ray Serve defaults (up 30 s, down 600 s)", serve_defaults)):
                dep = hogar_nb.run(hogar_nb.parse_udgl(text), backend="ray")
                try:
                    rows[name] = measure(dep, most, args.steady, args.limit)
                finally:
                    dep.stop()
        finally:
            serve.shutdown()
            local.stop()
            shutil.rmtree(root, ignore_errors=True)
    print(f"10x load step (1 -> 10 clients in flight) on a 50 ms python node, auto(min = 1, max = {most}), "
          f"target 2 in flight per replica; {args.steady:g} s of steady load after it")
    print(f"{'':<48}{'to target s':>12}{'p99 ms':>9}{'reversals/min':>15}{'lost':>6}{'failed':>8}{'sent':>8}")
    for name, r in rows.items():
        print(f"{name:<48}{r['to_target_s']:>12.2f}{r['p99_ms']:>9.0f}{r['reversals_per_min']:>15.1f}"
              f"{r['lost']:>6.0f}{r['failed']:>8.0f}{r['sent']:>8.0f}")
    base = rows.get("Ray Serve defaults (up 30 s, down 600 s)")
    us = rows["embedded autoscaler (up 1 s, down 15 s)"]
    if base is not None:
        ratio = base["to_target_s"] / us["to_target_s"]
        met = ratio >= 5 and us["reversals_per_min"] <= 1
        print(f"embedded reaches its target {ratio:.1f}x sooner than Ray Serve's defaults, "
              f"{us['reversals_per_min']:.1f} reversals/min (target >= 5x, <= 1/min: "
              f"{'met' if met else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
