"""The layered drawing keeps every edge off the nodes it does not join, and the
node details speak UDGL (``timeout = 250ms``) with the EARG key as a hint."""

from __future__ import annotations

import hogar_nb
from hogar_nb.jupyter.graph_layout import layered_drawing, segment_data
from hogar_nb.jupyter.graph_view import GraphView, node_label
from hogar_nb.jupyter.node_details import udgl_rows

ROUTING = """\
source in
python clean_step { impl = "svc:clean" }
python a { impl = "svc:a" }
python b { impl = "svc:b" }
ensemble avg { combine = mean }
switch gate { impl = "svc:route" }
split canary
python v1 { impl = "svc:v1", timeout = 250ms, memory = 512MiB, recovery = restart(max = 3, backoff = 20ms) }
python v2 { impl = "svc:v2" }
sink out
in -> clean_step -> [a, b] -> avg -> gate
gate -> out { when = "accept" }
gate -> canary { when = "*" }
canary -> v1 { weight = 90% }
canary -> v2 { weight = 10% }
[v1, v2] -> out
"""


def _hits(a, b, box) -> bool:
    """Whether segment a-b meets the inside of box (x1, y1, x2, y2), for axis-parallel segments."""
    (x0, y0), (x1, y1) = a, b
    if abs(y0 - y1) < 1e-6:  # horizontal
        return box[1] < y0 < box[3] and min(x0, x1) < box[2] and max(x0, x1) > box[0]
    assert abs(x0 - x1) < 1e-6, "routes are orthogonal"
    return box[0] < x0 < box[2] and min(y0, y1) < box[3] and max(y0, y1) > box[1]


def test_routes_are_orthogonal_and_miss_every_other_node() -> None:
    g = hogar_nb.parse_udgl(ROUTING)
    resolved = dict(g.resolution().nodes)
    drawing = layered_drawing(g.nodes, [e.key for e in g.edges],
                              {n: node_label(n, resolved[n]) for n in g.nodes})
    assert set(drawing.routes) == {e.key for e in g.edges}
    xs = drawing.positions
    assert xs["in"][0] < xs["clean_step"][0] < xs["avg"][0] < xs["gate"][0] < xs["canary"][0] < xs["out"][0]
    for (src, dst), bends in drawing.routes.items():
        points = [xs[src], *bends, xs[dst]]
        for a, b in zip(points, points[1:]):
            for other, box in drawing.boxes.items():
                if other not in (src, dst):
                    assert not _hits(a, b, box), f"{src} -> {dst} crosses {other}"
    # gate -> out skips two ranks: it bends around canary and v1/v2
    assert len(drawing.routes[("gate", "out")]) >= 2


def test_segment_data_puts_bends_where_asked() -> None:
    s, t = (0.0, 0.0), (100.0, 50.0)
    data = segment_data(s, t, [(50.0, 0.0), (50.0, 50.0)])
    weights = [float(w) for w in data["sw"].split()]
    distances = [float(d) for d in data["sd"].split()]
    length = (100.0 ** 2 + 50.0 ** 2) ** 0.5
    normal = (-50.0 / length, 100.0 / length)
    for (w, d), expected in zip(zip(weights, distances), [(50.0, 0.0), (50.0, 50.0)]):
        x, y = s[0] + w * (t[0] - s[0]) + d * normal[0], s[1] + w * (t[1] - s[1]) + d * normal[1]
        assert abs(x - expected[0]) < 0.05 and abs(y - expected[1]) < 0.05


def test_node_details_are_udgl_with_earg_hints() -> None:
    g = hogar_nb.parse_udgl(ROUTING)
    rows = {attr: (value, key) for attr, value, key in udgl_rows(g.resolution().nodes["v1"])}
    assert rows["timeout"] == ("250ms", "timeout_ms")
    assert rows["memory"] == ("512MiB", "resources.memory_bytes")
    assert rows["recovery"] == ("restart(max = 3, backoff = 20ms)", "recovery")
    assert rows["impl"][0] == '"svc:v1"'
    view = GraphView(g)
    view.select("v1")
    html = view.details.value
    assert "timeout =</span> <code>250ms</code>" in html and "EARG timeout_ms" in html
    assert "250.0" not in html and "memory_bytes =" not in html
