"""One model node under watch: its settings, its reference, its sliding windows and
the last drift computed from them.

The monitor's thread appends answers to the windows (bounded deques) in batches
(:meth:`NodeWatch.took_many`); the statistics run over a copy of them
(:meth:`NodeWatch.evaluate`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Mapping

from . import stats
from .feedback import DEFAULT_HORIZON
from .reference import Reference, columns_of, output_columns

__all__ = ["DEFAULT_WINDOW", "HISTORY", "NodeSettings", "NodeWatch", "payload_rows", "row_count", "rows_of"]

DEFAULT_WINDOW = 1_000
HISTORY = 720  # drift readings kept per node for the panels (an hour at 5 s)


@dataclass(frozen=True)
class NodeSettings:
    """A node's ``quality`` entry of its EARG document, with defaults applied."""

    name: str
    reference: str | None = None
    window: int = DEFAULT_WINDOW
    metric: str = "psi"
    threshold: float = stats.DEFAULT_THRESHOLDS["psi"]
    feedback: bool = False
    horizon: float = DEFAULT_HORIZON  # seconds
    task: str | None = None

    @classmethod
    def of(cls, name: str, entry: Mapping[str, Any] | None) -> NodeSettings:
        e = entry or {}
        metric = e.get("drift_metric") or "psi"
        threshold = e.get("drift_threshold")
        return cls(name, (e.get("reference") or {}).get("path"), int(e.get("drift_window") or DEFAULT_WINDOW),
                   metric, float(stats.DEFAULT_THRESHOLDS[metric] if threshold is None else threshold),
                   bool(e.get("feedback")), float(e.get("feedback_horizon_ms") or DEFAULT_HORIZON * 1000) / 1000,
                   e.get("task"))


def payload_rows(value: Any) -> list[Any]:
    """A model node's input (or output) as rows: a list of rows stays one, anything
    else is one row."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        value = tolist()
    if isinstance(value, list) and value and isinstance(value[0], (list, tuple, dict)):
        return value
    return [value]


def rows_of(values: list[Any]) -> list[Any]:
    """Many inputs (or outputs) as their rows, one list: :func:`payload_rows` of each,
    with the usual case (a plain list: one row, or a list of rows) taken in the loop."""
    out: list[Any] = []
    append, extend = out.append, out.extend
    for value in values:
        if type(value) is list:
            if value and isinstance(value[0], (list, tuple, dict)):
                extend(value)
            else:
                append(value)
        else:
            extend(payload_rows(value))
    return out


def row_count(value: Any) -> int:
    """How many rows :func:`payload_rows` makes of ``value``, without making them."""
    if isinstance(value, list):
        return len(value) if value and isinstance(value[0], (list, tuple, dict)) else 1
    shape = getattr(value, "shape", None)
    if shape is not None:
        return shape[0] if len(shape) > 1 and shape[0] else 1
    return 1


def _numeric_columns(rows: list[Any], names: list[str]) -> dict[str, Any] | None:
    """Rows of numbers as one float matrix's columns (the common case, without a
    Python loop per value); None when the rows are not all equal-length numbers."""
    import numpy as np

    if not rows or not isinstance(rows[0], (list, tuple)):
        return None
    try:
        matrix = np.asarray(rows, dtype=float)
    except (TypeError, ValueError):
        return None
    if matrix.ndim != 2 or matrix.shape[1] != len(names):
        return None
    return {name: matrix[:, i] for i, name in enumerate(names)}


def _compared(summaries: Mapping[str, Any], cols: Mapping[str, Any], s: NodeSettings) -> dict[str, stats.FeatureDrift]:
    """Each column's drift against its summary. The GIL is offered to the request
    threads after each one: a request that came meanwhile waits for one feature's
    statistics, not for the switch interval of a whole window's."""
    out = {}
    for name, summary in summaries.items():
        out[name] = summary.compare(cols.get(name, []), s.metric, s.threshold)
        time.sleep(0)
    return out


class _Capture:
    def __init__(self, n: int) -> None:
        self.n = n
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self.future: Future = Future()


class NodeWatch:
    """The windows and findings of one node."""

    def __init__(self, settings: NodeSettings, reference: Reference | None = None) -> None:
        self.settings = settings
        self.reference = reference
        self.keeps = bool(settings.feedback)  # its predictions go to the feedback store
        self.inputs: deque[Any] = deque(maxlen=settings.window)
        self.outputs: deque[Any] = deque(maxlen=settings.window)
        self.seen = 0  # input rows since start
        self.evaluated_at = -1  # ``seen`` when drift was last computed
        self.drift: dict[str, stats.FeatureDrift] = {}
        self.output_drift: dict[str, stats.FeatureDrift] = {}
        self.history: deque[tuple[float, float, dict[str, float]]] = deque(maxlen=HISTORY)
        self.scores: dict[str, float] = {}
        self.quality_history: deque[tuple[float, dict[str, float]]] = deque(maxlen=HISTORY)
        self.capture: _Capture | None = None
        self._lock = threading.Lock()

    @property
    def watching(self) -> bool:
        """Whether inputs are kept: a reference to compare with, or a capture under way."""
        return self.reference is not None or self.capture is not None

    # -- from the monitor's thread ------------------------------------------------------
    def took_many(self, inputs: list[Any], outputs: list[Any]) -> None:
        """The inputs and outputs of a batch of answered requests, at once. Only the
        last ``window`` of them can stay in the windows: the others are only counted
        (unless a capture under way wants them all)."""
        cap = self.capture
        counted = 0
        if cap is None and len(inputs) > self.settings.window:
            window = self.settings.window
            counted = sum(map(row_count, inputs[:-window]))
            inputs, outputs = inputs[-window:], outputs[-window:]
        ins = rows_of(inputs)
        outs = rows_of(outputs)
        with self._lock:
            self.inputs.extend(ins)
            self.outputs.extend(outs)
            self.seen += counted + len(ins)
            if cap is not None and self.capture is cap:
                cap.inputs.extend(ins)
                cap.outputs.extend(outs)

    # -- reference capture --------------------------------------------------------------
    def start_capture(self, n: int) -> Future:
        with self._lock:
            if self.capture is not None:
                return self.capture.future
            self.capture = _Capture(n)
            return self.capture.future

    def finish_capture(self) -> Reference | None:
        """Summarise a capture that has its ``n`` rows: it becomes the reference."""
        with self._lock:
            cap = self.capture
            if cap is None or len(cap.inputs) < cap.n:
                return None
            self.capture = None
            inputs, outputs = cap.inputs[:cap.n], cap.outputs[:cap.n]
        names = self.reference.names if self.reference is not None else None
        ref = Reference.from_rows(inputs, outputs or None, names=names, source="traffic")
        with self._lock:
            self.reference = ref
            self.evaluated_at = -1
        cap.future.set_result(ref)
        return ref

    # -- on the monitor's thread --------------------------------------------------------
    def evaluate(self, now: float | None = None) -> bool:
        """Compare the windows with the reference if new rows came; True if it did."""
        ref = self.reference
        with self._lock:
            if ref is None or self.seen == self.evaluated_at or not self.inputs:
                return False
            inputs, outputs, seen = list(self.inputs), list(self.outputs), self.seen
        s = self.settings
        numeric = all(f.kind == "numeric" for f in ref.features.values())
        cols = (_numeric_columns(inputs, ref.names) if numeric else None) or columns_of(inputs, ref.names)
        self.drift = _compared(ref.features, cols, s)
        if ref.outputs and outputs:
            self.output_drift = _compared(ref.outputs, output_columns(outputs), s)
        self.history.append((time.time() if now is None else now, self.share,
                             {k: d.scores()[s.metric if s.metric in d.scores() else "psi"]
                              for k, d in self.drift.items()}))
        self.evaluated_at = seen  # last: a reader seeing it sees the drift of those rows
        return True

    @property
    def share(self) -> float:
        return stats.drift_share(self.drift)

    def report(self) -> dict[str, Any]:
        s = self.settings
        out: dict[str, Any] = {
            "window": s.window, "rows_seen": self.seen, "rows_in_window": len(self.inputs),
            "metric": s.metric, "threshold": s.threshold,
            "reference": None if self.reference is None else {
                "source": self.reference.source, "sha256": self.reference.sha256,
                "features": self.reference.names},
            "drift_share": self.share if self.drift else None,
            "drifted": sorted(k for k, d in self.drift.items() if d.drifted),
            "features": [d.as_dict() for d in self.drift.values()],
            "outputs": [d.as_dict() for d in self.output_drift.values()],
            "quality": dict(self.scores),
        }
        if self.capture is not None:
            out["capture"] = {"wanted": self.capture.n, "rows": len(self.capture.inputs)}
        return out
