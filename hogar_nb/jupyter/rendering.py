"""Closing a view's widgets only once the page has started them.

A view whose box is closed while the page still starts its children (a loaded
machine, a large output) would have the models of those children closed under
views that have not rendered yet; anywidget then fails those views ("Runtime not
found", an aborted model) in the browser console. The widgets of this package
report from the page when a view of theirs has rendered (:class:`RenderReport`), and
:func:`close_when_started` closes each one once it has, or after a grace period
when no page shows it.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterable

__all__ = ["RENDERED_JS", "RenderReport", "close_when_started"]

#: the first statement of a widget's ``render``: tells the kernel a view of it started
RENDERED_JS = "model.send({event: 'rendered'});"


class RenderReport:
    """Mixin for an anywidget whose ``render`` runs :data:`RENDERED_JS`: ``rendered`` is
    set once a view of it has started in the page."""

    rendered: threading.Event

    def _watch_rendering(self) -> None:
        self.rendered = threading.Event()
        self.on_msg(self._on_rendered)  # type: ignore[attr-defined]

    def _on_rendered(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "rendered":
            self.rendered.set()


def close_when_started(widgets: Iterable[Any], grace: float = 5.0) -> None:
    """Close each widget now if no view of it can still be starting in the page (it
    reported a rendered view, or it does not report), else once it reports or after
    ``grace`` seconds, from a thread of its own."""
    waiting = []
    for widget in widgets:
        rendered = getattr(widget, "rendered", None)
        if rendered is None or rendered.is_set():
            widget.close()
        else:
            waiting.append(widget)
    if not waiting:
        return

    def close_later() -> None:
        deadline = time.monotonic() + grace
        for widget in waiting:
            widget.rendered.wait(max(0.0, deadline - time.monotonic()))
            widget.close()

    threading.Thread(target=close_later, name="hogar-close-views", daemon=True).start()
