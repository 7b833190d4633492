"""The live views' own widgets in the kernel: what they send the page, and when a
closed dashboard's widgets close."""

from __future__ import annotations

import time

import plotly.graph_objects as go

from hogar_nb.jupyter.browser_libs import cytoscape_source, plotly_source
from hogar_nb.jupyter.live_graph import LiveGraph
from hogar_nb.jupyter.monitor.plot_panels import PlotPanels
from hogar_nb.jupyter.monitor.visibility import Visibility
from hogar_nb.jupyter.rendering import close_when_started


def _recorded(widget) -> list:
    sent: list = []
    send = widget.send
    widget.send = lambda content, buffers=None: (sent.append(content), send(content, buffers))
    return sent


def _graph() -> LiveGraph:
    elements = [{"data": {"id": n, "label": n, "health": "idle"}, "position": {"x": i * 100, "y": 0}}
                for i, n in enumerate("abc")]
    elements.append({"data": {"id": "a->b", "source": "a", "target": "b"}})
    return LiveGraph(elements, [{"selector": "node", "style": {"label": "data(label)"}}])


def test_live_graph_sends_the_changed_keys_of_the_changed_nodes_in_one_message() -> None:
    graph = _graph()
    sent = _recorded(graph)
    graph.set_nodes({"a": {"health": "ok", "label": "a"}, "b": {"health": "idle"}, "zz": {"health": "ok"}})
    assert sent == [{"nodes": {"a": {"health": "ok"}}}]  # b unchanged, zz not a node, a's label the same
    graph.set_nodes({"a": {"health": "ok"}})
    assert len(sent) == 1  # nothing changed: nothing sent
    assert graph.node_data("a") == {"id": "a", "label": "a", "health": "ok"}
    # a view that starts later asks for every node's data (the page's message, through the comm handler)
    graph._handle_custom_msg({"event": "shown"}, [])
    assert sent[-1]["nodes"]["a"]["health"] == "ok" and set(sent[-1]["nodes"]) == {"a", "b", "c"}
    graph.close()


def test_plot_panels_send_only_the_figures_that_changed() -> None:
    figs = [go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="t")) for _ in range(3)]
    panels = PlotPanels(figs)
    sent = _recorded(panels)
    assert panels.sync() == 3 and set(sent[0]["figures"]) == {"0", "1", "2"}
    assert panels.sync() == 0 and len(sent) == 1
    figs[1].data[0].y = [5, 6]
    assert panels.sync() == 1 and list(sent[-1]["figures"]) == ["1"]
    assert sent[-1]["figures"]["1"]["data"][0]["y"] == [5, 6]
    panels.close()


def test_the_widgets_modules_stay_small_and_carry_their_library_apart() -> None:
    """anywidget gives a model two seconds to start: the module it imports per widget
    is a few kilobytes; the library goes in a trait that the page imports once."""
    graph, panels = _graph(), PlotPanels([go.Figure()])
    assert len(LiveGraph._esm) < 10_000 and len(PlotPanels._esm) < 10_000
    assert graph._lib == cytoscape_source() and panels._lib == plotly_source()
    assert graph._lib_key.startswith("cytoscape@") and panels._lib_key.startswith("plotly.js@")
    graph.close()
    panels.close()


def test_widgets_close_once_their_view_started_or_after_the_grace_period() -> None:
    started, never = Visibility(), Visibility()
    started._handle_custom_msg({"event": "rendered"}, [])  # what the page sends when a view rendered
    close_when_started([started, never], grace=0.5)
    assert started.comm is None and never.comm is not None
    end = time.monotonic() + 10
    while never.comm is not None and time.monotonic() < end:
        time.sleep(0.05)
    assert never.comm is None
