"""In JupyterLab with headless Chromium: the Plotly traces gain points over time, other
cells still run while the dashboard updates, a node turns red when a fault hits it, and
only the panels in view are redrawn (one scrolled out is drawn when it comes back)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

HERE = Path(__file__).resolve().parents[1] / "monitor"  # monitor_helpers lives there

CELLS = [
    f"""\
%load_ext hogar_nb
import sys
sys.path.insert(0, {str(HERE)!r})
import monitor_helpers as h
dep = h.start(sample_interval=0.25)
load = h.Background(dep, rate=100).__enter__()
dash = dep.monitor(interval=0.5, window=60)
""",
    "print('kernel is free:', 6 * 7)",
    "dep.inject_fault('n1', 'error', rate=1.0)",
    "load.__exit__(); dash.close(); dep.stop()",
]

_POINTS = """() => {
  const panels = document.querySelectorAll('.hogar-monitor .hogar-panel');
  if (panels.length < 6) return -1;
  const d = panels[0].data;  // the throughput panel, in view: drawn by Plotly
  return d && d[0] && d[0].x ? d[0].x.length : 0;
}"""

_NODE = """(id) => {
  const el = document.querySelector('.hogar-monitor-graph');
  const cy = el && el._cyreg && el._cyreg.cy;
  if (!cy || cy.getElementById(id).length === 0) return null;
  const n = cy.getElementById(id);
  return {health: n.data('health'), colour: n.style('background-color'), label: n.data('label')};
}"""


def _points(page) -> int:
    return page.evaluate(_POINTS)


def _node(page, node: str) -> dict | None:
    return page.evaluate(_NODE, node)


def poll(read, cond, timeout: float, what: str):
    """Evaluate ``read()`` from Python until ``cond(value)``; return the value (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if cond(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        time.sleep(0.1)


def run_cell(page, index: int) -> None:
    run_cells(page, index, 1)


def test_traces_grow_kernel_stays_free_and_fault_turns_node_red(jupyter_server, page):
    name = jupyter_server.write_notebook("monitor.ipynb", CELLS)
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cell(page, 0)
    first = poll(lambda: _points(page), lambda n: n > 2, 90, "the panels to show points")
    poll(lambda: _points(page), lambda n: n >= first + 3, 30, "the throughput trace to grow")
    page.screenshot(path=str(ARTIFACTS / "monitor-live.png"), full_page=True)

    # another cell runs while the dashboard keeps updating: the kernel is not blocked
    before = _points(page)
    run_cell(page, 1)
    page.wait_for_selector("text=kernel is free: 42", timeout=30_000)
    # running it scrolled the notebook down to its output; a panel is drawn while in view
    page.locator(".hogar-monitor .hogar-panel").first.scroll_into_view_if_needed()
    poll(lambda: _points(page), lambda n: n >= before + 2, 30, "growth after the other cell")

    healthy = poll(lambda: _node(page, "n1"), lambda s: s and s["health"] == "ok", 30, "n1 healthy")
    assert "rps" in healthy["label"]
    run_cell(page, 2)
    failing = poll(lambda: _node(page, "n1"), lambda s: s and s["health"] == "failing", 30, "n1 failing")
    assert failing["colour"] != healthy["colour"]
    assert failing["colour"].replace(" ", "") == "rgb(214,39,40)"
    assert page.evaluate(_NODE, "n0")["health"] == "ok"
    page.screenshot(path=str(ARTIFACTS / "monitor-fault.png"), full_page=True)
    (ARTIFACTS / "monitor-browser.json").write_text(json.dumps({"healthy": healthy, "failing": failing}))

    # only the panels in view are redrawn; one scrolled out is drawn when it comes back
    page.evaluate("""() => { const panels = [...document.querySelectorAll('.hogar-monitor .hogar-panel')];
                             panels[0].scrollIntoView({block: 'end'});
                             window.__drawn = panels.map(p => p.data); }""")
    out_of_view = page.evaluate("""() => [...document.querySelectorAll('.hogar-monitor .hogar-panel')].map(p => {
        const r = p.getBoundingClientRect(); return r.top >= window.innerHeight; })""")
    assert out_of_view[0] is False and out_of_view[5] is True, out_of_view
    for _ in range(2):  # the panel in view is redrawn at every refresh
        page.wait_for_function("""() => { const p = document.querySelectorAll('.hogar-monitor .hogar-panel')[0];
                                          const changed = p.data !== window.__drawn[0]; window.__drawn[0] = p.data;
                                          return changed; }""", timeout=30_000)
    assert page.evaluate("""() => document.querySelectorAll('.hogar-monitor .hogar-panel')[5].data
                                  === window.__drawn[5]"""), "a panel out of view was redrawn"
    page.locator(".hogar-monitor .hogar-panel").nth(5).scroll_into_view_if_needed()
    page.wait_for_function("""() => { const p = document.querySelectorAll('.hogar-monitor .hogar-panel')[5];
                                      return p.data !== window.__drawn[5] && p.querySelector('.main-svg'); }""",
                           timeout=30_000)
    run_cell(page, 3)
