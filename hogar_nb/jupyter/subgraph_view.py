"""Subgraph instances on a canvas: a box around an instance's nodes or, collapsed, one
node standing for them, and the panel that collapses, expands and shows the file.

A collapsed instance is drawn as one node (id ``folded:NAME``, class ``subgraph-collapsed``;
its box is ``use:NAME``) where its nodes were; every edge between one of its nodes and
a node outside it is drawn to or from that node instead (once per outside node), and
its inner edges are not drawn. Both the graph view and the editor fold their canvas
with :class:`Folding` and show a :class:`SubgraphPanel` when a box or a collapsed node
is clicked.

Folding changes classes only: the canvas holds the node of every instance and every
edge a folding could draw from the start, those not drawn now in the class
``folded`` (not displayed), so collapsing or expanding sends the classes that change
and nothing else, and never moves a node.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import ipywidgets as widgets

if TYPE_CHECKING:  # pragma: no cover
    from ..core.graph import Graph
    from ..core.model import Edge

__all__ = ["BOX_PREFIX", "FOLDED_CLASS", "FOLDED_PREFIX", "Folding", "SubgraphPanel", "instance_of", "subgraph_boxes"]

BOX_PREFIX = "use:"
FOLDED_PREFIX = "folded:"
FOLDED_CLASS = "folded"  # an element not drawn in the current folding
SOURCE_LIMIT = 200_000  # characters of an included file the panel shows
Point = tuple[float, float]


def instance_of(element_id: Any) -> str | None:
    """The instance a box or collapsed node id names (``use:prep`` -> ``prep``), else None."""
    for prefix in (BOX_PREFIX, FOLDED_PREFIX):
        if isinstance(element_id, str) and element_id.startswith(prefix):
            return element_id[len(prefix):]
    return None


def _use(node: Any) -> str:
    return (node.origin or {}).get("use") or ""


def subgraph_boxes(graph: Any) -> list[dict[str, str]]:
    """A compound node per subgraph instance (``use``), nested as the instances are:
    ``{"id": "use:prep", "label": "prep (blocks/prep.udgl)"}``, with ``parent`` inside another."""
    boxes: dict[str, dict[str, str]] = {}
    for node in graph.nodes.values():
        use = _use(node)
        if not use:
            continue
        parts = use.split(".")
        for i in range(1, len(parts) + 1):
            inst = ".".join(parts[:i])
            if inst not in boxes:
                box = {"id": f"{BOX_PREFIX}{inst}", "label": inst}
                if i > 1:
                    box["parent"] = f"{BOX_PREFIX}{'.'.join(parts[:i - 1])}"
                boxes[inst] = box
        boxes[use]["label"] = f"{use} ({node.origin.get('file', '')})"
    return list(boxes.values())


class Folding:
    """What a canvas shows of ``graph`` with the instances in ``collapsed`` folded up."""

    def __init__(self, graph: "Graph", collapsed: Iterable[str] = ()) -> None:
        self.graph = graph
        self.all_boxes = subgraph_boxes(graph)
        present = {instance_of(b["id"]) for b in self.all_boxes}
        self.collapsed = frozenset(c for c in collapsed if c in present)

    def owner(self, use: str) -> str | None:
        """The outermost collapsed instance around an instance path ``use``, if any."""
        if not self.collapsed or not use:
            return None
        parts = use.split(".")
        for i in range(1, len(parts) + 1):
            inst = ".".join(parts[:i])
            if inst in self.collapsed:
                return inst
        return None

    def shown(self, name: str) -> str:
        """The canvas id that stands for node ``name``: itself, or its collapsed instance."""
        owner = self.owner(_use(self.graph.nodes[name])) if name in self.graph.nodes else None
        return name if owner is None else f"{FOLDED_PREFIX}{owner}"

    def box_drawn(self, box: dict[str, str]) -> bool:
        """Whether a box is drawn: its instance is neither collapsed nor inside a collapsed one."""
        return self.owner(instance_of(box["id"]) or "") is None

    def boxes(self) -> list[dict[str, str]]:
        """The boxes drawn now."""
        return [b for b in self.all_boxes if self.box_drawn(b)]

    def members(self, instance: str) -> list[str]:
        """The graph's nodes inside ``instance`` (nested instances' included)."""
        return [n for n, node in self.graph.nodes.items()
                if _use(node) == instance or _use(node).startswith(instance + ".")]

    def stand_ins(self, positions: dict[str, Point]) -> list[tuple[dict[str, Any], Point | None, bool]]:
        """``(data, position, drawn)`` of the node that stands for each instance when it is
        collapsed, at the middle of its nodes; drawn for the outermost collapsed ones."""
        out = []
        for box in self.all_boxes:
            inst = instance_of(box["id"]) or ""
            members = self.members(inst)
            data: dict[str, Any] = {"id": f"{FOLDED_PREFIX}{inst}", "kind": "subgraph",
                                    "label": f"{inst} ({len(members)} nodes)"}
            if "." in inst:
                data["parent"] = f"{BOX_PREFIX}{inst.rsplit('.', 1)[0]}"
            placed = [positions[m] for m in members if m in positions]
            where = ((sum(p[0] for p in placed) / len(placed), sum(p[1] for p in placed) / len(placed))
                     if placed else None)
            out.append((data, where, self.owner(inst) == inst))
        return out

    def edges(self) -> dict[tuple[str, str], "Edge | None"]:
        """The edges drawn now, by their ends on the canvas: the graph's own edge where both
        ends are shown, None for an edge drawn to or from a collapsed instance."""
        out: dict[tuple[str, str], Edge | None] = {}
        for e in self.graph.edges:
            key = (self.shown(e.src), self.shown(e.dst))
            if key[0] == key[1]:
                continue  # inside a collapsed instance
            if key == e.key:
                out[key] = e
            else:
                out.setdefault(key, None)
        return out

    def all_edges(self) -> dict[tuple[str, str], "Edge | None"]:
        """Every edge some folding draws: each edge of the graph, and the edge to or from
        the node of each instance around either end."""
        out: dict[tuple[str, str], Edge | None] = {}
        for e in self.graph.edges:
            for src in self._stand_ins_for(e.src):
                for dst in self._stand_ins_for(e.dst):
                    key = (src, dst)
                    if src == dst:
                        continue
                    if key == e.key:
                        out[key] = e
                    else:
                        out.setdefault(key, None)
        return out

    def _stand_ins_for(self, name: str) -> list[str]:
        use = _use(self.graph.nodes[name]) if name in self.graph.nodes else ""
        parts = use.split(".") if use else []
        return [name, *(f"{FOLDED_PREFIX}{'.'.join(parts[:i])}" for i in range(1, len(parts) + 1))]

    def file_of(self, instance: str) -> str | None:
        """The included file an instance was made from (as the including graph names it)."""
        for node in self.graph.nodes.values():
            if _use(node) == instance:
                return (node.origin or {}).get("file")
        return None


class SubgraphPanel(widgets.VBox):
    """The clicked instance: its file and nodes, Collapse/Expand, and the file's text."""

    def __init__(self, on_toggle: Callable[[str], Any]) -> None:
        self.instance: str | None = None
        self.info = widgets.HTML()
        self.toggle = widgets.Button(description="Collapse", icon="compress", layout=widgets.Layout(width="auto"))
        self.toggle.add_class("hogar-subgraph-toggle")
        self.source_button = widgets.ToggleButton(description="Show source", icon="file-code-o",
                                                  layout=widgets.Layout(width="auto"))
        self.source_button.add_class("hogar-subgraph-source")
        self.source = widgets.HTML()
        self.toggle.on_click(lambda _b: self.instance is not None and on_toggle(self.instance))
        self.source_button.observe(lambda _c: self._show_source(), names="value")
        self._path: Path | None = None
        super().__init__([self.info, widgets.HBox([self.toggle, self.source_button]), self.source],
                         layout=widgets.Layout(width="100%", display="none"))
        self.add_class("hogar-subgraph-panel")

    def show(self, instance: str | None, folding: Folding, base_dir: Path | None) -> None:
        """Show ``instance`` of ``folding``'s graph (None hides the panel)."""
        if instance is None or not folding.members(instance):
            self.instance, self.layout.display = None, "none"
            return
        if instance != self.instance:
            self.source_button.value = False
        self.instance = instance
        file = folding.file_of(instance)
        self._path = (base_dir or Path.cwd()) / file if file else None
        collapsed = instance in folding.collapsed
        self.toggle.description, self.toggle.icon = ("Expand", "expand") if collapsed else ("Collapse", "compress")
        members = folding.members(instance)
        self.info.value = (
            f'<div class="hogar-subgraph-info" style="font-family:sans-serif;font-size:12px">'
            f"<b>{escape(instance)}</b>: subgraph from <code>{escape(file or '?')}</code>, "
            f"{len(members)} node{'s' * (len(members) != 1)} ({escape(', '.join(members))})</div>")
        self.source_button.disabled = self._path is None
        self.layout.display = "flex"
        self._show_source()

    def _show_source(self) -> None:
        if not self.source_button.value or self._path is None:
            self.source_button.description = "Show source"
            self.source.value = ""
            return
        self.source_button.description = "Hide source"
        try:
            text = self._path.read_text(encoding="utf-8", errors="replace")[:SOURCE_LIMIT]
        except OSError as err:
            self.source.value = f'<div style="color:#d32f2f">cannot read {escape(str(self._path))}: {escape(err.strerror or str(err))}</div>'
            return
        lines = "".join(f'<span style="color:#999">{i:>4}</span>  {escape(line)}\n'
                        for i, line in enumerate(text.split("\n"), 1))
        self.source.value = (f'<div style="font-size:11px;color:#666">{escape(str(self._path))}</div>'
                             f'<pre class="hogar-subgraph-text" style="max-height:320px;overflow:auto;'
                             f'background:#f7f7f7;padding:4px;margin:2px 0">{lines}</pre>')
