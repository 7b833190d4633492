"""Shadow traffic compared: a mirror edge's candidate beside the node it shadows.

A :class:`ShadowMonitor` subscribes to a deployment's walker events (it never
touches a backend) and pairs, request by request, the candidate's answer with the
*primary*'s: the one other worker the mirror's source node feeds, or else the
request's response. It keeps counts, latencies (from a node's ``enqueued`` event
to its attempt's end, queueing included) and how the answers agree: the share of
equal answers (labels) and the mean absolute difference of numeric ones.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.kinds import WORKER_KINDS
from .compare import abs_diff, same_answer

__all__ = ["ShadowMonitor", "ShadowReport", "mirror_pairs"]

RESPONSE = None  # the primary is the request's response
_PENDING = 10_000  # requests waiting for their other side at most
_KEEP = 10_000  # latencies kept per side


def mirror_pairs(earg: Mapping[str, Any]) -> dict[str, tuple[str, str | None, float]]:
    """Candidate -> (mirror's source node, primary node or None for the response, share)."""
    kinds = {n["name"]: n.get("kind") for n in earg.get("nodes") or []}
    edges = earg.get("edges") or []
    out = {}
    for e in edges:
        if e.get("mirror") is None:
            continue
        onward = [o["dst"] for o in edges if o["src"] == e["src"] and o.get("mirror") is None]
        primary = onward[0] if len(onward) == 1 and kinds.get(onward[0]) in WORKER_KINDS else RESPONSE
        out[e["dst"]] = (e["src"], primary, float(e["mirror"]))
    return out


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class ShadowReport:
    """One candidate against its primary, so far (latencies in milliseconds)."""

    candidate: str
    primary: str  # a node name, or "response"
    share: float
    mirrored: int = 0  # copies sent to the candidate
    answered: int = 0  # copies it answered
    errors: dict[str, int] = field(default_factory=dict)  # the candidate's failures by cause
    primary_errors: int = 0  # requests whose primary failed while mirrored
    compared: int = 0  # requests with both answers
    agreement: float | None = None  # share of compared requests with equal answers
    mean_abs_diff: float | None = None  # over compared numeric answers
    candidate_p50_ms: float | None = None
    candidate_p99_ms: float | None = None
    primary_p50_ms: float | None = None
    primary_p99_ms: float | None = None

    def summary(self) -> str:
        def ms(x: float | None) -> str:
            return "-" if x is None else f"{x:.1f} ms"

        agree = "-" if self.agreement is None else f"{self.agreement:.1%}"
        diff = "-" if self.mean_abs_diff is None else f"{self.mean_abs_diff:.4g}"
        return (f"shadow {self.candidate} vs {self.primary} ({self.share:.0%} mirrored): "
                f"{self.mirrored} copies, {self.answered} answered, errors {sum(self.errors.values())} "
                f"(primary {self.primary_errors}); agreement {agree}, mean |diff| {diff}; "
                f"p50/p99 {ms(self.candidate_p50_ms)}/{ms(self.candidate_p99_ms)} vs "
                f"{ms(self.primary_p50_ms)}/{ms(self.primary_p99_ms)}")


class _Side:
    __slots__ = ("start", "value", "error", "done")

    def __init__(self) -> None:
        self.start: float | None = None
        self.value: Any = None
        self.error: str | None = None
        self.done = False


class _Pair:
    __slots__ = ("primary", "candidate")

    def __init__(self) -> None:
        self.primary = _Side()
        self.candidate = _Side()


class ShadowMonitor:
    """Compares every mirror edge's candidate of ``dep`` with its primary, from the
    walker's events; :meth:`report` gives the figures, :meth:`close` stops it."""

    def __init__(self, dep: Any, maxsize: int = 100_000) -> None:
        self.pairs = mirror_pairs(dep.earg or {})
        self._primaries = {p: c for c, (_s, p, _f) in self.pairs.items() if p is not None}
        self._lock = threading.Lock()
        self._reports = {c: ShadowReport(c, p or "response", f) for c, (_s, p, f) in self.pairs.items()}
        self._open: dict[str, OrderedDict[int, _Pair]] = {c: OrderedDict() for c in self.pairs}
        self._lat: dict[str, tuple[deque[float], deque[float]]] = {
            c: (deque(maxlen=_KEEP), deque(maxlen=_KEEP)) for c in self.pairs}
        self._diffs: dict[str, list[float]] = {c: [0.0, 0.0] for c in self.pairs}  # sum, count
        self._equal: dict[str, int] = {c: 0 for c in self.pairs}
        self._starts: dict[int, float] = {}
        self.subscription = dep.subscribe(self._on_event, maxsize) if self.pairs else None

    def close(self) -> None:
        if self.subscription is not None:
            self.subscription.close()

    def report(self, candidate: str | None = None) -> ShadowReport:
        """The figures of ``candidate`` (the only one when None)."""
        if candidate is None:
            if len(self.pairs) != 1:
                raise ValueError(f"the graph mirrors to {sorted(self.pairs)}; name one")
            candidate = next(iter(self.pairs))
        with self._lock:
            r = self._reports[candidate]
            cand, prim = self._lat[candidate]
            total, n = self._diffs[candidate]
            return ShadowReport(
                r.candidate, r.primary, r.share, r.mirrored, r.answered, dict(r.errors), r.primary_errors,
                r.compared, self._equal[candidate] / r.compared if r.compared else None,
                total / n if n else None,
                _percentile(list(cand), 0.5), _percentile(list(cand), 0.99),
                _percentile(list(prim), 0.5), _percentile(list(prim), 0.99))

    # -- events ---------------------------------------------------------------------------
    def _pair(self, candidate: str, request: int) -> _Pair:
        pending = self._open[candidate]
        pair = pending.get(request)
        if pair is None:
            pair = pending[request] = _Pair()
            while len(pending) > _PENDING:  # a side that never comes: forget the oldest
                pending.popitem(last=False)
        return pair

    def _on_event(self, e: Any) -> None:
        kind, node = e.kind, e.node
        with self._lock:
            if kind == "started":
                self._starts[e.request] = e.time
                while len(self._starts) > _PENDING:
                    self._starts.pop(next(iter(self._starts)))
                return
            if node in self.pairs:
                self._candidate_event(e)
            elif node in self._primaries and kind in ("enqueued", "attempt"):
                self._primary_event(self._primaries[node], e)
            elif kind in ("completed", "failed"):
                self._response_event(e)

    def _candidate_event(self, e: Any) -> None:
        r = self._reports[e.node]
        pair = self._pair(e.node, e.request)
        side = pair.candidate
        if e.kind == "enqueued":
            r.mirrored += 1
            side.start = e.time
            return
        if e.kind != "attempt":
            return
        side.done = True
        if e.outcome == "ok":
            r.answered += 1
            side.value = e.value
            if side.start is not None:
                self._lat[e.node][0].append((e.time - side.start) * 1000.0)
        else:
            side.error = e.outcome
            r.errors[e.outcome] = r.errors.get(e.outcome, 0) + 1
        self._settle(e.node, e.request, pair)

    def _primary_event(self, candidate: str, e: Any) -> None:
        pair = self._pair(candidate, e.request)
        side = pair.primary
        if e.kind == "enqueued":
            side.start = e.time
        elif e.outcome == "ok":
            side.done, side.value, side.error = True, e.value, None
            if side.start is not None:
                self._lat[candidate][1].append((e.time - side.start) * 1000.0)
            self._settle(candidate, e.request, pair)

    def _response_event(self, e: Any) -> None:
        for candidate, (_src, primary, _f) in self.pairs.items():
            pending = self._open[candidate]
            pair = pending.get(e.request)
            if primary is None:
                if pair is None:
                    continue  # not mirrored
                side = pair.primary
                side.done = True
                if e.kind == "completed":
                    side.value = e.value
                    start = self._starts.get(e.request)
                    if start is not None:
                        self._lat[candidate][1].append((e.time - start) * 1000.0)
                else:
                    side.error = e.outcome or "failed"
                self._settle(candidate, e.request, pair)
            elif e.kind == "failed" and pair is not None and not pair.primary.done:
                pair.primary.done, pair.primary.error = True, e.outcome or "failed"
                self._settle(candidate, e.request, pair)
        self._starts.pop(e.request, None)

    def _settle(self, candidate: str, request: int, pair: _Pair) -> None:
        if not (pair.primary.done and pair.candidate.done):
            return
        self._open[candidate].pop(request, None)
        r = self._reports[candidate]
        if pair.primary.error is not None:
            r.primary_errors += 1
            return
        if pair.candidate.error is not None:
            return
        r.compared += 1
        if same_answer(pair.primary.value, pair.candidate.value):
            self._equal[candidate] += 1
        diff = abs_diff(pair.primary.value, pair.candidate.value)
        if diff is not None:
            acc = self._diffs[candidate]
            acc[0] += diff
            acc[1] += 1
