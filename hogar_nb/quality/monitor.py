"""The quality monitor of one deployment: model nodes' answers in, drift and quality out.

:class:`QualityMonitor` takes each model node's input, output and request id off
the request path. On the embedded engine the walker appends them to a capture of
the model nodes (``dep.capture_answers``): one tuple per answered attempt, in a
bounded deque, no event and no thread woken per request. On Ray, where the walker
runs in the ingress, it subscribes to the walker's ``enqueued`` and ``attempt``
events instead. Its own daemon thread takes what came every ``TAKE_EVERY`` seconds,
in batches: inputs and outputs to each node's windows, outputs with their request
ids to a buffer of predictions; every ``interval`` seconds it writes the buffer to
the feedback store in one transaction, compares each window with its reference,
scores the labelled predictions and evaluates the alert rules. Answers that find
the capture (or the subscription's queue) full are counted in :attr:`dropped`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from .errors import FeedbackError, QualityError, UnknownModelNodeError
from .feedback import FeedbackStore, default_store_path
from .nodes import NodeSettings, NodeWatch
from .reference import Reference

__all__ = ["QualityMonitor"]

EVENT_QUEUE = 100_000  # answers (or events) waiting for the monitor; more are dropped (and counted)
TAKE_EVERY = 0.05  # seconds between two takes of the captured answers
#: seconds a label for a request not seen yet waits for its prediction (on Ray the
#: walker's events reach the driver in batches, a moment after the answer)
LABEL_GRACE = 2.0
_NO_INPUT = object()  # on Ray: an answer whose input's event was lost (counted in dropped)
MAX_PARKED = 100_000  # labels waiting at once; past it the oldest are counted unknown


class QualityMonitor:
    """Drift and quality of every model node of ``dep``; see the module's docstring.

    ``store``: the feedback store's file (default: ``.hogar/<graph>.feedback.sqlite``
    beside the graph file, or the user's data directory); ``interval``: seconds
    between evaluations; ``queue``: answers (on Ray: events) that may wait for the
    monitor's thread, past which they are dropped and counted.
    """

    def __init__(self, dep: Any, store: str | Path | None = None, interval: float = 1.0,
                 label_grace: float = LABEL_GRACE, queue: int = EVENT_QUEUE) -> None:
        from .files import load_reference

        self.dep = dep
        self.interval = interval
        self.label_grace = label_grace
        self._parked: deque[tuple[float, str, Any]] = deque()  # (until, request id, label)
        self._parked_lock = threading.Lock()
        doc = dep.earg or {}
        plan = getattr(dep, "_plan", None)
        self.base_dir: Path | None = getattr(plan, "base_dir", None)
        self.nodes: dict[str, NodeWatch] = {}
        for entry in doc.get("nodes") or []:
            if entry.get("kind") != "model":
                continue
            settings = NodeSettings.of(entry["name"], entry.get("quality"))
            ref = None
            if settings.reference:
                ref = load_reference(settings.reference, self.base_dir or Path.cwd())
            self.nodes[settings.name] = NodeWatch(settings, ref)
        self.edges = [(e["src"], e["dst"]) for e in doc.get("edges") or []]
        self.kinds = {n["name"]: n.get("kind") for n in doc.get("nodes") or []}
        horizons = [w.settings.horizon for w in self.nodes.values() if w.settings.feedback]
        self.feedback_nodes = {n for n, w in self.nodes.items() if w.settings.feedback}
        self.store: FeedbackStore | None = None
        if self.feedback_nodes:
            path = store if store is not None else default_store_path(dep.name, self.base_dir)
            self.store = FeedbackStore(path, horizon=max(horizons))
        self._pending: list[tuple[str, str, Any, float]] = []
        self._pending_lock = threading.Lock()
        self._scored = -1  # matched labels when the scores were last computed
        self._arm_cache: dict[str, tuple[tuple, dict]] = {}  # split -> (key, arm_scores)
        self.alerts: Any = None  # set by attach_alerts
        self.evaluations = 0
        self._closed = threading.Event()
        self._round = threading.Lock()
        self._take_lock = threading.Lock()  # one take at a time: answers reach the buffer in order
        self._sub: Any = None
        self._inputs: dict[tuple[Any, str], Any] = {}  # on Ray: inputs waiting for their answer
        self._capture = dep.capture_answers(list(self.nodes), queue) if self.nodes else None
        if self._capture is None:
            # a model node's input and output are all it needs: no request's start or
            # end event is made for it
            self._sub = dep.subscribe(self._on_event, maxsize=queue, kinds=("enqueued", "attempt"))
        self._thread = threading.Thread(target=self._run, name=f"hogar-quality-{dep.name}", daemon=True)
        self._thread.start()

    # -- the observer (deployment's thread; on Ray) ----------------------------------------
    def _on_event(self, event: Any) -> None:
        """A model node's input waits for its answer; the two then go on together, as
        the embedded engine's capture hands them over (an input the node refused
        reaches no window). Inputs whose answer never comes are forgotten past
        ``queue`` of them."""
        if event.node not in self.nodes:
            return
        ctx = event.context
        key = (event.request if ctx is None else ctx.request_id, event.node)
        if event.kind == "enqueued":
            if event.attempt == 0:
                inputs = self._inputs
                inputs[key] = event.value
                if len(inputs) > self._sub.maxsize:
                    del inputs[next(iter(inputs))]
        elif event.outcome == "ok":
            payload = self._inputs.pop(key, _NO_INPUT)
            self._took([(event.node, ctx, payload, event.value, event.time, event.shadow)])

    # -- the monitor's thread -----------------------------------------------------------
    def take(self) -> int:
        """Hand the answers captured so far to the windows and the predictions'
        buffer (on Ray: deliver the events queued so far); returns how many."""
        with self._take_lock:
            if self._capture is None:
                return self._sub.drain() if self._sub is not None else 0
            items = self._capture.take()
            if items:
                self._took(items)
            return len(items)

    def _took(self, items: list[tuple]) -> None:
        by_node: dict[str, list[tuple]] = {}
        for item in items:
            by_node.setdefault(item[0], []).append(item)
        kept: list[tuple[str, str, Any, float]] = []
        for node, answers in by_node.items():
            watch = self.nodes[node]
            if watch.watching:
                watch.took_many([a[2] for a in answers if a[2] is not _NO_INPUT], [a[3] for a in answers])
            if watch.keeps:
                kept += [(ctx.request_id, node, value, t) for _n, ctx, _p, value, t, _s in answers
                         if ctx is not None]
        if kept:
            with self._pending_lock:
                self._pending += kept

    def _run(self) -> None:
        due = time.monotonic() + self.interval
        while not self._closed.wait(TAKE_EVERY if self._capture is not None else self.interval):
            try:
                self.take()
                if time.monotonic() >= due:
                    due = time.monotonic() + self.interval
                    self.evaluate()
            except Exception as exc:  # a bad window or label must not end the watch
                self.last_error = f"{type(exc).__name__}: {exc}"

    last_error: str | None = None

    def flush(self) -> int:
        """Write the buffered predictions to the feedback store; returns how many."""
        with self._pending_lock:
            rows, self._pending = self._pending, []
        if self.store is None or not rows:
            return 0
        return self.store.add_predictions(rows)

    def evaluate(self) -> None:
        """One round: predictions stored, captures finished, drift and quality
        computed, alert rules evaluated (the thread calls it every ``interval``)."""
        with self._round:  # one round at a time: a caller's round waits for the thread's
            self._evaluate()

    def _evaluate(self) -> None:
        from .scores import quality_scores

        self.take()
        self.flush()
        now = time.time()
        for watch in self.nodes.values():
            watch.finish_capture()
            watch.evaluate(now)
        self._retry_parked(now)
        if self.store is not None and self.store.totals["matched"] != self._scored:
            self._scored = self.store.totals["matched"]
            for name in sorted(self.feedback_nodes):
                watch = self.nodes[name]
                watch.scores = quality_scores(self.store.labelled(name), watch.settings.task)
                watch.quality_history.append((now, dict(watch.scores)))
        if self.alerts is not None:
            self.alerts.evaluate(now)
        self.evaluations += 1

    # -- what users call ----------------------------------------------------------------
    def feedback(self, labels: Iterable[tuple[str, Any]]) -> dict[str, int]:
        """Join labels with the predictions of their requests; returns the count of
        each outcome (matched, unknown, expired, duplicate)."""
        if self.store is None:
            raise FeedbackError(f"graph {self.dep.name!r} keeps no predictions: give a model node "
                                "`feedback = true` to score delayed labels")
        self.take()  # answers already captured (the request was answered) are in
        self.flush()
        held: list[tuple[str, Any]] = []
        counts = self.store.add_labels(list(labels), held if self.label_grace > 0 else None)
        until = time.time() + self.label_grace
        with self._parked_lock:
            self._parked.extend((until, rid, label) for rid, label in held)
            overflow = [self._parked.popleft() for _ in range(max(0, len(self._parked) - MAX_PARKED))]
        if overflow:
            self.store.add_labels([(rid, label) for _t, rid, label in overflow])
        counts["pending"] = len(held)
        return counts

    def _retry_parked(self, now: float) -> None:
        """Labels that waited for their prediction: matched now, or unknown once due."""
        if self.store is None:
            return
        with self._parked_lock:
            parked, self._parked = list(self._parked), deque()
        if not parked:
            return
        due = [(rid, label) for until, rid, label in parked if until <= now]
        waiting = [(until, rid, label) for until, rid, label in parked if until > now]
        if due:
            self.store.add_labels(due)
        held: list[tuple[str, Any]] = []
        self.store.add_labels([(rid, label) for _u, rid, label in waiting], held)
        still = {rid for rid, _ in held}
        with self._parked_lock:
            self._parked.extendleft(reversed([p for p in waiting if p[1] in still]))

    @property
    def labels_pending(self) -> int:
        """Labels waiting for their request's prediction (at most ``label_grace`` s)."""
        return len(self._parked)

    def capture_reference(self, node: str, n: int = 5_000) -> Future:
        """Take the next ``n`` inputs (and outputs) of ``node`` as its reference; the
        Future holds the new :class:`Reference` once they came."""
        watch = self._watch(node)
        if not isinstance(n, int) or isinstance(n, bool) or not 10 <= n <= 1_000_000:
            raise QualityError(f"got {n!r} for n; expected an integer between 10 and 1000000")
        return watch.start_capture(n)

    def set_reference(self, node: str, reference: Reference) -> None:
        """Compare ``node``'s inputs with ``reference`` from now on."""
        watch = self._watch(node)
        watch.reference = reference
        watch.evaluated_at = -1

    def _watch(self, node: str) -> NodeWatch:
        try:
            return self.nodes[node]
        except KeyError:
            raise UnknownModelNodeError(f"{node!r} is not a model node of graph {self.dep.name!r}; "
                               f"they are {sorted(self.nodes)}") from None

    def arm_scores(self, split: str, since: float | None = None) -> dict[str, dict[str, Any]]:
        """Quality of each arm of ``split`` from its labelled predictions served at or
        after ``since`` (epoch s): ``{arm: {"node": model node, "accuracy": ..., "labelled": n}}``
        for the arms whose branch has a model node with ``feedback = true`` (what a
        rollout's quality gate compares). Recomputed only when new labels matched."""
        from .report import split_variants
        from .scores import quality_scores

        if self.store is None:
            return {}
        arms = split_variants(self.edges, self.kinds, self.feedback_nodes).get(split, {})
        key = (split, since, self.store.totals["matched"])
        cached = self._arm_cache.get(split)
        if cached is not None and cached[0] == key:
            return cached[1]
        out = {arm: {"node": node, **quality_scores(self.store.labelled(node, since=since),
                                                    self.nodes[node].settings.task)}
               for arm, node in arms.items()}
        self._arm_cache[split] = (key, out)
        return out

    def report(self) -> dict[str, Any]:
        """Drift, quality and label counts per model node, and per variant of each split."""
        from .report import quality_report

        return quality_report(self)

    @property
    def dropped(self) -> int:
        """Answers (on Ray: walker events) the monitor lost because it fell behind."""
        if self._capture is not None:
            return self._capture.dropped
        return self._sub.dropped if self._sub is not None else 0

    def close(self) -> None:
        """Stop watching: the subscription, the thread, the store."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._capture is not None:
            self.dep.end_capture(self._capture)
        else:
            self._sub.close()
        self._thread.join(timeout=5)
        try:
            self.take()
            self.flush()
        finally:
            if self.store is not None:
                self.store.close()
