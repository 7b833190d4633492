"""Every editing operation of the graph editor, driven through its Python API and its
canvas event handlers, checked against the Graph model, the canvas and ``check()``."""

from __future__ import annotations

import pytest

import hogar_nb
import hogar_nb.jupyter  # registers the editor behind Graph.edit()
from hogar_nb import GraphEditError
from hogar_nb.core.kinds import EDGE_ATTRS, KINDS, attrs_for_kind
from hogar_nb.core.values import Duration
from hogar_nb.jupyter.editor import GraphEditor, edit

PIPE = """\
graph pipe

source ingest
python features { impl = "m:features", replicas = 2 }
switch gate     { impl = "m:route" }
split  canary
sink   out

ingest -> features -> gate
gate -> out { when = "accept" }
gate -> canary { when = "*" }
canary -> out { weight = 100% }
"""

@pytest.fixture
def g() -> hogar_nb.Graph:
    return hogar_nb.parse_udgl(PIPE)


def canvas_matches(editor: GraphEditor) -> None:
    """The canvas holds exactly the graph's nodes and edges, each where the editor says."""
    state = editor.canvas.state()
    assert set(state["nodes"]) == set(editor.graph.nodes)
    assert set(state["edges"]) == {e.key for e in editor.graph.edges}
    for name, (x, y) in editor.positions.items():
        assert state["nodes"][name]["position"] == {"x": x, "y": y}
        assert f"kind-{editor.graph.nodes[name].kind}" in state["nodes"][name]["classes"]
    shown = editor.canvas.widget.snapshot()  # what the canvas widget holds (and sends the page)
    assert {el["data"]["id"] for el in shown if "source" not in el["data"]} == set(editor.graph.nodes)
    assert {(el["data"]["source"], el["data"]["target"]) for el in shown
            if "source" in el["data"]} == {e.key for e in editor.graph.edges}


def mouse(editor: GraphEditor, event: str, node: str, x: float | None = None, y: float | None = None) -> None:
    """What the canvas's page script sends for a node event: its data and position."""
    px, py = editor.positions[node] if x is None else (x, y)
    payload = {"event": event, "target": "node", "data": {"id": node}, "position": {"x": px, "y": py}}
    editor.canvas.widget._handle_custom_msg(payload, [])


# ---------------------------------------------------------------- opening
def test_edit_binds_the_same_graph_object(g) -> None:
    editor = g.edit()
    assert isinstance(editor, GraphEditor) and editor.graph is g
    assert hogar_nb.edit(g).graph is g
    fresh = hogar_nb.edit()
    assert isinstance(fresh.graph, hogar_nb.Graph) and len(fresh.graph) == 0
    canvas_matches(editor)


def test_opening_changes_nothing(g) -> None:
    rev, text = g.revision, g.to_udgl()
    editor = edit(g)
    assert g.revision == rev and g.to_udgl() == text == PIPE
    assert all(node.position is None for node in g)  # the editor's layout stays view state
    assert editor.validation.ok and "1 warning" not in editor.problems.value


def test_layout_is_left_to_right_and_stable(g) -> None:
    editor = edit(g)
    p = editor.positions
    assert p["ingest"][0] < p["features"][0] < p["gate"][0] < p["canary"][0] < p["out"][0]
    before = dict(editor.positions)
    editor.add_node("python", "extra", impl="m:x")
    assert {k: editor.positions[k] for k in before} == before  # adding never moves the others
    assert editor.positions["extra"] not in before.values()


# ---------------------------------------------------------------- placing and connecting
def test_palette_click_places_next_to_selection_and_links(g) -> None:
    editor = edit(g)
    editor.select(("node", "features"))
    editor.palette.buttons["model"].click()
    assert "model1" in g.nodes and g.nodes["model1"].kind == "model"
    assert any(e.key == ("features", "model1") for e in g.edges)
    fx, fy = editor.positions["features"]
    assert editor.positions["model1"][0] > fx
    assert g.nodes["model1"].position == editor.positions["model1"]  # placed nodes keep their spot
    assert editor.selection == ("node", "model1")
    # unlinked placement, and a second one does not land on the first
    editor.palette.link.value = False
    editor.palette.buttons["model"].click()
    assert not g.predecessors("model2")
    assert editor.positions["model2"] != editor.positions["model1"]
    canvas_matches(editor)


def test_palette_lists_kinds_and_templates(design_example) -> None:
    g = hogar_nb.parse_udgl(design_example)
    editor = edit(g)
    assert set(KINDS) | {"gpu_model"} == set(editor.palette.buttons)
    editor.select(None)
    editor.palette.buttons["gpu_model"].click()
    node = g.nodes["gpu_model1"]
    assert (node.kind, node.template) == ("model", "gpu_model")
    assert "gpu_model gpu_model1" in g.to_udgl()


def test_connect_mode_drag_and_clicks_draw_edges(g) -> None:
    editor = edit(g)
    editor.add_node("python", "side", impl="m:side")
    editor.connect_button.value = True
    assert editor.connect_mode and editor.canvas.widget.grabbable is False
    mouse(editor, "mousedown", "features")
    mouse(editor, "mouseup", "side")  # released over another node: an edge
    assert any(e.key == ("features", "side") for e in g.edges)
    assert editor.selection == ("edge", ("features", "side"))
    mouse(editor, "mousedown", "side")
    mouse(editor, "mouseup", "side")  # a click picks the source ...
    assert editor.connect_source == "side"
    assert "connect-source" in editor.canvas.state()["nodes"]["side"]["classes"]
    mouse(editor, "mousedown", "out")
    mouse(editor, "mouseup", "out")  # ... and a click on another node the target
    assert any(e.key == ("side", "out") for e in g.edges) and editor.connect_source is None
    editor.connect_button.value = False
    assert editor.canvas.widget.grabbable is True
    canvas_matches(editor)


def test_cycle_edge_is_marked_with_its_message(g) -> None:
    editor = edit(g)
    editor.connect("gate", "features", when="retry")
    edges = editor.canvas.state()["edges"]
    for key in [("gate", "features"), ("features", "gate")]:  # the new edge and the rest of the cycle
        assert "diag-error" in edges[key]["classes"]
        assert "cycle" in edges[key]["problems"] and "E030" in edges[key]["problems"]
    assert "diag-error" not in edges[("ingest", "features")]["classes"]
    assert "E030" in editor.problems.value and "cycle" in editor.problems.value
    assert any(d.code == "E030" for d in g.check())
    assert "error" in editor.summary.value and "Resources" not in editor.summary.value
    editor.select(("edge", ("gate", "features")))
    assert "cycle" in editor.form.problems.value  # selecting shows the message too
    editor.delete()
    assert "diag-error" not in str(editor.canvas.state()) and editor.validation.ok


def test_duplicate_edge_is_refused_without_a_step(g) -> None:
    editor = edit(g)
    with pytest.raises(GraphEditError, match="already exists"):
        editor.connect("ingest", "features")
    assert not editor.history.can_undo


# ---------------------------------------------------------------- the form
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_form_fields_come_from_the_kind_specs(kind) -> None:
    editor = edit()
    name = editor.add_node(kind)
    assert editor.selection == ("node", name)
    assert list(editor.form.fields) == ["name", *attrs_for_kind(kind)]


def test_form_shows_own_values_and_inherited_placeholders(design_example) -> None:
    g = hogar_nb.parse_udgl(design_example)
    editor = edit(g)
    editor.select(("node", "nn"))
    f = editor.form.fields
    assert f["impl"].value == "models/nn.onnx"
    assert f["gpu"].value == "" and f["gpu"].placeholder == "template: 1"
    assert f["memory"].placeholder == "template: 4GiB"
    assert f["timeout"].placeholder == "default: 250ms"  # from `defaults`
    editor.select(("node", "features"))
    assert f is not editor.form.fields and editor.form.fields["batch_wait"].value == "5ms"
    assert [o[1] for o in editor.form.fields["isolation"].options] == ["", "thread", "process"]


def test_form_edits_attributes_with_units(g) -> None:
    editor = edit(g)
    editor.select(("node", "features"))
    editor.form.fields["replicas"].value = "3"
    editor.form.fields["timeout"].value = "250ms"
    editor.form.fields["memory"].value = "4GiB"
    editor.form.fields["recovery"].value = "restart(max = 3)"
    editor.form.fields["isolation"].value = "process"
    node = g.nodes["features"]
    assert node.attrs["replicas"] == 3 and node.attrs["timeout"] == Duration(250.0)
    assert g.resolved("features").memory_bytes == 4 * 2**30
    assert g.resolved("features").recovery["max_restarts"] == 3
    assert g.resolved("features").isolation == "process"
    assert "replicas = 3" in g.to_udgl() and "timeout = 250ms" in g.to_udgl()
    assert "×3" in editor.canvas.state()["nodes"]["features"]["label"]
    editor.form.fields["replicas"].value = ""  # empty unsets
    assert "replicas" not in g.nodes["features"].attrs


def test_form_is_updated_in_place_while_the_selection_stays(g) -> None:
    """Editing one field must not rebuild the others (the user may be typing in one)."""
    editor = edit(g)
    editor.select(("node", "features"))
    fields = dict(editor.form.fields)
    fields["replicas"].value = "4"
    editor.set_attr("features", "timeout", "2s")  # e.g. from code, or undo
    assert editor.form.fields == fields
    assert fields["timeout"].value == "2s" and fields["replicas"].value == "4"
    editor.undo()
    assert fields["timeout"].value == "" and fields["timeout"].placeholder == "default: 30s"
    editor.select(("node", "gate"))
    assert editor.form.fields["impl"] is not fields["impl"]


def test_form_rejects_bad_values_and_keeps_the_model(g) -> None:
    editor = edit(g)
    editor.select(("node", "features"))
    before = g.to_udgl()
    editor.form.fields["replicas"].value = "0"
    assert "expected an integer &gt;= 1" in editor.message.value and 'data-error="1"' in editor.message.value
    assert g.to_udgl() == before and editor.form.fields["replicas"].value == "2"
    editor.form.fields["timeout"].value = "fast"
    assert g.to_udgl() == before and editor.form.fields["timeout"].value == ""
    assert not editor.history.can_undo


def test_form_edits_edges(g) -> None:
    editor = edit(g)
    editor.select(("edge", ("gate", "out")))
    assert list(editor.form.fields) == ["when"] and editor.form.fields["when"].value == "accept"
    editor.form.fields["when"].value = "ok"
    assert g.edge("gate", "out").when == "ok"
    editor.select(("edge", ("canary", "out")))
    assert list(editor.form.fields) == ["weight"] and editor.form.fields["weight"].value == "100%"
    editor.form.fields["weight"].value = "90%"
    assert g.edge("canary", "out").weight == pytest.approx(0.9)
    assert editor.canvas.state()["edges"][("canary", "out")]["label"] == "90%"
    assert set(EDGE_ATTRS) == {"when", "weight", "mirror"}


def test_rename_from_the_form_moves_edges_and_canvas(g) -> None:
    editor = edit(g)
    editor.select(("node", "features"))
    where = editor.positions["features"]
    editor.form.fields["name"].value = "feats"
    assert "feats" in g.nodes and "features" not in g.nodes
    assert g.predecessors("feats") == ["ingest"] and g.successors("feats") == ["gate"]
    assert editor.positions["feats"] == where and editor.selection == ("node", "feats")
    editor.form.fields["name"].value = "1bad"
    assert "expected letters" in editor.message.value and "feats" in g.nodes
    canvas_matches(editor)


# ---------------------------------------------------------------- delete, move, layout, undo
def test_delete_node_and_edge(g) -> None:
    editor = edit(g)
    editor.delete(("edge", ("gate", "canary")))
    assert not any(e.key == ("gate", "canary") for e in g.edges)
    editor.select(("node", "canary"))
    editor.delete()
    assert "canary" not in g.nodes and editor.selection is None
    canvas_matches(editor)
    with pytest.raises(GraphEditError, match="select"):
        editor.delete()


def test_dragging_a_node_keeps_its_position(g) -> None:
    editor = edit(g)
    rev = g.revision
    mouse(editor, "mousedown", "gate")
    mouse(editor, "mouseup", "gate")  # a click: nothing moves, nothing recorded
    assert g.revision == rev and not editor.history.can_undo
    mouse(editor, "mousedown", "gate")
    mouse(editor, "mouseup", "gate", 333.0, 222.0)
    assert g.nodes["gate"].position == (333.0, 222.0)
    assert editor.canvas.state()["nodes"]["gate"]["position"] == {"x": 333.0, "y": 222.0}
    assert hogar_nb.dump_earg(g).endswith("layout:\n  gate: [333.0, 222.0]\n")
    editor2 = edit(g)  # re-displaying keeps it
    assert editor2.positions["gate"] == (333.0, 222.0)


def test_auto_layout_places_everything_and_undoes(g) -> None:
    editor = edit(g)
    mouse(editor, "mouseup", "out", 10.0, 500.0)
    editor.auto_layout()
    assert all(node.position is not None for node in g)
    assert g.nodes["out"].position == max((n.position for n in g), key=lambda p: p[0])
    editor.undo()
    assert g.nodes["out"].position == (10.0, 500.0) and g.nodes["ingest"].position is None
    canvas_matches(editor)


def test_undo_redo_walk_through_every_state(g) -> None:
    editor = edit(g)
    texts = [g.to_udgl()]
    editor.add_node("python", "extra", impl="m:x", link_from="features")
    texts.append(g.to_udgl())
    editor.set_attr("extra", "replicas", "2")
    texts.append(g.to_udgl())
    editor.connect("extra", "gate")
    texts.append(g.to_udgl())
    editor.rename("extra", "more")
    texts.append(g.to_udgl())
    editor.delete(("node", "canary"))
    texts.append(g.to_udgl())
    assert len(set(texts)) == len(texts)
    for expected in reversed(texts[:-1]):
        editor.undo()
        assert g.to_udgl() == expected
        canvas_matches(editor)
    assert editor.undo_button.disabled and not editor.redo_button.disabled
    with pytest.raises(GraphEditError, match="nothing to undo"):
        editor.undo()
    for expected in texts[1:]:
        editor.redo()
        assert g.to_udgl() == expected
        canvas_matches(editor)
    editor.undo()
    editor.add_node("sink", "side")  # a new edit drops the redo steps
    assert not editor.history.can_redo and editor.redo_button.disabled


def test_undo_keeps_the_users_graph_object(g) -> None:
    editor = edit(g)
    names = list(g.nodes)
    editor.add_node("sink", "side")
    editor.undo()
    assert editor.graph is g and list(g.nodes) == names
    assert g.check() == [] and g.revision > 0


def test_refresh_picks_up_edits_made_outside(g) -> None:
    editor = edit(g)
    g.add_node("late", "sink")
    g.connect("canary", "late", weight=0.0)
    editor.refresh()
    canvas_matches(editor)
    assert editor.positions["late"] not in [p for k, p in editor.positions.items() if k != "late"]


# ---------------------------------------------------------------- validation summary
def test_valid_graph_shows_its_summary(g) -> None:
    editor = edit(g)
    text = editor.summary.value
    assert "bottleneck" in text
    editor.set_attr("features", "impl", "")  # unset a required attribute
    assert "E016" in editor.problems.value
    assert "diag-error" in editor.canvas.state()["nodes"]["features"]["classes"]
    assert "needs `impl`" in editor.canvas.state()["nodes"]["features"]["problems"]
