"""The editor sizes its view from the canvas as the page lays it out (JupyterLab with
the file browser open, headless Chromium): a 14-node graph is wholly visible when
shown, after the user zooms in Fit brings it all back, it is framed again at other
window widths, and a node added right of everything is brought into view."""

from __future__ import annotations

import json

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells, wait_for_canvas

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

RECO = '''\
%load_ext hogar_nb
import hogar_nb
reco = hogar_nb.parse_udgl("""
graph reco
source api { route = "/recommend" }
python session { impl = "reco.session:load" }
python user_hist { impl = "reco.users:history", replicas = 2 }
ensemble feats { combine = concat }
python candidates { impl = "reco.cands:generate", replicas = 2, memory = 2GiB }
model ranker { impl = "models/rank.onnx", replicas = 3 }
model popular { impl = "models/pop.json" }
ensemble blend { combine = mean }
switch gate { impl = "reco.rules:route" }
split canary
python v1 { impl = "reco.post:v1" }
python v2 { impl = "reco.post:v2" }
python rerank { impl = "reco.post:rerank" }
sink out
api -> [session, user_hist] -> feats -> candidates -> [ranker, popular] -> blend -> gate
gate -> out { when = "cached" }
gate -> canary { when = "*" }
canary -> v1 { weight = 90% }
canary -> v2 { weight = 10% }
[v1, v2] -> rerank -> out
""")
editor = reco.edit()
editor
'''

# nodes whose body is not wholly inside the canvas, the zoom, and how often it was framed
_VIEW = """() => {
  const el = document.querySelector('.hogar-editor-canvas');
  const cy = el._cyreg.cy;
  const out = cy.nodes().filter(n => { const b = n.renderedBoundingBox({includeLabels: false});
    return b.x1 < 0 || b.y1 < 0 || b.x2 > cy.width() || b.y2 > cy.height(); }).map(n => n.id());
  return {outside: out, zoom: cy.zoom(), width: cy.width(), height: cy.height(),
          nodes: cy.nodes().length, framed: Number(el.dataset.hogarFramed || 0)};
}"""


def view(page) -> dict:
    return page.evaluate(_VIEW)


def wait_framed(page, after: int) -> dict:
    page.wait_for_function(
        "([n]) => Number(document.querySelector('.hogar-editor-canvas').dataset.hogarFramed || 0) > n",
        arg=[after], timeout=30_000, polling=50)
    return view(page)


def test_fit_uses_the_real_canvas_size_at_several_widths(jupyter_server, page) -> None:
    name = jupyter_server.write_notebook("editor_fit.ipynb", [RECO])
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    browser_tab = page.locator('.jp-SideBar.jp-mod-left [data-id="filebrowser"]')
    if not page.locator(".jp-FileBrowser").first.is_visible():
        browser_tab.click()
    page.locator(".jp-FileBrowser").first.wait_for(state="visible")
    run_cells(page, 0, 1)
    wait_for_canvas(page, 0, 14)
    shown = wait_framed(page, 0)
    page.locator(".hogar-graph-editor").screenshot(path=str(ARTIFACTS / "editor-fit-shown.png"))
    assert shown["outside"] == [], shown
    assert shown["zoom"] <= 1.0

    # the user zooms in: part of the graph leaves the view; Fit brings all of it back
    # zoomed in as a wheel does (a wheel event in headless Chromium may scroll the notebook instead)
    page.evaluate("""() => { const cy = document.querySelector('.hogar-editor-canvas')._cyreg.cy;
                            cy.zoom({level: 2, renderedPosition: {x: cy.width() / 2, y: cy.height() / 2}}); }""")
    zoomed = view(page)
    assert zoomed["outside"], zoomed
    page.locator(".hogar-editor-fit").click()
    fitted = wait_framed(page, zoomed["framed"])
    assert fitted["outside"] == [], fitted
    assert abs(fitted["zoom"] - shown["zoom"]) < 0.02

    # other window widths: the canvas is measured and framed again
    sizes = {"1400 + file browser": [shown["width"], round(shown["zoom"], 3)]}
    for width in (900, 1800):
        before = view(page)["framed"]
        page.set_viewport_size({"width": width, "height": 1000})
        resized = wait_framed(page, before)
        assert resized["outside"] == [], (width, resized)
        assert resized["width"] != fitted["width"]
        sizes[str(width)] = [resized["width"], round(resized["zoom"], 3)]
        page.locator(".hogar-graph-editor").screenshot(path=str(ARTIFACTS / f"editor-fit-{width}.png"))
    assert sizes["1800"][1] >= sizes["900"][1]

    # a node added right of everything lands in view
    before = view(page)["framed"]
    page.locator(".hogar-palette-python").click()
    wait_for_canvas(page, 0, 15)
    added = wait_framed(page, before)
    assert added["outside"] == [], added
    (ARTIFACTS / "editor-fit.json").write_text(json.dumps(sizes, indent=1))
