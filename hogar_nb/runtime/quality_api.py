"""What a deployment offers for the quality of its models; :mod:`hogar_nb.quality` does
the work, reached through the front-end registry (the runtime imports none of it)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["QualityMixin"]


class QualityMixin:
    """``quality_monitor``, ``stop_quality_monitor``, ``quality``, ``feedback`` and
    ``capture_reference`` of :class:`~hogar_nb.runtime.base.DeploymentBase`."""

    _quality: Any  # hogar_nb.quality's monitor, once started
    _observers_lock: threading.Lock
    _stopped: bool
    _stopped_error: Callable[[], Exception]  # DeploymentBase's

    def quality_monitor(self, start: bool = True, **options: Any) -> Any:
        """The deployment's quality monitor (drift against references, delayed labels,
        alert rules), started on first use; ``options`` (``store``, ``interval``) apply
        then, and ``start=False`` returns None instead of starting it. A graph with a
        model node's ``reference``/``feedback`` or an alert rule starts it with the
        deployment. Needs the ``quality`` extra."""
        with self._observers_lock:
            if self._quality is None and start:
                if self._stopped:
                    raise self._stopped_error()
                from .._frontends import frontend

                self._quality = frontend("quality")(self, **options)
            return self._quality

    def stop_quality_monitor(self) -> None:
        """Stop watching: the monitor's thread and captures end, its buffered
        predictions are written and its store closed; requests no longer pay for it.
        The next :meth:`quality_monitor` starts a fresh one (with the same store file,
        so labels still find the predictions kept before). A rollout with a quality
        gate reads the monitor it started with: stop watching after the rollout."""
        with self._observers_lock:
            monitor, self._quality = self._quality, None
        if monitor is not None:
            monitor.close()

    def quality(self) -> dict[str, Any]:
        """Drift per feature, model quality and label counts per model node, and per
        variant of each split (what ``GET /hogar/v1/quality`` answers)."""
        report: dict[str, Any] = self.quality_monitor().report()
        return report

    def feedback(self, request_id: str, label: Any) -> dict[str, int]:
        """The true ``label`` of the request ``request_id`` (its ``context.request_id``,
        the HTTP ``x-request-id``), joined with the predictions kept for it; returns
        the count of each outcome: matched, unknown, expired or duplicate, and
        pending: a label that waits a moment for a prediction not seen yet."""
        counts: dict[str, int] = self.quality_monitor().feedback([(request_id, label)])
        return counts

    def capture_reference(self, node: str, n: int = 5_000) -> Future:
        """Take the next ``n`` inputs (and outputs) of model node ``node`` as its
        reference; the Future holds the summarised reference once they came."""
        fut: Future = self.quality_monitor().capture_reference(node, n)
        return fut
