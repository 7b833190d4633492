"""The monitor's canvas: a :class:`~.cytoscape_canvas.CytoscapeCanvas` whose node data
follows the kernel, one message per change.

:class:`LiveGraph` is drawn once from ``elements`` (with preset positions); then
:meth:`~.cytoscape_canvas.CytoscapeCanvas.set_nodes` sends the data of the nodes that
changed, all of them in one message, which the page applies in one cytoscape
``batch()`` at the next animation frame (several messages in a frame are merged), so
a tick that recolours many nodes costs one style pass, and nothing while the page is
not painted. Keys named in ``deferred_offscreen`` (a label, whose text is laid out
again) wait while their node is out of the canvas's view. A graph too large to fit
at zoom 0.5 is shown from its left end. A view shown later (a second output, a
reloaded page) asks for the current data of every node when it starts. A click on a
node calls the callbacks given to :meth:`LiveGraph.on_node_click` with its data.
"""

from __future__ import annotations

from typing import Any, Callable

from .cytoscape_canvas import CytoscapeCanvas

__all__ = ["LiveGraph"]

#: the first framing never zooms in past 1.5, nor out past 0.5: the graph is panned instead
LIVE_FRAMING = {"policy": "readable", "min_zoom": 0.5, "max_zoom": 1.5, "padding": 10.0}


class LiveGraph(CytoscapeCanvas):
    """A cytoscape canvas of ``elements`` styled by ``stylesheet``; node data follows
    :meth:`set_nodes`."""

    def __init__(self, elements: list[dict], stylesheet: list[dict], **kwargs: Any) -> None:
        super().__init__(elements, stylesheet, framing={**LIVE_FRAMING, **kwargs.pop("framing", {})}, **kwargs)

    def on_node_click(self, callback: Callable[[dict], Any]) -> None:
        """Call ``callback(data)`` when a node is clicked in the page."""
        self.on("node", "tap", lambda event: callback(event["data"]))
