"""``%%udgl`` in a real browser: JupyterLab 4 and Notebook 7 in headless Chromium."""

from __future__ import annotations

import json
import time

import pytest
from notebook_page import ARTIFACTS, click_node, open_notebook, run_cells, wait_for_canvas, wait_for_cell_canvas

pytestmark = [pytest.mark.browser, pytest.mark.timeout(360)]

SETUP = """\
%load_ext hogar_nb
def double(x):
    return 2 * x
"""

GOOD = """\
%%udgl fraud
graph fraud "Scores transactions"
source ingest { route = "/score" }
python features { impl = double, replicas = 2, cpu = 1 }
model xgb { impl = "models/xgb.json", replicas = 4, memory = 2GiB }
python rules { impl = double }
ensemble blend { combine = mean }
switch gate { impl = double }
sink out
ingest -> features -> [xgb, rules] -> blend -> gate
python review { impl = double }
gate -> out { when = "accept" }
gate -> review { when = "*" }
review -> out
"""

GOOD_NODES = {"ingest", "features", "xgb", "rules", "blend", "gate", "review", "out"}

BAD = """\
%%udgl fraud
source ingest
python features { impl = double, replicas = 0 }
sink out
ingest -> features -> outt
"""

BIG_TEXT = """\
# 300 nodes: a 7-node chain, a split into 10 branches of 29 nodes, one sink
lines = ["graph big", "source src", "split fan", "sink out"]
lines += [f"python p{i} {{ impl = double }}" for i in range(7)]
lines += [f"python c{b}_{i} {{ impl = double, replicas = {1 + i % 3} }}" for b in range(10) for i in range(29)]
lines += ["src -> " + " -> ".join(f"p{i}" for i in range(7)) + " -> fan"]
lines += [f"fan -> c{b}_0 {{ weight = 10% }}" for b in range(10)]
lines += [" -> ".join(f"c{b}_{i}" for i in range(29)) + " -> out" for b in range(10)]
big_text = "\\n".join(lines)
print("ready")
"""

BIG_SHOW = """\
import hogar_nb
big = hogar_nb.parse_udgl(big_text, namespace=globals())
big
"""


def _check_good_canvas(page, index: int) -> None:
    state = wait_for_canvas(page, index, len(GOOD_NODES))
    nodes = {n["id"]: n for n in state["nodes"]}
    assert set(nodes) == GOOD_NODES
    assert all(n["visible"] for n in nodes.values())
    # layered left to right, kinds as classes
    assert nodes["ingest"]["x"] < nodes["features"]["x"] < nodes["blend"]["x"] < nodes["out"]["x"]
    assert "kind-model" in nodes["xgb"]["classes"] and "kind-switch" in nodes["gate"]["classes"]
    assert not any("diag-" in n["classes"] for n in nodes.values())
    labels = {(e["source"], e["target"]): e["label"] for e in state["edges"]}
    assert labels[("gate", "out")] == 'when "accept"'
    assert labels[("gate", "review")] == "*"


def test_udgl_cell_in_jupyterlab(jupyter_server, page) -> None:
    name = jupyter_server.write_notebook("lab_graph.ipynb", [SETUP, GOOD, BAD, BIG_TEXT, BIG_SHOW])
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, 3)

    _check_good_canvas(page, 0)
    page.locator(".jp-Cell").nth(1).screenshot(path=str(ARTIFACTS / "udgl-lab-graph-view.png"))

    # click a node: the side panel shows its resolved attributes
    click_node(page, 0, "xgb")
    details = page.locator('.hogar-node-details [data-node="xgb"]').first
    details.wait_for()
    text = details.inner_text()
    # UDGL names and units first, the EARG key as a hint under the value
    for expected in ("xgb", "model", "replicas = 4", "memory = 2GiB", "EARG resources.memory_bytes",
                     "timeout = 30s", "EARG timeout_ms", "recovery = restart", 'impl = "models/xgb.json"'):
        assert expected in text
    assert "2147483648" not in text and "timeout_ms =" not in text
    page.locator(".jp-Cell").nth(1).screenshot(path=str(ARTIFACTS / "udgl-lab-node-details.png"))

    # the cell with errors shows the diagnostic box, the canvas marks the faulty node
    box = page.locator(".jp-Cell").nth(2).locator(".hogar-diagnostics")
    box.wait_for()
    box_text = box.inner_text()
    assert "error[E022]" in box_text and "line 3, column 34" in box_text
    assert "replicas = 0" in box_text and "^" in box_text
    assert "did you mean `out`?" in box_text
    assert "Traceback" not in page.locator(".jp-Cell").nth(2).inner_text()
    bad = wait_for_canvas(page, 1, 3)
    assert "diag-error" in {n["id"]: n["classes"] for n in bad["nodes"]}["features"]
    page.locator(".jp-Cell").nth(2).screenshot(path=str(ARTIFACTS / "udgl-lab-diagnostics.png"))

    # 300 nodes: time from Shift+Enter to every node on the canvas (kernel is warm)
    run_cells(page, 3, 1)
    page.locator(".jp-Cell").nth(3).locator(".jp-OutputArea-output").get_by_text("ready").wait_for()
    t0 = time.perf_counter()
    run_cells(page, 4, 1)
    wait_for_cell_canvas(page, 4, 300, timeout=150)
    state = wait_for_canvas(page, 2, 300)
    page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
    seconds = time.perf_counter() - t0
    assert len(state["edges"]) == 308
    xs = {n["id"]: n["x"] for n in state["nodes"]}
    assert xs["src"] < xs["p0"] < xs["fan"] < xs["c3_0"] < xs["c3_28"] < xs["out"]
    # a large graph is panned, not shrunk: labels stay readable
    page.wait_for_function("() => document.querySelectorAll('.hogar-graph-canvas')[2].dataset.hogarFramed")
    shown = page.evaluate("""() => { const cy = document.querySelectorAll('.hogar-graph-canvas')[2]._cyreg.cy;
                                     return parseFloat(cy.nodes()[0].style('font-size')) * cy.zoom(); }""")
    assert shown >= 10
    page.locator(".jp-Cell").nth(4).screenshot(path=str(ARTIFACTS / "udgl-lab-300-nodes.png"))
    (ARTIFACTS / "udgl-render-times.json").write_text(json.dumps({"lab_300_nodes_s": round(seconds, 2)}))
    print(f"300-node graph on the canvas after {seconds:.2f} s")


def test_udgl_cell_in_notebook7(jupyter_server, page) -> None:
    name = jupyter_server.write_notebook("nb7_graph.ipynb", [SETUP, GOOD, BAD])
    open_notebook(page, f"{jupyter_server.url}/notebooks/{name}")
    run_cells(page, 0, 3)
    _check_good_canvas(page, 0)
    click_node(page, 0, "features")
    details = page.locator('.hogar-node-details [data-node="features"]').first
    details.wait_for()
    assert "replicas" in details.inner_text()
    box = page.locator(".jp-Cell").nth(2).locator(".hogar-diagnostics")
    box.wait_for()
    assert "error[E022]" in box.inner_text()
    page.screenshot(path=str(ARTIFACTS / "udgl-notebook7.png"), full_page=True)
