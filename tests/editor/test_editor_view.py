"""What the editor shows: the viewport it sets, hover messages, clicks on the canvas,
and a graph built from nothing with the palette and the form only."""

from __future__ import annotations

import hogar_nb
import hogar_nb.jupyter  # noqa: F401 - registers the editor
from hogar_nb.jupyter.editor import edit

SMALL = """\
graph small

source a
python b { impl = "m:f" }
sink   c

a -> b -> c
"""


def send(editor, target: str, event: str, payload: dict) -> None:
    """What the canvas's page script sends for an event on a node or an edge."""
    editor.canvas.widget._handle_custom_msg({"event": event, "target": target, **payload}, [])


def test_the_view_is_left_to_the_page_and_editing_never_moves_it() -> None:
    """The kernel cannot know the canvas size: it sets no zoom or pan; the canvas frames
    itself in the page (tests/browser/test_editor_fit_browser.py), and Fit asks it to."""
    lines = ["graph wide", "source s", *[f"python p{i} {{ impl = \"m:f\" }}" for i in range(12)], "sink z"]
    lines += ["s -> p0", *[f"p{i} -> p{i + 1}" for i in range(11)], "p11 -> z"]
    editor = edit(hogar_nb.parse_udgl("\n".join(lines) + "\n"))
    canvas = editor.canvas.widget
    assert canvas.layout_options == {"name": "preset", "fit": False}
    assert "zoom" not in canvas.options and "pan" not in canvas.options
    framing = canvas.framing
    assert (framing["policy"], framing["on_add"], framing["max_zoom"]) == ("whole", "follow", 1.0)
    assert "hogar-editor-canvas" in canvas.canvas_class.split()
    canvas._handle_custom_msg({"event": "shown"}, [])  # the page drew it
    sent: list = []
    send_ = canvas.send
    canvas.send = lambda content, buffers=None: (sent.append(content), send_(content, buffers))
    editor.move("z", 100.0, 60.0)
    editor.add_node("python")
    next(b for b in editor.toolbar.children if b.description == "Fit").click()
    assert sent[0] == {"change": {"z": {"position": {"x": 100.0, "y": 60.0}}}}  # one node moved, nothing else
    assert "add" in sent[1] and not any("zoom" in m or "pan" in m for m in sent)
    assert sent[-1] == {"fit": True}  # Fit is the page's to do, from the canvas's real size
    assert canvas.layout_options == {"name": "preset", "fit": False}  # nothing the kernel does moves the view


def test_pointing_at_a_marked_element_shows_its_problems() -> None:
    g = hogar_nb.parse_udgl(SMALL)
    editor = edit(g)
    editor.connect("b", "a")
    data = editor.canvas.state()["edges"][("b", "a")]
    send(editor, "edge", "mouseover", {"data": data})
    assert "b → a" in editor.hover.value and "E040" in editor.hover.value  # a source gets no edges
    send(editor, "edge", "mouseout", {"data": data})
    assert editor.hover.value == ""
    send(editor, "node", "mouseover", {"data": editor.canvas.state()["nodes"]["c"]})
    assert editor.hover.value == ""  # nothing wrong with c: nothing shown


def test_clicks_on_the_canvas_select_nodes_and_edges() -> None:
    editor = edit(hogar_nb.parse_udgl(SMALL))
    send(editor, "edge", "tap", {"data": {"id": "a->b", "source": "a", "target": "b"}})
    assert editor.selection == ("edge", ("a", "b"))
    assert "editor-selected" in editor.canvas.state()["edges"][("a", "b")]["classes"]
    send(editor, "node", "tap", {"data": {"id": "c"}, "position": {"x": 360.0, "y": 60.0}})
    assert editor.selection == ("node", "c") and "<b>c</b>" in editor.form.title.value
    assert "editor-selected" not in editor.canvas.state()["edges"][("a", "b")]["classes"]
    next(b for b in editor.toolbar.children if b.description == "Delete").click()
    assert "c" not in editor.graph.nodes and "response sink" in editor.problems.value


def test_a_graph_built_with_palette_and_form_only(tmp_path) -> None:
    editor = hogar_nb.edit()
    assert "valid graph" in editor.problems.value or "E0" in editor.problems.value
    editor.palette.buttons["source"].click()
    editor.palette.buttons["python"].click()
    editor.form.fields["impl"].value = "m:score"
    editor.form.fields["memory"].value = "2GiB"
    editor.palette.buttons["sink"].click()
    g = editor.graph
    assert [e.key for e in g.edges] == [("source1", "python1"), ("python1", "sink1")]
    xs = [editor.positions[n][0] for n in ("source1", "python1", "sink1")]
    assert xs == sorted(xs) and len(set(xs)) == 3  # each new node right of the last
    assert editor.validation.ok and "valid graph" in editor.problems.value
    assert "memory 2GiB" in editor.summary.value or "2GiB" in editor.summary.value
    path = editor.save_earg(str(tmp_path / "g.json"))
    assert hogar_nb.dump_earg(hogar_nb.load_earg(path), "json") == editor.to_earg("json")


def test_hover_line_follows_the_fix() -> None:
    editor = edit(hogar_nb.parse_udgl(SMALL))
    send(editor, "node", "mouseover", {"data": {"id": "b"}})
    assert editor.hover.value == ""
    editor.set_attr("b", "impl", "")  # the mouse is still on b when it breaks ...
    assert "needs `impl`" in editor.hover.value
    editor.set_attr("b", "impl", "m:f")  # ... and when it is fixed
    assert editor.hover.value == ""


def test_graph_settings_show_when_nothing_is_selected_and_edit_the_graph() -> None:
    editor = edit(hogar_nb.parse_udgl(SMALL))
    assert editor.selection is None and editor.form.target == ("graph", None)
    fields = editor.form.fields
    assert fields["name"].value == "small"
    assert fields["defaults.timeout"].value == "" and fields["defaults.timeout"].placeholder == "built in: 30s"
    fields["description"].value = "a small graph"
    fields["defaults.timeout"].value = "2s"
    fields["cluster.workers"].value = "2"
    fields["cluster.cpu"].value = "4"
    fields["name"].value = "tiny"
    g = editor.graph
    assert (g.name, g.description, g.cluster) == ("tiny", "a small graph", {"workers": 2, "cpu": 4})
    assert editor.graph.resolved("b").timeout_ms == 2000.0
    text = g.to_udgl()
    assert text.startswith('graph tiny "a small graph"') and "defaults { timeout = 2s }" in text
    assert "cluster { workers = 2, cpu = 4 }" in text and "<b>tiny</b>" in editor.form.title.value
    assert "placement" in editor.summary.value  # a cluster makes the analysis place replicas

    fields["defaults.replicas"].value = "0"  # refused: the form is rebuilt from the unchanged graph
    fields = editor.form.fields
    assert "expected an integer &gt;= 1" in editor.message.value and fields["defaults.replicas"].value == ""
    assert "replicas" not in g.defaults
    fields["name"].value = "9lives"
    fields = editor.form.fields
    assert "graph name" in editor.message.value and fields["name"].value == "tiny"

    fields["cluster.cpu"].value = ""  # unset one cluster attribute
    assert g.cluster == {"workers": 2}
    editor.undo()
    assert g.cluster == {"workers": 2, "cpu": 4} and fields["cluster.cpu"].value == "4"
    editor.undo()
    assert g.name == "small" and fields["name"].value == "small"


def test_graph_settings_button_leaves_the_selection() -> None:
    editor = edit(hogar_nb.parse_udgl(SMALL))
    editor.select(("node", "b"))
    assert "impl" in editor.form.fields
    next(b for b in editor.toolbar.children if b.description == "Graph settings").click()
    assert editor.selection is None and "defaults.replicas" in editor.form.fields
    editor.graph.remove_node("c")  # a graph-wide problem shows in the settings form
    editor.refresh()
    assert "response sink" in editor.form.problems.value


def test_a_kind_dropped_on_the_canvas_lands_where_it_was_dropped() -> None:
    editor = edit(hogar_nb.parse_udgl(SMALL))
    editor.select(("node", "b"))
    gestures = editor.gestures
    drop = gestures._message  # what the browser script sends on a drop
    drop(gestures, {"event": "drop", "kind": "model", "x": 333.5, "y": 210.0}, [])
    assert editor.graph.nodes["model1"].position == (333.5, 210.0)
    assert ("b", "model1") in [e.key for e in editor.graph.edges]  # linked from the selection
    assert editor.canvas.state()["nodes"]["model1"]["position"] == {"x": 333.5, "y": 210.0}
    drop(gestures, {"event": "drop", "kind": "modle", "x": 1, "y": 2}, [])
    assert "unknown kind `modle`" in editor.message.value and "did you mean" in editor.message.value
    drop(gestures, {"event": "drop", "kind": "python", "x": "left"}, [])  # malformed: ignored
    assert set(editor.graph.nodes) == {"a", "b", "c", "model1"}


def test_editing_keys_on_the_canvas() -> None:
    editor = edit(hogar_nb.parse_udgl(SMALL))
    key = lambda action: editor.gestures._message(editor.gestures, {"event": "key", "action": action}, [])  # noqa: E731
    key("delete")  # nothing selected: said, nothing lost
    assert "select a node or an edge" in editor.message.value and len(editor.graph.nodes) == 3
    editor.select(("edge", ("a", "b")))
    key("delete")
    assert [e.key for e in editor.graph.edges] == [("b", "c")]
    key("undo")
    assert ("a", "b") in [e.key for e in editor.graph.edges]
    key("redo")
    assert ("a", "b") not in [e.key for e in editor.graph.edges]
    editor.set_connect_mode(True)
    key("escape")  # leaves connect mode first ...
    assert not editor.connect_mode and not editor.connect_button.value
    editor.select(("node", "c"))
    key("escape")  # ... then the selection
    assert editor.selection is None and editor.form.target == ("graph", None)
    key("format-disk")  # not a key the script sends: ignored
    assert len(editor.graph.nodes) == 3


def test_a_subgraph_shows_as_a_box_that_clicks_and_drags_pass_through(tmp_path) -> None:
    (tmp_path / "prep.udgl").write_text('source raw\npython clean { impl = "m:f" }\nsink done\nraw -> clean -> done\n')
    g = hogar_nb.parse_udgl('use prep = "prep.udgl"\nsource s\nprep p\nsink out\ns -> p -> out\n', base_dir=tmp_path)
    editor = edit(g)
    box = editor.canvas.widget.element("use:p")
    assert box["data"]["label"] == "p (prep.udgl)" and box["grabbable"] is False
    assert editor.canvas.state()["nodes"]["p.clean"]["parent"] == "use:p"
    send(editor, "node", "tap", {"data": {"id": "use:p"}, "position": {"x": 1.0, "y": 1.0}})
    assert editor.selection != ("node", "use:p")  # a box is no node of the graph
    send(editor, "node", "tap", {"data": {"id": "p.clean"}, "position": {"x": 1.0, "y": 1.0}})
    assert editor.selection == ("node", "p.clean")
    next(b for b in editor.toolbar.children if b.description == "Delete").click()
    assert "p.clean" not in editor.graph.nodes and editor.canvas.boxes == {}  # its last node gone, so is the box
