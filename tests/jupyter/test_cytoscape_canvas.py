"""The cytoscape canvas in the kernel: what it sends the page for each change, and
how it answers the page's events (the messages go through the comm handler)."""

from __future__ import annotations

import pytest

from hogar_nb.jupyter.cytoscape_canvas import CytoscapeCanvas


def _recorded(widget) -> list:
    sent: list = []
    send = widget.send
    widget.send = lambda content, buffers=None: (sent.append(content), send(content, buffers))
    return sent


def _node(i: str, x: float = 0.0, **data) -> dict:
    return {"data": {"id": i, "label": i, **data}, "classes": "kind-python", "position": {"x": x, "y": 0.0}}


def _edge(s: str, t: str) -> dict:
    return {"data": {"id": f"{s}->{t}", "source": s, "target": t}, "classes": "directed"}


def page(canvas, content: dict) -> None:
    canvas._handle_custom_msg(content, [])  # what the page's script sends


def test_before_any_view_changes_go_into_the_elements_a_view_draws() -> None:
    canvas = CytoscapeCanvas([_node("a"), _node("b", 100)])
    sent = _recorded(canvas)
    canvas.set_elements([_node("a"), _node("b", 100), _node("c", 200), _edge("a", "b")])
    assert sent == [] and [el["data"]["id"] for el in canvas.elements] == ["a", "b", "c", "a->b"]
    page(canvas, {"event": "shown"})
    assert sent == []  # the view drew the current elements: nothing to catch up on
    canvas.close()


def test_once_shown_only_the_difference_is_sent_in_one_message() -> None:
    canvas = CytoscapeCanvas([_node("a"), _node("b", 100), _edge("a", "b")])
    page(canvas, {"event": "shown"})
    sent = _recorded(canvas)
    canvas.set_elements([_node("a", 5, problems="x"), _node("c", 200),
                         {**_edge("a", "c"), "classes": "directed diag-error"}])
    assert sent == [{
        "remove": ["a->b", "b"],  # the edge before the node it joins
        "add": [{"data": {"id": "c", "label": "c"}, "classes": "kind-python", "position": {"x": 200.0, "y": 0.0}},
                {"data": {"id": "a->c", "source": "a", "target": "c"}, "classes": "directed diag-error"}],
        "change": {"a": {"data": {"problems": "x"}, "position": {"x": 5.0, "y": 0.0}}},
    }]
    canvas.set_elements([{**_node("a", 5), "classes": "kind-python editor-selected"}, _node("c", 200),
                         {**_edge("a", "c"), "classes": "directed diag-error"}])
    assert sent[-1] == {"change": {"a": {"data": {"problems": None}, "classes": "kind-python editor-selected"}}}
    canvas.set_elements(canvas.snapshot())
    assert len(sent) == 2  # nothing differs: nothing sent
    # a view shown later (a reload) gets the whole current graph, as the kernel has it
    page(canvas, {"event": "shown"})
    assert [el["data"]["id"] for el in sent[-1]["reset"]] == ["a", "c", "a->c"]
    assert canvas.element("a")["classes"] == "kind-python editor-selected"
    canvas.close()


def test_events_reach_the_callbacks_of_their_target_only() -> None:
    canvas = CytoscapeCanvas([_node("a"), _node("b", 100), _edge("a", "b")])
    got: list = []
    canvas.on("node", "mouseup", lambda e: got.append(("up", e)))
    canvas.on("edge", "tap", lambda e: got.append(("edge", e)))
    assert canvas.events == ["node:mouseup", "edge:tap"]  # what the page reports, nothing else
    page(canvas, {"event": "mouseup", "target": "node", "data": {"id": "a"}, "position": {"x": 31, "y": 4.5}})
    page(canvas, {"event": "mouseup", "target": "edge", "data": {"id": "a->b"}, "position": {"x": 1, "y": 1}})
    page(canvas, {"event": "tap", "target": "edge", "data": {"id": "a->b", "source": "a", "target": "b"},
                  "position": {"x": 50, "y": "?"}})
    page(canvas, {"event": "tap", "target": "node", "data": "a"})  # not what the script sends: ignored
    assert got == [("up", {"data": {"id": "a"}, "position": {"x": 31.0, "y": 4.5}}),
                   ("edge", {"data": {"id": "a->b", "source": "a", "target": "b"}})]
    with pytest.raises(ValueError, match="expected one of node, edge, background"):
        canvas.on("nodes", "tap", print)
    canvas.close()


def test_grabbability_and_fit_are_the_page_s_to_apply() -> None:
    canvas = CytoscapeCanvas([{**_node("box"), "grabbable": False}, _node("a")])
    assert canvas.elements[0]["grabbable"] is False and "grabbable" not in canvas.elements[1]
    sent = _recorded(canvas)
    canvas.grabbable = False  # a synced trait: the page sets cytoscape's autoungrabify
    canvas.fit()
    assert sent == [{"fit": True}]
    canvas.close()
