"""In JupyterLab with headless Chromium: the monitor of a traced deployment lists the
failed and slowest requests, picking one draws its waterfall, and a click on a node of
the live graph lists that node's slowest recent spans."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

HERE = Path(__file__).resolve().parents[1] / "monitor"  # test_traces_panel's graph and impls

CELLS = [
    f"""\
%load_ext hogar_nb
import sys
sys.path.insert(0, {str(HERE)!r})
import hogar_nb, test_traces_panel as t
dep = hogar_nb.run(hogar_nb.parse_udgl(t.GRAPH, namespace=t.IMPLS), namespace=t.IMPLS, sample_interval=0.25)
futures = [dep.submit(x) for x in range(1, 41)]
_ = [f.exception(30) for f in futures]
import time
while dep.tracing.store.added < 40:  # every trace built before the monitor reads them
    time.sleep(0.05)
dash = dep.monitor(interval=0.5, window=60)
""",
    "dash.close(); dep.stop()",
]

_ROWS = """() => { const s = document.querySelector('.hogar-traces-table select');
  return s ? [...s.options].map(o => o.textContent.replace(/\u00a0/g, ' ')) : null; }"""

_NODE_POINT = """(id) => {
  const el = document.querySelector('.hogar-monitor-graph');
  const cy = el && el._cyreg && el._cyreg.cy;
  if (!cy || cy.getElementById(id).length === 0) return null;
  const p = cy.getElementById(id).renderedPosition();
  const r = el.getBoundingClientRect();
  return {x: r.left + p.x, y: r.top + p.y};
}"""


def _settled_point(page, node: str):
    """Where ``node`` is on the screen once the graph has stopped moving (the canvas
    frames itself when it comes into view), as a person waits before clicking; None
    while it still moves."""
    first = page.evaluate(_NODE_POINT, node)
    page.wait_for_timeout(300)
    return first if first and first == page.evaluate(_NODE_POINT, node) else None


def poll(read, cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if cond(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        time.sleep(0.1)


def test_failed_requests_open_their_waterfall_and_a_node_click_lists_its_spans(jupyter_server, page):
    name = jupyter_server.write_notebook("traces.ipynb", CELLS)
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, 1)
    rows = poll(lambda: page.evaluate(_ROWS), lambda r: r and len(r) >= 5, 90, "the traces table")
    assert all("failed (error)" in r for r in rows[:4]), rows
    assert not any("failed" in r for r in rows[4:]), rows
    # picking a failed request draws its waterfall, titled with its trace id
    select = page.locator(".hogar-traces-table select")
    select.select_option(index=0)
    picked = rows[0].split()[4]
    # drawn like the monitor's other panels, once in view: scrolled to, as one reads on
    page.wait_for_selector(".hogar-monitor .hogar-waterfall .hogar-panel", timeout=30_000)
    page.locator(".hogar-monitor .hogar-waterfall .hogar-panel").scroll_into_view_if_needed()
    page.wait_for_selector(f".hogar-monitor .js-plotly-plot .gtitle:has-text('{picked}')", timeout=30_000)
    bars = page.locator(".hogar-monitor .js-plotly-plot:has(.gtitle:has-text('trace')) .bars path")
    assert bars.count() >= 4  # the request, its node spans and attempts
    page.screenshot(path=str(ARTIFACTS / "monitor-traces.png"), full_page=True)
    # a click on node f of the live graph lists its slowest spans
    page.locator(".hogar-monitor-graph").scroll_into_view_if_needed()
    point = poll(lambda: _settled_point(page, "f"), bool, 30, "node f at rest on the graph")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector("text=Slowest recent spans of", timeout=30_000)
    listed = page.locator("ul.hogar-node-spans li")
    assert listed.count() == 5 and "ms" in listed.first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "monitor-node-spans.png"), full_page=True)
    run_cells(page, 1, 1)
