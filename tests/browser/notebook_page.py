"""Driving a notebook page (JupyterLab 4 or Notebook 7) and reading the graph canvas.

The graph view's canvas element has the class ``hogar-graph-canvas``; cytoscape.js
keeps the instance it created there as ``element._cyreg.cy``, which these helpers
evaluate in the page.
"""

from __future__ import annotations

import time
from pathlib import Path

CANVAS = ".hogar-graph-canvas"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # screenshots, timings
BUILT_EXTENSION = Path(__file__).resolve().parents[2] / "hogar_nb" / "labextension"  # this checkout's build

_CY_STATE = """([i]) => {
  const el = document.querySelectorAll('.hogar-graph-canvas')[i];
  const cy = el && el._cyreg && el._cyreg.cy;
  if (!cy) return null;
  return {
    nodes: cy.nodes().map(n => ({id: n.id(), x: n.position('x'), y: n.position('y'),
                                  classes: n.classes(), visible: n.visible()})),
    edges: cy.edges().map(e => ({source: e.source().id(), target: e.target().id(), label: e.data('label'),
                                  classes: e.classes()})),
  };
}"""

_NODE_POINT = """([i, id]) => {
  const el = document.querySelectorAll('.hogar-graph-canvas')[i];
  const cy = el._cyreg.cy;
  const p = cy.getElementById(id).renderedPosition();
  const r = el.getBoundingClientRect();
  return {x: r.left + p.x, y: r.top + p.y};
}"""


def open_notebook(page, url: str) -> None:
    """Open a notebook URL; JupyterLab URLs get ``?reset`` so tabs that earlier tests
    opened on the same server are not restored next to it."""
    if "/lab/" in url and "reset" not in url:
        url += ("&" if "?" in url else "?") + "reset"
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content")
    # the kernel is up when the toolbar's kernel indicator says idle
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator, .jp-KernelStatus')]
               .some(e => /idle/i.test(e.getAttribute('data-status') || e.getAttribute('title') || e.textContent))""",
        timeout=90_000,
    )


def run_cells(page, first: int, count: int) -> None:
    """Run cells ``first`` .. ``first + count - 1`` with Shift+Enter, one by one.

    A cell counts as started once its prompt shows ``[*]`` or a number; a key press
    that a just-started kernel dropped is repeated.
    """
    for index in range(first, first + count):
        prompt = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt")
        for _attempt in range(4):
            try:
                # the prompt may be re-rendered at any time while the page settles, so
                # it is located afresh on every attempt and read by selector, not handle
                prompt.scroll_into_view_if_needed()
                prompt.click()
                page.keyboard.press("Shift+Enter")
                page.wait_for_function(
                    """([i]) => { const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
                                 const p = cell && cell.querySelector('.jp-InputPrompt');
                                 return !!p && /\\[(\\*|\\d+)\\]/.test(p.textContent); }""",
                    arg=[index], timeout=15_000, polling=100,
                )
                break
            except Exception:  # noqa: BLE001 - playwright's TimeoutError or a detached element
                continue
        else:
            raise AssertionError(f"cell {index} never started running")


def canvas_state(page, index: int = 0) -> dict | None:
    return page.evaluate(_CY_STATE, [index])


def wait_for_canvas(page, index: int, n_nodes: int, timeout: float = 60.0) -> dict:
    """Wait until the ``index``-th canvas holds ``n_nodes`` laid-out nodes; return its state."""
    page.wait_for_function(
        """([i, n]) => { const el = document.querySelectorAll('.hogar-graph-canvas')[i];
                        const cy = el && el._cyreg && el._cyreg.cy;
                        return !!cy && cy.nodes().length === n; }""",
        arg=[index, n_nodes], timeout=timeout * 1000, polling=50,
    )
    return canvas_state(page, index)


_CELL_CANVAS_COUNT = """([c]) => { const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[c];
  const el = cell && cell.querySelector('.hogar-graph-canvas');
  const cy = el && el._cyreg && el._cyreg.cy;
  return cy ? cy.nodes().length : -1; }"""

_CELL_REPORT = """([c]) => { const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[c];
  if (!cell) return 'no such cell';
  const prompt = cell.querySelector('.jp-InputPrompt');
  const out = cell.querySelector('.jp-OutputArea');
  const kernel = [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator, .jp-KernelStatus')]
    .map(e => e.getAttribute('data-status') || e.getAttribute('title') || e.textContent).join(' | ');
  return `prompt ${prompt ? prompt.textContent : '?'}; kernel ${kernel}; ` +
         `output: ${out ? out.innerText.slice(0, 2000) : '(none)'}`; }"""


def wait_for_cell_canvas(page, cell: int, n_nodes: int, timeout: float = 60.0) -> None:
    """Wait until the canvas in cell ``cell`` holds ``n_nodes`` nodes. A cell that shows
    nothing at all after a third of ``timeout`` is run once more (a dropped key or a
    busy kernel); on failure the message says what the cell shows and the kernel's state."""
    end = time.monotonic() + timeout
    rerun_at = time.monotonic() + timeout / 3
    rerun = True
    while time.monotonic() < end:
        count = page.evaluate(_CELL_CANVAS_COUNT, [cell])
        if count == n_nodes:
            return
        if rerun and time.monotonic() > rerun_at and count < 0:
            rerun = False
            report = page.evaluate(_CELL_REPORT, [cell])
            if "output: (none)" in report or report.endswith("output: "):
                run_cells(page, cell, 1)
        time.sleep(0.05)
    raise AssertionError(f"cell {cell} has no canvas of {n_nodes} nodes after {timeout:g} s "
                         f"(it holds {page.evaluate(_CELL_CANVAS_COUNT, [cell])}); "
                         f"{page.evaluate(_CELL_REPORT, [cell])}")


def click_node(page, index: int, node_id: str) -> None:
    page.locator(CANVAS).nth(index).scroll_into_view_if_needed()
    time.sleep(0.2)
    point = page.evaluate(_NODE_POINT, [index, node_id])
    page.mouse.click(point["x"], point["y"])
