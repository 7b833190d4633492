"""The graph editor in JupyterLab (headless Chromium): place a node from the palette,
drag it, draw edges with the mouse, edit an attribute in the form, and check that the
canvas and ``g.to_udgl()`` in the kernel agree; a cycle edge is marked on the canvas."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from notebook_page import ARTIFACTS, canvas_state, click_node, open_notebook, run_cells, wait_for_canvas

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

SETUP = """\
%load_ext hogar_nb
def double(x):
    return 2 * x
"""

GRAPH = """\
import hogar_nb
g = hogar_nb.Graph("demo")  # unfinished: `out` is not connected yet
g.add_node("ingest", "source")
g.add_node("features", "python", impl="double")
g.add_node("out", "sink")
g.connect("ingest", "features")
"""

EDITOR = "editor = g.edit()\neditor"

KERNEL = """\
print(g.to_udgl())
print("POSITION", g.nodes["python1"].position)
print("OK", g.ok)
"""

TO_CELL = 'editor.to_cell("g2");'

EDITOR_CSS = ".hogar-graph-editor"

_POINT = """([id]) => {
  const el = document.querySelector('.hogar-editor-canvas');
  const p = el._cyreg.cy.getElementById(id).renderedPosition();
  const r = el.getBoundingClientRect();
  return {x: r.left + p.x, y: r.top + p.y};
}"""

_EDGE_POINT = """([src, dst]) => {
  const el = document.querySelector('.hogar-editor-canvas');
  const e = el._cyreg.cy.edges(`[source = "${src}"][target = "${dst}"]`);
  const p = e.renderedMidpoint();
  const r = el.getBoundingClientRect();
  return {x: r.left + p.x, y: r.top + p.y};
}"""

_MODEL_POSITION = """([id]) => {
  const n = document.querySelector('.hogar-editor-canvas')._cyreg.cy.getElementById(id);
  return n.length ? n.position() : null;
}"""


def point(page, node: str) -> tuple[float, float]:
    p = page.evaluate(_POINT, [node])
    return p["x"], p["y"]


def mouse_drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 5, start[1] + 5, steps=3)
    page.mouse.move(*end, steps=12)
    page.mouse.up()


def wait_canvas(page, condition: str, arg=None) -> None:
    """Wait until ``condition`` (JS over ``cy``) holds on the editor's canvas."""
    page.wait_for_function(
        f"""(arg) => {{ const el = document.querySelector('.hogar-editor-canvas');
                      const cy = el && el._cyreg && el._cyreg.cy;
                      return !!cy && ({condition}); }}""",
        arg=arg, timeout=30_000, polling=50,
    )


def edge_classes(page, src: str, dst: str) -> list[str]:
    state = canvas_state(page, 0)
    return next(e["classes"] for e in state["edges"] if (e["source"], e["target"]) == (src, dst))


def test_editor_in_jupyterlab(jupyter_server, page) -> None:
    name = jupyter_server.write_notebook("editor.ipynb", [SETUP, GRAPH, EDITOR, KERNEL, TO_CELL])
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, 3)
    wait_for_canvas(page, 0, 3)
    editor = page.locator(EDITOR_CSS)
    editor.evaluate("e => e.scrollIntoView({block: \"nearest\"})")  # atomic: the output may re-render
    assert "E032" in editor.locator(".hogar-diagnostics").inner_text()  # `out` unreachable

    # select `features`, click "python" in the palette: the node appears right of it, linked
    click_node(page, 0, "features")
    editor.locator(".hogar-editor-form").get_by_text("features").first.wait_for()
    editor.locator(".hogar-palette-python").click()
    wait_for_canvas(page, 0, 4)
    # the new node and its edge reach the canvas in messages of their own
    wait_canvas(page, 'cy.edges(\'[source = "features"][target = "python1"]\').length === 1')
    state = canvas_state(page, 0)
    nodes = {n["id"]: n for n in state["nodes"]}
    assert nodes["python1"]["x"] > nodes["features"]["x"]
    assert ("features", "python1") in {(e["source"], e["target"]) for e in state["edges"]}

    # drag it somewhere else with the mouse: the kernel keeps the new position
    before = page.evaluate(_MODEL_POSITION, ["python1"])
    x, y = point(page, "python1")
    mouse_drag(page, (x, y), (x + 40, y + 90))
    moved = page.evaluate(_MODEL_POSITION, ["python1"])
    assert moved["y"] > before["y"] + 20
    editor.locator(".hogar-editor-message").get_by_text("moved `python1`").wait_for()

    # connect mode: drag from python1 to out draws the edge
    editor.locator(".hogar-editor-connect").click()
    editor.locator(".hogar-editor-message").get_by_text("connect mode").wait_for()
    mouse_drag(page, point(page, "python1"), point(page, "out"))
    wait_canvas(page, "cy.edges('[source = \"python1\"][target = \"out\"]').length === 1")
    after = page.evaluate(_MODEL_POSITION, ["python1"])
    assert after == moved  # drawing an edge does not move nodes

    # edit attributes of python1 in the form
    click_node(page, 0, "python1")  # in connect mode a click picks the source ...
    click_node(page, 0, "python1")  # ... and a second click on it lets go
    editor.locator(".hogar-editor-connect").click()  # back to move mode
    click_node(page, 0, "python1")
    form = editor.locator(".hogar-editor-form")
    expect(form.locator(".hogar-field-name input")).to_have_value("python1")  # form rebuilt for it
    form.locator(".hogar-field-impl input").fill("double")
    form.locator(".hogar-field-impl input").press("Enter")
    editor.locator(".hogar-editor-message").get_by_text("set python1.impl").wait_for()
    form.locator(".hogar-field-replicas input").fill("3")
    form.locator(".hogar-field-replicas input").press("Enter")
    wait_canvas(page, "cy.getElementById('python1').data('label').includes('×3')")
    editor.locator(".hogar-editor-valid").wait_for()  # live validation: now a valid graph
    assert "4 stages" in editor.locator(".hogar-analysis summary").inner_text()
    assert "bottleneck" in editor.locator(".hogar-analysis").text_content()
    editor.screenshot(path=str(ARTIFACTS / "editor-valid.png"))

    # with nothing selected the form edits the graph itself: a default for every node
    editor.locator(".hogar-editor-graph-settings").click()
    expect(form.locator(".hogar-field-name input")).to_have_value("demo")
    form.locator(".hogar-field-defaults-timeout input").fill("2s")
    form.locator(".hogar-field-defaults-timeout input").press("Enter")
    editor.locator(".hogar-editor-message").get_by_text("set defaults.timeout").wait_for()
    editor.screenshot(path=str(ARTIFACTS / "editor-graph-settings.png"))

    # the kernel's graph is the edited one
    run_cells(page, 3, 1)
    out = page.locator(".jp-Cell").nth(3).locator(".jp-OutputArea-output")
    out.get_by_text("OK True").wait_for()
    text = out.inner_text()
    assert "defaults { timeout = 2s }" in text
    assert 'python features { impl = "double" }' in text
    assert re.search(r'python python1\s+\{ impl = "double", replicas = 3 \}', text)
    assert "ingest -> features -> python1 -> out" in text
    kernel_pos = re.search(r"POSITION \(([-\d.]+), ([-\d.]+)\)", text)
    assert (float(kernel_pos[1]), float(kernel_pos[2])) == pytest.approx((moved["x"], moved["y"]), abs=0.01)

    # an edge closing a cycle is marked on the canvas, with the message in the list
    editor.evaluate("e => e.scrollIntoView({block: \"nearest\"})")  # atomic: the output may re-render
    editor.locator(".hogar-editor-connect").click()
    mouse_drag(page, point(page, "python1"), point(page, "features"))
    wait_canvas(page, "cy.edges('[source = \"python1\"][target = \"features\"]').hasClass('diag-error')")
    assert "diag-error" in edge_classes(page, "features", "python1")
    assert "diag-error" not in edge_classes(page, "ingest", "features")
    assert "cycle" in editor.locator(".hogar-diagnostics").inner_text()
    middle = page.evaluate(_EDGE_POINT, ["features", "python1"])
    page.mouse.move(middle["x"], middle["y"])  # pointing at the marked edge tells why
    hover = editor.locator(".hogar-editor-hover")
    hover.wait_for()
    assert "features → python1" in hover.inner_text() and "E030" in hover.inner_text()
    editor.screenshot(path=str(ARTIFACTS / "editor-cycle.png"))

    # Ctrl+Z on the canvas (clicked first, on an empty spot) takes the bad edge away again
    editor.locator(".hogar-editor-canvas").click(position={"x": 8, "y": 8})
    page.keyboard.press("Control+z")
    wait_canvas(page, "cy.edges('[source = \"python1\"][target = \"features\"]').length === 0")
    editor.locator(".hogar-editor-valid").wait_for()

    # to_cell() from a cell: JupyterLab inserts the %%udgl cell below it
    run_cells(page, 4, 1)
    new_cell = page.locator(".jp-Cell").nth(5)
    new_cell.get_by_text("%%udgl g2").wait_for()
    assert "ingest -> features -> python1 -> out" in new_cell.inner_text()


def test_editor_in_notebook7(jupyter_server, page) -> None:
    """The same widget in Notebook 7: place a node from the palette, edit it in the form."""
    name = jupyter_server.write_notebook("editor_nb7.ipynb", [SETUP, GRAPH, EDITOR, KERNEL])
    open_notebook(page, f"{jupyter_server.url}/notebooks/{name}")
    run_cells(page, 0, 3)
    wait_for_canvas(page, 0, 3)
    editor = page.locator(EDITOR_CSS)
    click_node(page, 0, "features")
    editor.locator(".hogar-palette-python").click()
    wait_for_canvas(page, 0, 4)
    form = editor.locator(".hogar-editor-form")
    expect(form.locator(".hogar-field-name input")).to_have_value("python1")  # form rebuilt for it
    form.locator(".hogar-field-impl input").fill("double")
    form.locator(".hogar-field-impl input").press("Enter")
    wait_canvas(page, "cy.getElementById('python1').length === 1")
    editor.locator(".hogar-editor-message").get_by_text("set python1.impl").wait_for()
    run_cells(page, 3, 1)
    out = page.locator(".jp-Cell").nth(3).locator(".jp-OutputArea-output")
    out.get_by_text("OK False").wait_for()  # python1 does not reach `out` yet
    assert re.search(r'python python1\s+\{ impl = "double" \}', out.inner_text())

    # drag a kind from the palette onto the canvas: the node lands where it was dropped
    canvas = editor.locator(".hogar-editor-canvas")
    canvas.evaluate("e => e.scrollIntoView({block: 'center'})")
    editor.locator(".hogar-palette-model").drag_to(canvas, target_position={"x": 330, "y": 320})
    wait_canvas(page, "cy.getElementById('model1').length === 1")
    x, y = point(page, "model1")
    box = canvas.bounding_box()
    assert (x - box["x"], y - box["y"]) == (pytest.approx(330, abs=2), pytest.approx(320, abs=2))
    wait_canvas(page, 'cy.edges(\'[source = "python1"][target = "model1"]\').length === 1')
    expect(form.locator(".hogar-field-name input")).to_have_value("model1")  # selected, in the form
    expect(form.locator(".hogar-field-loader input")).to_be_visible()  # with a model's attributes
    page.screenshot(path=str(ARTIFACTS / "editor-notebook7.png"), full_page=True)

    # the Delete key on the canvas deletes the selected node; notebook shortcuts stay off it
    cells = page.locator(".jp-Cell").count()
    canvas.click(position={"x": 8, "y": 8})
    page.keyboard.press("Delete")
    wait_canvas(page, "cy.getElementById('model1').length === 0")
    editor.locator(".hogar-editor-message").get_by_text("deleted `model1`").wait_for()
    assert page.locator(".jp-Cell").count() == cells  # no cell was cut or deleted
    page.screenshot(path=str(ARTIFACTS / "editor-notebook7.png"), full_page=True)
