"""The graph view and the editor on a page of their own (JupyterLab, headless Chromium):
the page logs no ``Unsatisfied version`` of a shared module (the graph widgets need no
lab extension besides anywidget's), and the editor works by hand: a kind dragged from
the palette lands where it was dropped, a drag from one node to another connects
them, a node dragged elsewhere keeps its new position in the kernel, and Fit brings a
panned-away graph back."""

from __future__ import annotations

import re

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells, wait_for_canvas

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CELLS = [
    "%load_ext hogar_nb\ndef double(x):\n    return 2 * x\n",
    "%%udgl shown\nsource ingest\npython features { impl = double }\nsink out\ningest -> features -> out\n",
    "import hogar_nb\ng = hogar_nb.Graph('demo')\ng.add_node('ingest', 'source')\n"
    "g.add_node('features', 'python', impl='double')\ng.add_node('out', 'sink')\n"
    "g.connect('ingest', 'features')\neditor = g.edit()\neditor\n",
    "print(g.to_udgl())\nprint('POSITION', g.nodes['python1'].position)\n",
]

_CY = "document.querySelector('.hogar-editor-canvas')._cyreg.cy"
_POINT = """([id]) => { const el = document.querySelector('.hogar-editor-canvas');
  const p = el._cyreg.cy.getElementById(id).renderedPosition(), r = el.getBoundingClientRect();
  return [r.left + p.x, r.top + p.y]; }"""
_OUTSIDE = f"""() => {{ const cy = {_CY};
  return cy.nodes().filter(n => {{ const b = n.renderedBoundingBox({{includeLabels: false}});
    return b.x1 < 0 || b.y1 < 0 || b.x2 > cy.width() || b.y2 > cy.height(); }}).map(n => n.id()); }}"""


def drag(page, start, end) -> None:
    """Press, move in steps, release: as a hand does."""
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 4, start[1] + 4, steps=3)
    page.mouse.move(*end, steps=15)
    page.mouse.up()


def wait_canvas(page, condition: str) -> None:
    page.wait_for_function(f"() => {{ const el = document.querySelector('.hogar-editor-canvas');"
                           f" const cy = el && el._cyreg && el._cyreg.cy; return !!cy && ({condition}); }}",
                           timeout=30_000, polling=50)


def test_graph_view_and_editor_load_clean_and_edit_by_hand(jupyter_server, page) -> None:
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    name = jupyter_server.write_notebook("graph-widgets.ipynb", CELLS)
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, 3)
    wait_for_canvas(page, 0, 3)  # the graph view
    wait_for_canvas(page, 1, 3)  # the editor
    editor = page.locator(".hogar-graph-editor")
    canvas = editor.locator(".hogar-editor-canvas")
    canvas.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_function("() => Number(document.querySelector('.hogar-editor-canvas').dataset.hogarFramed) > 0")

    # a kind dragged from the palette lands where it was dropped, linked from nothing
    editor.locator(".hogar-palette-python").scroll_into_view_if_needed()
    box = canvas.bounding_box()
    button = editor.locator(".hogar-palette-python").bounding_box()
    drop = (box["x"] + box["width"] * 0.7, box["y"] + 80)
    drag(page, (button["x"] + button["width"] / 2, button["y"] + button["height"] / 2), drop)
    wait_canvas(page, "cy.getElementById('python1').length === 1")
    x, y = page.evaluate(_POINT, ["python1"])
    assert (x, y) == (pytest.approx(drop[0], abs=2), pytest.approx(drop[1], abs=2))

    # dragged elsewhere, the node keeps its new place in the kernel
    drag(page, (x, y), (x + 60, y + 220))  # below and right of `features`, clear of every node
    editor.locator(".hogar-editor-message").get_by_text("moved `python1`").wait_for()
    moved = page.evaluate(f"() => {_CY}.getElementById('python1').position()")

    # connect mode: a drag from one node to another draws the edge
    editor.locator(".hogar-editor-connect").click()
    editor.locator(".hogar-editor-message").get_by_text("connect mode").wait_for()
    drag(page, page.evaluate(_POINT, ["features"]), page.evaluate(_POINT, ["python1"]))
    wait_canvas(page, "cy.edges('[source = \"features\"][target = \"python1\"]').length === 1")
    editor.locator(".hogar-editor-connect").click()

    run_cells(page, 3, 1)
    out = page.locator(".jp-Cell").nth(3).locator(".jp-OutputArea-output")
    out.get_by_text("POSITION").wait_for()
    text = out.inner_text()
    assert "features -> python1" in text or "ingest -> features -> python1" in text
    kernel = re.search(r"POSITION \(([-\d.]+), ([-\d.]+)\)", text)
    assert (float(kernel[1]), float(kernel[2])) == pytest.approx((moved["x"], moved["y"]), abs=0.01)

    # panned away by hand (a drag on the empty canvas), Fit brings the whole graph back
    canvas.evaluate("e => e.scrollIntoView({block: 'center'})")
    box = canvas.bounding_box()
    framed = int(canvas.get_attribute("data-hogar-framed"))
    drag(page, (box["x"] + 6, box["y"] + box["height"] - 6), (box["x"] + box["width"] - 20, box["y"] + 20))
    assert page.evaluate(_OUTSIDE), "the drag did not pan the graph out of view"
    editor.locator(".hogar-editor-fit").click()
    page.wait_for_function(f"([n]) => Number(document.querySelector('.hogar-editor-canvas')"
                           f".dataset.hogarFramed) > n", arg=[framed])
    assert page.evaluate(_OUTSIDE) == []
    page.locator(".jp-Notebook").screenshot(path=str(ARTIFACTS / "graph-widgets.png"))

    unsatisfied = [m for m in console if "Unsatisfied version" in m]
    assert unsatisfied == [], unsatisfied
