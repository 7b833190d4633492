"""Subgraph boxes in JupyterLab (headless Chromium): in the graph view of a `%%udgl`
cell and in the editor, a click on an instance's box opens its panel; Collapse draws
the instance as one node that carries its outside edges, Show source shows the
included file, a click on the collapsed node and Expand bring its nodes back."""

from __future__ import annotations

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells, wait_for_cell_canvas

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PREP = 'source raw\npython clean { impl = "m:f" }\npython scale { impl = "m:f" }\nsink done\nraw -> clean -> scale -> done\n'
CELLS = [
    "%load_ext hogar_nb",
    '%%udgl g\nuse prep = "prep.udgl"\nsource s\nswitch route { impl = "m:f" }\nprep p\n'
    'python side { impl = "m:f" }\nsink out\ns -> route\nroute -> p { when = "a" }\nroute -> side { when = "*" }\n'
    "p -> out\nside -> out\n",
    "g.edit()",
]
DRAWN = 8  # s, route, p.clean, p.scale, side, out, the box of p and the node p collapses into

# a point inside cell c's canvas box `id`, above its nodes (on the box itself, not on one of them)
_BOX_POINT = """([c, id]) => {
  const el = document.querySelectorAll('.jp-Notebook .jp-Cell')[c].querySelector('.hogar-graph-canvas');
  const box = el._cyreg.cy.getElementById(id);
  const bb = box.renderedBoundingBox({includeLabels: false});
  const top = Math.min(...box.children().map(n => n.renderedBoundingBox({includeLabels: false}).y1));
  const r = el.getBoundingClientRect();
  return {x: r.left + (bb.x1 + bb.x2) / 2, y: r.top + (bb.y1 + top) / 2};
}"""
_NODE_POINT = """([c, id]) => {
  const el = document.querySelectorAll('.jp-Notebook .jp-Cell')[c].querySelector('.hogar-graph-canvas');
  const p = el._cyreg.cy.getElementById(id).renderedPosition();
  const r = el.getBoundingClientRect();
  return {x: r.left + p.x, y: r.top + p.y};
}"""
_DRAWN = """([c]) => {
  const cy = document.querySelectorAll('.jp-Notebook .jp-Cell')[c].querySelector('.hogar-graph-canvas')._cyreg.cy;
  return {nodes: Object.fromEntries(cy.nodes(':visible').map(n => [n.id(), n.classes().join(' ')])),
          edges: cy.edges(':visible').map(e => e.source().id() + '->' + e.target().id()).sort()};
}"""


def click_at(page, cell: int, script: str, element: str) -> None:
    page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".hogar-graph-canvas").scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    point = page.evaluate(script, [cell, element])
    page.mouse.click(point["x"], point["y"])


def wait_drawn(page, cell: int, condition: str) -> dict:
    """Wait until ``condition`` holds of what cell ``cell``'s canvas draws (``d``); return it."""
    try:
        page.wait_for_function(f"([c]) => {{ const d = ({_DRAWN})([c]); return {condition}; }}", arg=[cell],
                               timeout=30_000, polling=100)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: say what is drawn instead
        raise AssertionError(f"not {condition}: {page.evaluate(_DRAWN, [cell])}") from None
    return page.evaluate(_DRAWN, [cell])


def fold_and_unfold(page, cell: int, name: str) -> None:
    panel = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(".hogar-subgraph-panel")
    click_at(page, cell, _BOX_POINT, "use:p")
    panel.locator(".hogar-subgraph-info").wait_for()
    assert "prep.udgl" in panel.inner_text() and "p.clean, p.scale" in panel.inner_text()
    panel.locator(".hogar-subgraph-toggle").click()
    drawn = wait_drawn(page, cell, "d.nodes['folded:p'] === 'subgraph-collapsed' && d.edges.length === 5")
    assert "p.clean" not in drawn["nodes"] and "p.scale" not in drawn["nodes"]
    assert {"route->folded:p", "folded:p->out"} <= set(drawn["edges"])
    assert not any("p.clean" in e or "p.scale" in e for e in drawn["edges"])
    panel.locator(".hogar-subgraph-source").click()
    source = panel.locator(".hogar-subgraph-text")
    source.wait_for()
    assert "raw -> clean -> scale -> done" in source.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"subgraph-collapsed-{name}.png"))
    click_at(page, cell, _NODE_POINT, "folded:p")  # the collapsed node opens the panel too
    panel.get_by_text("Expand").click()
    drawn = wait_drawn(page, cell, "d.nodes['use:p'] === 'subgraph' && 'p.clean' in d.nodes && d.edges.length === 6")
    assert {"route->p.clean", "p.clean->p.scale", "p.scale->out"} <= set(drawn["edges"])
    assert "route->folded:p" not in drawn["edges"]


def test_a_subgraph_box_collapses_expands_and_shows_its_file(jupyter_server, page) -> None:
    (jupyter_server.root / "prep.udgl").write_text(PREP)
    name = jupyter_server.write_notebook("subgraph-boxes.ipynb", CELLS)
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, len(CELLS))
    wait_for_cell_canvas(page, 1, DRAWN)
    fold_and_unfold(page, 1, "view")
    wait_for_cell_canvas(page, 2, DRAWN)
    fold_and_unfold(page, 2, "editor")
