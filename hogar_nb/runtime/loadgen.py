"""A load generator: fixed-rate or Poisson arrivals, with exact outcome accounting."""

from __future__ import annotations

import random
import sys
import threading
import time
from dataclasses import dataclass, field
from concurrent.futures import Future
from typing import Any, Protocol

from .metrics import bucket_of, percentile_ms, N_BUCKETS

__all__ = ["LoadReport", "drive"]


class Submits(Protocol):
    """What the load generator needs of a deployment: any backend's ``submit``."""

    def submit(self, payload: Any, source: str | None = None, timeout: float | None = None) -> Future: ...

FIRST_ERRORS = 5  # distinct errors a report keeps


@dataclass(frozen=True)
class LoadReport:
    """Outcome of :meth:`Deployment.load`: ``sent == ok + sum(errors.values()) + lost``."""

    sent: int
    ok: int
    errors: dict[str, int]
    lost: int
    duration_s: float
    target_rate: float
    achieved_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    results_sample: list[Any] = field(repr=False, default_factory=list)
    first_errors: list[tuple[str, str, str | None]] = field(default_factory=list)
    """The first distinct errors: (exception type, message, node)."""

    def summary(self) -> str:
        errs = ", ".join(f"{k}={v}" for k, v in sorted(self.errors.items())) or "none"
        pct = "  ".join(f"{k} {v:.2f} ms" for k, v in
                        (("p50", self.p50_ms), ("p95", self.p95_ms), ("p99", self.p99_ms)) if v is not None)
        lines = [f"sent {self.sent}  ok {self.ok}  errors {errs}  lost {self.lost}",
                 f"rate {self.achieved_rate:.1f}/s (target {self.target_rate:g}/s) over "
                 f"{self.duration_s:.2f} s  latency {pct or 'n/a'}"]
        if self.first_errors:
            lines.append("first errors:")
            lines += [f"  {kind}" + (f" at node {node!r}" if node else "") + f": {message}"
                      for kind, message, node in self.first_errors]
        return "\n".join(lines)


class _Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ok = 0
        self.errors: dict[str, int] = {}
        self.hist = [0] * N_BUCKETS
        self.sample: list[Any] = []
        self.first: list[tuple[str, str, str | None]] = []

    def record(self, fut: Any, t0: float) -> None:
        latency = time.monotonic() - t0
        exc = fut.exception()
        with self.lock:
            if exc is None:
                self.ok += 1
                self.hist[bucket_of(latency)] += 1
                if len(self.sample) < 20:
                    self.sample.append(fut.result())
            else:
                cause = getattr(exc, "cause", "error")
                self.errors[cause] = self.errors.get(cause, 0) + 1
                if len(self.first) < FIRST_ERRORS:
                    key = (type(exc).__name__, str(exc)[:500], getattr(exc, "node", None))
                    if key not in self.first:
                        self.first.append(key)


def drive(dep: Submits, rate: float, duration: float, payload: Any, arrival: str,
          concurrency: int | None, progress: bool | None, source: str | None,
          seed: int | None) -> LoadReport:
    if rate <= 0 or duration < 0:
        raise ValueError(f"rate must be > 0 and duration >= 0, got rate={rate!r} duration={duration!r}")
    if arrival not in ("poisson", "fixed"):
        raise ValueError(f"arrival must be 'poisson' or 'fixed', got {arrival!r}")
    show = sys.stderr.isatty() if progress is None else progress
    rng = random.Random(seed)
    tally = _Tally()
    slots = threading.BoundedSemaphore(concurrency) if concurrency else None
    pending: set[Any] = set()
    make = payload if callable(payload) else (lambda _i: payload)
    start = time.monotonic()
    next_at, sent, last_shown = start, 0, 0.0
    while True:
        now = time.monotonic()
        if next_at - start >= duration:
            break
        if next_at > now:
            time.sleep(next_at - now)
        if slots is not None:
            slots.acquire()
        t0 = time.monotonic()
        fut = dep.submit(make(sent), source)
        sent += 1
        pending.add(fut)

        def done(f: Any, t0: float = t0) -> None:
            tally.record(f, t0)
            pending.discard(f)
            if slots is not None:
                slots.release()

        fut.add_done_callback(done)
        next_at += rng.expovariate(rate) if arrival == "poisson" else 1.0 / rate
        if show and now - last_shown > 0.2:
            last_shown = now
            _progress(min((now - start) / duration, 1.0) if duration else 1.0, sent, tally)
    for fut in list(pending):
        try:
            fut.exception(timeout=60.0)
        except Exception:
            pass
    elapsed = max(time.monotonic() - start, 1e-9)
    if show:
        _progress(1.0, sent, tally)
        sys.stderr.write("\n")
    with tally.lock:
        ok, errors, hist = tally.ok, dict(tally.errors), list(tally.hist)
        tally.first = list(tally.first)
    return LoadReport(
        sent=sent, ok=ok, errors=errors, lost=sent - ok - sum(errors.values()),
        duration_s=elapsed, target_rate=rate, achieved_rate=(ok + sum(errors.values())) / elapsed,
        p50_ms=percentile_ms(hist, 0.50), p95_ms=percentile_ms(hist, 0.95),
        p99_ms=percentile_ms(hist, 0.99), results_sample=list(tally.sample),
        first_errors=list(tally.first),
    )


def _progress(frac: float, sent: int, tally: _Tally) -> None:
    width = 30
    bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
    errs = sum(tally.errors.values())
    sys.stderr.write(f"\r[{bar}] {frac:4.0%}  sent {sent}  ok {tally.ok}  errors {errs}")
    sys.stderr.flush()
