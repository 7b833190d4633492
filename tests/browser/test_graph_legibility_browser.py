"""The graph view as a person reads it (JupyterLab, headless Chromium): for the
example graphs no edge passes through a node that is not one of its ends, labels
are at least 10 px on screen, and no two node labels overlap."""

from __future__ import annotations

import json

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells, wait_for_canvas

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# the graph of the design brief, as written there
FRAUD = """\
%%udgl fraud_scoring
graph fraud_scoring "Scores card transactions"
param threshold = 0.8
defaults { timeout = 250ms, retries = 2, recovery = restart }
template gpu_model = model { gpu = 1, replicas = 2, memory = 4GiB }
source    ingest   { route = "/score" }
python    features { impl = "fraud.features:build", replicas = 2, cpu = 1, batch = 32, batch_wait = 5ms }
model     xgb      { impl = "models/xgb.json", replicas = 4 }
gpu_model nn       { impl = "models/nn.onnx" }
ensemble  blend    { combine = mean, weights = [0.7, 0.3] }
switch    gate     { impl = "fraud.rules:route" }
split     canary
python    review_v2 { impl = "fraud.review:v2" }
sink      out
ingest -> features -> [xgb, nn] -> blend -> gate
gate -> out        { when = "accept" }
gate -> canary     { when = "review" }
canary -> out      { weight = 90% }
canary -> review_v2 { weight = 10% }
review_v2 -> out
"""

# notebooks/02_udgl_tour.ipynb: `gate -> out` used to be drawn through `v1`
ROUTING = """\
%%udgl routing
source in
python clean_step { impl = "svc:clean" }
python a { impl = "svc:a" }
python b { impl = "svc:b" }
ensemble avg { combine = mean }
switch gate { impl = "svc:route" }
split canary
python v1 { impl = "svc:v1" }
python v2 { impl = "svc:v2" }
sink out
in -> clean_step -> [a, b] -> avg -> gate
gate -> out { when = "accept" }
gate -> canary { when = "*" }
canary -> v1 { weight = 90% }
canary -> v2 { weight = 10% }
[v1, v2] -> out
"""

# a recommendation graph of 13 nodes with a side output
RECO = """\
%%udgl reco
graph reco "Recommends items"
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
sink out { response = true }
sink audit
api -> [session, user_hist] -> feats -> candidates -> [ranker, popular] -> blend -> gate
gate -> out { when = "cached" }
gate -> canary { when = "*" }
canary -> v1 { weight = 90% }
canary -> v2 { weight = 10% }
[v1, v2] -> out
candidates -> audit
"""

GRAPHS = {"fraud_scoring": (FRAUD, 9), "routing": (ROUTING, 10), "reco": (RECO, 14)}

# each edge as drawn: a polyline (segments), sampled quadratic curves (bezier) or a line
_DRAWN = """([i]) => {
  const el = document.querySelectorAll('.hogar-graph-canvas')[i];
  const cy = el._cyreg.cy;
  const q = (a, c, b, t) => ({x: (1-t)*(1-t)*a.x + 2*(1-t)*t*c.x + t*t*b.x,
                              y: (1-t)*(1-t)*a.y + 2*(1-t)*t*c.y + t*t*b.y});
  const mid = (a, b) => ({x: (a.x + b.x) / 2, y: (a.y + b.y) / 2});
  const edges = cy.edges().map(e => {
    const s = e.sourceEndpoint(), t = e.targetEndpoint();
    const seg = e.segmentPoints(), ctl = e.controlPoints();
    let pts = [s];
    if (seg) pts = pts.concat(seg);
    else if (ctl && ctl.length) {
      let from = s;
      ctl.forEach((c, k) => {
        const to = k + 1 < ctl.length ? mid(c, ctl[k + 1]) : t;
        for (let j = 1; j < 20; j++) pts.push(q(from, c, to, j / 20));
        from = to;
      });
    }
    pts.push(t);
    const text = e.data('label') ? e.boundingBox({includeNodes: false, includeEdges: false, includeLabels: true,
                                                     includeOverlays: false}) : null;
    return {source: e.source().id(), target: e.target().id(), curve: e.style('curve-style'),
            points: pts.map(p => [p.x, p.y]), label: text && text.w > 0 ? [text.x1, text.y1, text.x2, text.y2] : null,
            text: e.data('label') || ''};
  });
  const box = (b) => [b.x1, b.y1, b.x2, b.y2];
  const nodes = cy.nodes().map(n => ({id: n.id(), body: box(n.boundingBox({includeLabels: false})),
                                       label: box(n.boundingBox({includeNodes: false, includeLabels: true})),
                                       font: parseFloat(n.style('font-size'))}));
  return {edges, nodes, zoom: cy.zoom(), width: cy.width(), height: cy.height()};
}"""


def crosses(a, b, box, inset: float = 1.0) -> bool:
    """Whether segment a-b meets the box (x1, y1, x2, y2) shrunk by ``inset`` (Liang-Barsky)."""
    x1, y1, x2, y2 = box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset
    dx, dy = b[0] - a[0], b[1] - a[1]
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, a[0] - x1), (dx, x2 - a[0]), (-dy, a[1] - y1), (dy, y2 - a[1])):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t0 <= t1


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_edges_go_around_nodes_and_labels_stay_readable(jupyter_server, page) -> None:
    cells = ["%load_ext hogar_nb"] + [text for text, _ in GRAPHS.values()]
    name = jupyter_server.write_notebook("legibility.ipynb", cells)
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, len(cells))
    found = {}
    for index, (graph, (_text, n_nodes)) in enumerate(GRAPHS.items()):
        wait_for_canvas(page, index, n_nodes)
        page.wait_for_function(  # framed by the page once it measured the canvas
            "([i]) => !!document.querySelectorAll('.hogar-graph-canvas')[i].dataset.hogarFramed", arg=[index])
        page.locator(".jp-Cell").nth(index + 1).scroll_into_view_if_needed()
        drawn = page.evaluate(_DRAWN, [index])
        page.locator(".jp-Cell").nth(index + 1).locator(".hogar-graph-view").screenshot(
            path=str(ARTIFACTS / f"graph-legibility-{graph}.png"))
        nodes = {n["id"]: n for n in drawn["nodes"]}
        through = []
        for edge in drawn["edges"]:
            pts = edge["points"]
            for other, node in nodes.items():
                if other in (edge["source"], edge["target"]):
                    continue
                for box in (node["body"], node["label"]):
                    if any(crosses(a, b, box) for a, b in zip(pts, pts[1:])):
                        through.append(f"{edge['source']} -> {edge['target']} through {other}")
                        break
        assert through == [], f"{graph}: {through}"
        # an edge's label (a `when` or a weight) is clear of every node, its ends included
        # (a node's box shrunk by 3 px: the corners of a diamond's or a round box are empty)
        covered = [f"{e['source']} -> {e['target']} {e['text']!r} under {n}: {e['label']} {node['body']}"
                   for e in drawn["edges"] if e["label"] for n, node in nodes.items()
                   if overlap(e["label"], [node["body"][0] + 3, node["body"][1] + 3,
                                           node["body"][2] - 3, node["body"][3] - 3])]
        assert covered == [], f"{graph}: {covered}"
        assert all(e["label"] for e in drawn["edges"] if e["text"]), f"{graph}: an edge label is not drawn"
        small = {n: f["font"] * drawn["zoom"] for n, f in nodes.items() if f["font"] * drawn["zoom"] < 10}
        assert small == {}, f"{graph}: labels under 10 px on screen: {small}"
        labels = sorted(nodes)
        clashes = [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:]
                   if overlap(nodes[a]["label"], nodes[b]["label"])]
        assert clashes == [], f"{graph}: overlapping labels {clashes}"
        found[graph] = {"zoom": round(drawn["zoom"], 3), "canvas": [drawn["width"], drawn["height"]],
                        "curves": sorted({e["curve"] for e in drawn["edges"]})}
    (ARTIFACTS / "graph-legibility.json").write_text(json.dumps(found, indent=1))
