"""Leaving the editor: UDGL text, EARG files (byte-identical when nothing changed),
a ``%%udgl`` cell below, and running the edited graph on the embedded engine."""

from __future__ import annotations

from pathlib import Path

import pytest

import hogar_nb
import hogar_nb.jupyter  # noqa: F401 - registers the editor
from hogar_nb.jupyter.editor import edit


@pytest.fixture
def design(design_example) -> hogar_nb.Graph:
    return hogar_nb.parse_udgl(design_example)


@pytest.mark.parametrize("fmt,suffix", [("yaml", ".yaml"), ("json", ".json")])
@pytest.mark.parametrize("with_layout", [False, True])
def test_earg_file_saved_unchanged_is_byte_identical(design, tmp_path, fmt, suffix, with_layout) -> None:
    if with_layout:
        design.set_position("xgb", 12.5, -40.0)
        design.set_position("ingest", 0.0, 0.0)
    original = tmp_path / f"fraud{suffix}"
    original.write_text(hogar_nb.dump_earg(design, fmt), encoding="utf-8")
    editor = edit(str(original))  # opened from the file: "save" writes it back there
    assert editor.roundtrip.path.value == str(original)
    before = original.read_bytes()
    editor.roundtrip.path.value = str(tmp_path / f"again{suffix}")
    saved = Path(editor.save_earg())
    assert saved.read_bytes() == before
    assert editor.save_earg(str(original)) == str(original) and original.read_bytes() == before
    assert ("layout:" in before.decode() or '"layout"' in before.decode()) == with_layout


def test_udgl_graph_opened_and_written_back_is_byte_identical(design) -> None:
    canonical = design.to_udgl()
    g = hogar_nb.parse_udgl(canonical)
    editor = edit(g)
    assert editor.to_udgl() == canonical
    editor.select(("node", "nn"))  # looking is not editing
    editor.select(("edge", ("gate", "out")))
    assert editor.roundtrip.show_udgl() == canonical
    assert editor.roundtrip.udgl.value == canonical and editor.roundtrip.udgl.layout.display is None
    assert editor.to_earg() == hogar_nb.dump_earg(hogar_nb.parse_udgl(canonical))


def test_udgl_file_opens_in_the_editor(tmp_path, design) -> None:
    path = tmp_path / "fraud.udgl"
    path.write_text(design.to_udgl())
    editor = hogar_nb.edit(str(path))
    assert editor.to_udgl() == design.to_udgl()
    assert editor.roundtrip.path.value == "fraud_scoring.earg.yaml"


def test_a_udgl_file_with_errors_opens_with_its_problems_marked(tmp_path) -> None:
    """What *Open in Graph Editor* runs on a file with an error: the editor, not a traceback."""
    path = tmp_path / "cyc.udgl"
    path.write_text('source in\npython a { impl = "m:a" }\npython b { impl = "m:b" }\n'
                    "sink out\nin -> a -> b -> a\nb -> out\n")
    editor = hogar_nb.edit(str(path))
    assert set(editor.graph.nodes) == {"in", "a", "b", "out"} and editor.graph.name == "cyc"
    assert not editor.validation.ok
    classes = [el["classes"] for el in editor.canvas.widget.snapshot()]
    assert any("diag-error" in c for c in classes)
    assert "cycle" in editor.problems.value.lower()


def test_a_udgl_file_that_does_not_parse_opens_an_empty_editor_saying_why(tmp_path) -> None:
    path = tmp_path / "broken.udgl"
    path.write_text("source in {\nsink out\n")
    editor = hogar_nb.edit(str(path))
    assert editor.graph.nodes == {}
    assert 'data-error="1"' in editor.message.value and "broken.udgl does not parse" in editor.message.value


def test_edit_path_opens_the_file_when_it_exists(design, tmp_path) -> None:
    path = tmp_path / "graph.earg.yaml"
    path.write_text(hogar_nb.dump_earg(design))
    editor = hogar_nb.edit(path=str(path))
    assert editor.to_earg() == hogar_nb.dump_earg(design)
    assert editor.roundtrip.path.value == str(path)
    fresh = hogar_nb.edit(path=str(tmp_path / "new.earg.yaml"))  # not there yet: a new graph saved there
    assert fresh.graph.nodes == {} and fresh.roundtrip.path.value.endswith("new.earg.yaml")


def test_moves_go_into_the_earg_layout_and_back(design, tmp_path) -> None:
    editor = edit(design)
    editor.move("blend", 400.0, 120.0)
    path = editor.save_earg(str(tmp_path / "f.yaml"))
    text = Path(path).read_text()
    assert text.endswith("layout:\n  blend: [400.0, 120.0]\n")
    reopened = edit(path)
    assert reopened.positions["blend"] == (400.0, 120.0)
    assert reopened.to_earg() == text


def test_save_refuses_a_graph_with_errors(design, tmp_path) -> None:
    editor = edit(design)
    editor.connect("gate", "features")
    target = tmp_path / "bad.yaml"
    editor.roundtrip.path.value = str(target)
    next(b for b in editor.toolbar.children if b.description == "Save EARG").click()
    assert not target.exists()
    assert 'data-error="1"' in editor.message.value and "cycle" in editor.message.value


def test_edited_graph_round_trips_through_udgl(design) -> None:
    editor = edit(design)
    editor.rename("review_v2", "review")
    editor.set_attr("review", "timeout", "1.5s")
    editor.set_edge("canary", "out", weight="80%")
    editor.set_edge("canary", "review", weight="20%")
    text = editor.to_udgl()
    again = hogar_nb.parse_udgl(text)
    assert again.to_udgl() == text
    assert again.edge("canary", "review").weight == pytest.approx(0.2)
    assert again.resolved("review").timeout_ms == 1500.0


TO_CELL = """\
import hogar_nb, hogar_nb.jupyter
g = hogar_nb.parse_udgl(open({path!r}).read())
text = hogar_nb.edit(g, variable="fraud").to_cell()
"""


def test_to_cell_asks_the_frontend_for_a_udgl_cell_below(design, tmp_path) -> None:
    """In a real kernel, ``to_cell()`` puts a set_next_input payload on the execute reply."""
    from jupyter_client.manager import start_new_kernel

    path = tmp_path / "fraud.udgl"
    path.write_text(design.to_udgl())
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        reply = kc.execute_interactive(TO_CELL.format(path=str(path)), timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        payloads = reply["content"]["payload"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    expected = "%%udgl fraud\n" + design.to_udgl()
    assert [(p["source"], p["text"], p["replace"]) for p in payloads] == [("set_next_input", expected, False)]


def double(x):
    return 2 * x


def test_run_starts_the_edited_graph() -> None:
    editor = hogar_nb.edit()
    editor.add_node("source", "ingest")
    editor.palette.buttons["python"].click()  # linked from the selected source
    editor.set_attr("python1", "impl", "double")
    editor.palette.buttons["sink"].click()
    assert editor.validation.ok, editor.validation.diagnostics
    dep = editor.run(namespace={"double": double})
    try:
        assert dep.running and dep.call(21, timeout=10) == 42
        assert editor.roundtrip.run_box.children  # the monitor (or the status text) is shown
    finally:
        editor.stop()
    assert not dep.running and editor.roundtrip.deployment is None
    assert "stopped" in editor.message.value and "running" not in editor.message.value
    dash = editor.roundtrip.run_box.children[0]  # the final figures stay in view
    assert set(dash.graph_view.levels().values()) <= {"stopped", "inline"}


def test_the_status_line_follows_a_deployment_stopped_outside_the_editor() -> None:
    import time

    editor = hogar_nb.edit()
    editor.add_node("source", "ingest")
    editor.palette.buttons["python"].click()
    editor.set_attr("python1", "impl", "double")
    editor.palette.buttons["sink"].click()
    dep = editor.run(namespace={"double": double})
    assert "running" in editor.message.value
    dep.stop()
    deadline = time.monotonic() + 10
    while "stopped" not in editor.message.value:
        assert time.monotonic() < deadline, editor.message.value
        time.sleep(0.02)
    editor.stop()


def test_a_new_graph_in_the_editor_gains_no_header() -> None:
    from hogar_nb.jupyter.editor import open_graph

    graph, path = open_graph(None)
    graph.add_node("ingest", "source")
    assert path is None and not graph.header
    assert not graph.to_udgl().startswith("graph ")
