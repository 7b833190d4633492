"""A layered left-to-right drawing of a graph with edges routed around the nodes.

grandalf's Sugiyama layout ranks the nodes, orders each rank to reduce crossings
and places long edges on dummy slots of the ranks they cross. Edges are then
drawn orthogonally: out of the source horizontally, down or up in a channel of
the gap between two ranks, and into the next point horizontally. A horizontal run
only crosses a rank at its own slot (the source, a dummy slot or the target) and a
vertical run only lies in a gap, so no edge passes through a node that is not one
of its ends. Node boxes include their labels, so labels keep their size and the
drawing grows instead.

cytoscape draws a route as a ``segments`` edge: each bend point becomes a weight
along the source-target line and a distance perpendicular to it
(``edge-distances: node-position``), stored in the edge's data as ``sw``/``sd``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

__all__ = ["LABEL_FONT_PX", "NODE_SIZE", "Drawing", "label_box", "layered_drawing", "segment_data"]

Point = tuple[float, float]

#: node body (width, height) on the canvas, in model pixels
NODE_SIZE = (34.0, 26.0)
#: size of node labels on the canvas, in model pixels
LABEL_FONT_PX = 12.0
_LABEL_GAP = 4.0  # between the body and the label under it
_NODE_SEP = 22.0  # between two boxes of a rank
_RANK_SEP = 70.0  # between two ranks: room for the vertical runs
_MARGIN = 24.0


def label_box(label: str, font_px: float = LABEL_FONT_PX) -> tuple[float, float]:
    """Width and height a (multi-line) label takes at ``font_px`` (sans-serif estimate)."""
    lines = label.split("\n") or [""]
    width = max(len(line) for line in lines) * font_px * 0.62
    return width, len(lines) * font_px * 1.25


@dataclass
class Drawing:
    """Node centres, edge bend points and the extent, in canvas model pixels."""

    positions: dict[str, Point]
    routes: dict[tuple[str, str], list[Point]] = field(default_factory=dict)
    width: float = 0.0
    height: float = 0.0
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # x1, y1, x2, y2


class _View:
    """What grandalf reads and writes on a vertex: its size and its centre."""

    def __init__(self, w: float = 1.0, h: float = 1.0) -> None:
        self.w, self.h = w, h
        self.xy = (0.0, 0.0)


def layered_drawing(nodes: Iterable[str], edges: Iterable[tuple[str, str]],
                    labels: Mapping[str, str] | None = None) -> Drawing:
    """Lay ``nodes`` out left to right by rank and route every forward edge.

    Edges that close a cycle are left unrouted (drawn as curves).
    """
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    names = list(dict.fromkeys(nodes))
    if not names:
        return Drawing({})
    labels = labels or {}
    body_w, body_h = NODE_SIZE
    label_sizes = {name: label_box(labels.get(name, name)) for name in names}
    # one label height for every box, so body centres of a rank line up with its slots
    label_h = _LABEL_GAP + max(lh for _, lh in label_sizes.values())
    size: dict[str, tuple[float, float]] = {}  # box width, box height
    vertices: dict[str, Vertex] = {}
    for name in names:
        w, h = max(body_w, label_sizes[name][0]), body_h + label_h
        size[name] = (w, h)
        v = Vertex(name)
        v.view = _View(w=h, h=w)  # grandalf lays ranks top-down: its x is our y
        vertices[name] = v
    pairs = [(s, d) for s, d in dict.fromkeys(edges) if s in vertices and d in vertices and s != d]
    g_edges = [Edge(vertices[s], vertices[d]) for s, d in pairs]
    graph = Graph(list(vertices.values()), g_edges)

    positions: dict[str, Point] = {}
    chains: dict[tuple[str, str], list[Point]] = {}
    rank_extent: dict[tuple[int, int], tuple[float, float]] = {}  # (component, rank) -> x range
    component_of: dict[str, int] = {}
    offset_y = 0.0
    for ci, component in enumerate(graph.C):
        sug = SugiyamaLayout(component)
        sug.xspace, sug.yspace = _NODE_SEP, _RANK_SEP
        sug.dw, sug.dh = 8.0, 8.0
        sug.init_all()
        sug.draw(3)
        ys = [v.view.xy[0] - v.view.w / 2 for layer in sug.layers for v in layer]
        top = min(ys)
        for r, layer in enumerate(sug.layers):
            xs = [v.view.xy[1] for v in layer]
            half = max(v.view.h for v in layer) / 2
            rank_extent[(ci, r)] = (min(xs) - half, max(xs) + half)
        for v in component.sV:
            gy, gx = v.view.xy
            name = v.data
            positions[name] = (gx, gy - top + offset_y - label_h / 2)
            component_of[name] = ci
        for e in component.sE:
            s, d = e.v[0].data, e.v[1].data
            rs, rd = sug.grx[e.v[0]].rank, sug.grx[e.v[1]].rank
            if rs >= rd:
                continue  # a cycle's back edge: not routed
            dummies = sug.ctrls.get(e, {})
            points = [positions[s]]
            for r in range(rs + 1, rd):
                gy, gx = dummies[r].view.xy
                points.append((gx, gy - top + offset_y - label_h / 2))
            points.append(positions[d])
            chains[(s, d)] = [(p[0], p[1], rs + i) for i, p in enumerate(points)]  # type: ignore[misc]
        bottom = max(v.view.xy[0] + v.view.w / 2 for layer in sug.layers for v in layer)
        offset_y += bottom - top + 2 * _NODE_SEP

    routes = _orthogonal_routes(chains, rank_extent, component_of)
    min_x = min(x - size[n][0] / 2 for n, (x, _) in positions.items())
    min_y = min(y - NODE_SIZE[1] / 2 for _, y in positions.values())
    dx, dy = _MARGIN - min_x, _MARGIN - min_y
    positions = {n: (x + dx, y + dy) for n, (x, y) in positions.items()}
    routes = {k: [(x + dx, y + dy) for x, y in pts] for k, pts in routes.items()}
    boxes = {}
    for n, (x, y) in positions.items():
        w, h = size[n]
        boxes[n] = (x - w / 2, y - body_h / 2, x + w / 2, y - body_h / 2 + h)
    width = max(b[2] for b in boxes.values()) + _MARGIN
    height = max(b[3] for b in boxes.values()) + _MARGIN
    return Drawing(positions, routes, width, height, boxes)


def _orthogonal_routes(chains: dict, rank_extent: dict, component_of: dict[str, int]) -> dict:
    """Bend points of each chain: horizontal, vertical in the gap's channel, horizontal."""
    # every step between two ranks that changes height needs a vertical run in that gap;
    # the steps leaving one point share a channel (a fan-out reads as one bus)
    gaps: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for (s, _d), chain in chains.items():
        ci = component_of[s]
        for (x0, y0, r0), (x1, y1, _r1) in zip(chain, chain[1:]):
            if abs(y0 - y1) > 0.5:
                starts = gaps.setdefault((ci, r0), [])
                if (x0, y0) not in starts:
                    starts.append((x0, y0))
    channel: dict[tuple[int, int, float, float], float] = {}
    for (ci, r), starts in gaps.items():
        left = rank_extent[(ci, r)][1]
        right = rank_extent.get((ci, r + 1), (left + _RANK_SEP, 0.0))[0]
        starts.sort(key=lambda p: p[1])
        for i, (x0, y0) in enumerate(starts):
            channel[(ci, r, x0, y0)] = left + (right - left) * (i + 1) / (len(starts) + 1)
    routes: dict[tuple[str, str], list[Point]] = {}
    for key, chain in chains.items():
        ci = component_of[key[0]]
        bends: list[Point] = []
        for i, ((x0, y0, r0), (x1, y1, _r1)) in enumerate(zip(chain, chain[1:])):
            if i > 0:
                bends.append((x0, y0))  # a dummy slot
            if abs(y0 - y1) > 0.5:
                xc = channel[(ci, r0, x0, y0)]
                bends += [(xc, y0), (xc, y1)]
        routes[key] = _simplify([(chain[0][0], chain[0][1]), *bends, (chain[-1][0], chain[-1][1])])[1:-1]
    return routes


def _simplify(points: list[Point]) -> list[Point]:
    """Drop repeated points and the middle of three collinear points."""
    out: list[Point] = []
    for p in points:
        if out and abs(out[-1][0] - p[0]) < 0.01 and abs(out[-1][1] - p[1]) < 0.01:
            continue
        out.append(p)
        while len(out) >= 3:
            (ax, ay), (bx, by), (cx, cy) = out[-3:]
            if abs((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) < 0.01:
                del out[-2]
            else:
                break
    return out


def segment_data(source: Point, target: Point, bends: list[Point]) -> dict[str, str]:
    """cytoscape ``segment-weights``/``segment-distances`` (as ``sw``/``sd`` strings)
    that put a ``segments`` edge's bend points at ``bends``, relative to the node centres."""
    (sx, sy), (tx, ty) = source, target
    vx, vy = tx - sx, ty - sy
    length2 = vx * vx + vy * vy
    if not bends or length2 == 0:
        return {"sw": "0.5", "sd": "0"}
    length = length2 ** 0.5
    nx, ny = -vy / length, vx / length  # cytoscape's normal of the source -> target line
    weights, distances = [], []
    for px, py in bends:
        weights.append(((px - sx) * vx + (py - sy) * vy) / length2)
        distances.append((px - sx) * nx + (py - sy) * ny)
    return {"sw": " ".join(f"{w:.5f}" for w in weights), "sd": " ".join(f"{d:.2f}" for d in distances)}
