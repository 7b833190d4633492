"""Subgraph instances on the canvas of the graph view and of the editor: a box that
collapses into one node carrying the instance's outside edges, expands back, and
shows the file it was made from."""

from __future__ import annotations

import hogar_nb
import hogar_nb.jupyter  # noqa: F401 - registers the editor
from hogar_nb.jupyter.editor import edit
from hogar_nb.jupyter.graph_view import GraphView
from hogar_nb.jupyter.subgraph_view import Folding

PREP = 'source raw\npython clean { impl = "m:f" }\npython scale { impl = "m:f" }\nsink done\nraw -> clean -> scale -> done\n'
WRAP = 'use prep = "prep.udgl"\nsource raw\nprep inner\nsink done\nraw -> inner -> done\n'
MAIN = ('use prep = "prep.udgl"\nuse wrap = "wrap.udgl"\nsource s\nswitch route { impl = "m:f" }\nprep p\nwrap w\n'
        'python side { impl = "m:f" }\nsink out\ns -> route\nroute -> p { when = "a" }\nroute -> w { when = "*" }\n'
        'p -> side -> out\nw -> out\n')


def graph(tmp_path):
    (tmp_path / "prep.udgl").write_text(PREP)
    (tmp_path / "wrap.udgl").write_text(WRAP)
    return hogar_nb.parse_udgl(MAIN, base_dir=tmp_path)


def drawn(canvas) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """``({node id: classes}, {(source, target)})`` of what a canvas widget displays
    (elements in the class ``folded`` are not displayed)."""
    shown = [el for el in canvas.snapshot() if "folded" not in el["classes"].split()]
    return ({el["data"]["id"]: el["classes"] for el in shown if "source" not in el["data"]},
            {(el["data"]["source"], el["data"]["target"]) for el in shown if "source" in el["data"]})


def click(canvas, node: str) -> None:
    """A click on ``node`` as the canvas's page script reports it."""
    canvas._handle_custom_msg({"event": "tap", "target": "node", "data": {"id": node},
                               "position": {"x": 0.0, "y": 0.0}}, [])


def editor_drawn(editor) -> tuple[dict[str, str], set[tuple[str, str]]]:
    return drawn(editor.canvas.widget)


def test_folding_draws_a_collapsed_instance_as_one_node_with_its_outside_edges(tmp_path) -> None:
    g = graph(tmp_path)
    assert {"p.clean", "p.scale", "w.inner.clean", "w.inner.scale"} <= set(g.nodes)
    folding = Folding(g, {"p", "w.inner", "gone"})
    assert folding.collapsed == {"p", "w.inner"}  # an instance the graph no longer has is ignored
    assert folding.shown("p.scale") == "folded:p" and folding.shown("w.inner.clean") == "folded:w.inner"
    assert folding.shown("side") == "side"
    assert [b["id"] for b in folding.boxes()] == ["use:w"]  # w stays a box, around w.inner's node
    edges = folding.edges()
    assert {k for k in edges if "folded:p" in k} == {("route", "folded:p"), ("folded:p", "side")}
    assert edges[("route", "folded:p")] is None and edges[("side", "out")] is not None
    assert not any(k[0] == k[1] for k in edges)  # p's inner edges are not drawn
    positions = {"p.clean": (0.0, 0.0), "p.scale": (100.0, 40.0)}
    stand_ins = {data["id"]: (data, where, shown) for data, where, shown in folding.stand_ins(positions)}
    assert stand_ins["folded:p"] == ({"id": "folded:p", "kind": "subgraph", "label": "p (2 nodes)"}, (50.0, 20.0), True)
    assert stand_ins["folded:w.inner"][0]["parent"] == "use:w" and stand_ins["folded:w.inner"][2]
    assert not stand_ins["folded:w"][2]  # only collapsed instances are drawn as one node
    nested = {data["id"]: shown for data, _, shown in Folding(g, {"w", "w.inner"}).stand_ins({})}
    assert nested["folded:w"] and not nested["folded:w.inner"]  # inside w: w's node stands for both
    assert set(folding.edges()) <= set(folding.all_edges())
    assert {("route", "folded:w"), ("route", "folded:w.inner"), ("route", "w.inner.clean")} <= set(folding.all_edges())
    assert folding.file_of("p") == "prep.udgl" and folding.file_of("w.inner") == "prep.udgl"


def test_graph_view_collapses_and_expands_an_instance_from_its_panel(tmp_path) -> None:
    g = graph(tmp_path)
    view = GraphView(g)
    nodes, edges = drawn(view.canvas)
    assert nodes["use:p"] == "subgraph" and "p.clean" in nodes and ("p.clean", "p.scale") in edges
    click(view.canvas, "use:p")  # a click on the box opens its panel
    assert view.subgraph.layout.display == "flex" and view.subgraph.instance == "p"
    assert "prep.udgl" in view.subgraph.info.value and "p.clean, p.scale" in view.subgraph.info.value
    view.subgraph.toggle.click()
    nodes, edges = drawn(view.canvas)
    assert nodes["folded:p"] == "subgraph-collapsed" and "p.clean" not in nodes
    assert {("route", "folded:p"), ("folded:p", "side")} <= edges and ("p.clean", "p.scale") not in edges
    assert view.subgraph.toggle.description == "Expand"
    view.subgraph.source_button.value = True
    assert "python clean { impl = &quot;m:f&quot; }" in view.subgraph.source.value
    click(view.canvas, "folded:p")  # the collapsed node opens it too
    view.subgraph.toggle.click()
    assert drawn(view.canvas) == drawn(GraphView(g).canvas)  # expanded: as first drawn
    click(view.canvas, "side")
    assert 'data-node="side"' in view.details.value


def test_editor_collapses_an_instance_and_keeps_editing_the_rest(tmp_path) -> None:
    g = graph(tmp_path)
    editor = edit(g)
    editor.select(("node", "p.clean"))
    click(editor.canvas.widget, "use:p")
    assert editor.subgraph.instance == "p"
    editor.subgraph.toggle.click()
    nodes, edges = editor_drawn(editor)
    assert "p.clean" not in nodes and editor.selection is None  # its selected node went in
    assert nodes["folded:p"] == "subgraph-collapsed" and "use:p" not in nodes
    assert {("route", "folded:p"), ("folded:p", "side")} <= edges and ("route", "p.clean") not in edges
    editor.add_node("python", "extra", impl="m:f", link_from="out")  # editing goes on
    nodes, edges = editor_drawn(editor)
    assert "extra" in nodes and ("out", "extra") in edges
    editor.subgraph.source_button.value = True
    assert "raw -&gt; clean -&gt; scale -&gt; done" in editor.subgraph.source.value
    editor.subgraph.toggle.click()
    nodes, edges = editor_drawn(editor)
    assert nodes["use:p"] == "subgraph" and {"p.clean", "p.scale"} <= set(nodes) and "folded:p" not in nodes
    assert ("route", "folded:p") not in edges and ("route", "p.clean") in edges
    assert editor.canvas.state()["nodes"]["p.clean"]["parent"] == "use:p"
