"""GraphEditor: palette, canvas and form around one Graph, edited in place.

Every operation is a method (``add_node``, ``connect``, ``set_attr``, ``delete``,
``undo``...) that edits the Graph through its own editing API, records an undo
step, re-checks the graph and updates only what changed on the canvas. The
buttons and canvas events call the same methods.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any, Callable

import ipywidgets as widgets

from ...errors import GraphEditError, HogarError
from ..subgraph_view import Folding, SubgraphPanel
from .canvas import EditorCanvas, edge_id
from .gestures import CanvasGestures
from .form import AttributeForm
from .graph_settings import apply_setting
from .history import History
from .interaction import CanvasInteraction
from .layout import free_spot, layered_positions
from .palette import Palette, help_html
from .roundtrip import RoundTrip
from .validation import Validation, summary_html, validate

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph

__all__ = ["EDITOR_CLASS", "GraphEditor"]

EDITOR_CLASS = "hogar-graph-editor"
Point = tuple[float, float]
Target = tuple[str, Any]


class GraphEditor(CanvasInteraction, widgets.VBox):
    """A drag-and-drop editor bound to ``graph`` (edits change that very object).

    ``path``: where "save EARG" writes (default ``<graph name>.earg.yaml``);
    ``variable``: the notebook name :meth:`to_cell` binds the graph to.
    """

    def __init__(self, graph: "Graph", *, path: str | None = None, variable: str | None = None,
                 height: str = "440px") -> None:
        self.graph = graph
        self.history = History(graph)
        self.selection: Target | None = None
        self.connect_mode = False
        self.connect_source: str | None = None
        self._pressed: str | None = None
        self.hovered: str | None = None  # id of the node or edge under the mouse
        self.collapsed: set[str] = set()  # subgraph instances drawn as one node
        self._positions: dict[str, Point] = {}
        self._place_unplaced(layered_positions(graph))
        self.validation: Validation = validate(graph)

        self.canvas = EditorCanvas(height)
        self.palette = Palette(self._ui(self.add_node_from_palette))
        self.gestures = CanvasGestures(self._ui(lambda kind, x, y: self.add_node_from_palette(kind, (x, y))),
                                       self._ui(self.key))
        self.form = AttributeForm(self._ui(self._form_changed))
        self.subgraph = SubgraphPanel(self._ui(self.toggle_instance))
        self.roundtrip = RoundTrip(self, path=path, variable=variable)
        self.message = widgets.HTML()
        self.hover = widgets.HTML()
        self.problems = widgets.HTML()
        self.summary = widgets.HTML()
        self.toolbar = self._make_toolbar()
        body = widgets.HBox([self.palette, self.canvas.widget, self.form],
                            layout=widgets.Layout(width="100%", height=height, align_items="stretch"))
        super().__init__([self.toolbar, widgets.HTML(help_html()), self.gestures, body,
                          self.subgraph, self.hover, self.message,
                          self.problems, self.summary, self.roundtrip], layout=widgets.Layout(width="100%"))
        self.add_class(EDITOR_CLASS)
        # a node's mouseup carries where it was dropped, or ends a drag from another node
        self.canvas.on("node", "mousedown", self._ui(self._on_node_mousedown))
        self.canvas.on("node", "mouseup", self._ui(self._on_node_mouseup))
        self.canvas.on("node", "tap", self._ui(self._on_node_click))
        self.canvas.on("edge", "tap", self._ui(self._on_edge_click))
        for target in ("node", "edge"):  # pointing at a marked element shows its problems
            self.canvas.on(target, "mouseover", self._on_hover)
            self.canvas.on(target, "mouseout", self._on_hover_end)
        self.refresh()

    # ------------------------------------------------------------------ widgets
    def _make_toolbar(self) -> widgets.HBox:
        def button(label: str, tip: str, action: Callable[[], Any], icon: str = "") -> widgets.Button:
            b = widgets.Button(description=label, tooltip=tip, icon=icon,
                               layout=widgets.Layout(width="auto"))
            b.add_class(f"hogar-editor-{label.lower().replace(' ', '-')}")
            b.on_click(self._ui(lambda _b: action()))
            return b

        self.connect_button = widgets.ToggleButton(description="Connect", icon="arrow-right",
                                                   tooltip="draw edges: drag (or click) from a node to another")
        self.connect_button.add_class("hogar-editor-connect")
        self.connect_button.observe(self._ui(lambda c: self.set_connect_mode(c["new"])), names="value")
        self.undo_button = button("Undo", "undo the last change", self.undo, "undo")
        self.redo_button = button("Redo", "redo", self.redo, "repeat")
        return widgets.HBox([
            self.connect_button,
            button("Delete", "delete the selected node or edge", self.delete, "trash"),
            self.undo_button, self.redo_button,
            button("Auto layout", "lay the graph out left to right", self.auto_layout, "sitemap"),
            button("Fit", "show the whole graph", self.fit, "expand"),
            button("Graph settings", "name, description, defaults and cluster of the graph",
                   lambda: self.select(None), "sliders"),
            button("To UDGL", "show the canonical UDGL text", self.roundtrip.show_udgl, "code"),
            button("Save EARG", "write the EARG file", self.roundtrip.save_earg, "save"),
            button("Run", "start on the embedded engine and open the monitor", self.roundtrip.run, "play"),
        ], layout=widgets.Layout(flex_flow="row wrap"))

    def _ui(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a callback: user mistakes become a message in the widget, not a traceback."""
        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except (GraphEditError, HogarError, OSError) as err:
                self.say(str(err), error=True)
            return None

        return call

    def say(self, text: str, error: bool = False) -> None:
        colour = "#d32f2f" if error else "#2e7d32"
        self.message.value = (f'<div class="hogar-editor-message" data-error="{int(error)}" '
                              f'style="color:{colour};font-size:12px">{escape(text)}</div>')

    # ------------------------------------------------------------------ state
    @property
    def positions(self) -> dict[str, Point]:
        """Where each node is drawn: its saved position, else where the editor placed it."""
        if any(n.position is None and k not in self._positions for k, n in self.graph.nodes.items()):
            self._place_unplaced()  # nodes added to the graph outside the editor
        return {name: node.position or self._positions[name] for name, node in self.graph.nodes.items()}

    def _place_unplaced(self, suggested: dict[str, Point] | None = None) -> None:
        for name in [n for n in self._positions if n not in self.graph.nodes]:
            del self._positions[name]
        for name, node in self.graph.nodes.items():
            if node.position is None and name not in self._positions:
                taken = {n: p for n, p in self._known().items() if n != name}
                self._positions[name] = (suggested or {}).get(name) or free_spot(taken)

    def _known(self) -> dict[str, Point]:
        return {n: node.position or self._positions[n] for n, node in self.graph.nodes.items()
                if node.position or n in self._positions}

    def refresh(self) -> None:
        """Re-check the graph and bring canvas, form and lists up to date (also after edits
        made to the graph outside the editor)."""
        self._place_unplaced()
        if self.selection is not None and not self._exists(self.selection):
            self.selection = None
        if self.connect_source not in self.graph.nodes:
            self.connect_source = None
        self.validation = validate(self.graph)
        marks: dict[str, str] = {}
        if self.selection is not None:
            key = self.selection[1] if self.selection[0] == "node" else edge_id(self.selection[1])
            marks[key] = "editor-selected"
        if self.connect_source is not None:
            marks[self.connect_source] = (marks.get(self.connect_source, "") + " connect-source").strip()
        self.canvas.sync(self.graph, self.positions, self.validation, marks, self.collapsed)
        self.subgraph.show(self.subgraph.instance, Folding(self.graph, self.collapsed), self.graph.base_dir)
        self.form.show(self.selection, self.graph, self.validation)
        self.show_hovered()
        self.palette.set_templates({name: t.kind for name, t in self.graph.templates.items()})
        self.problems.value = self.validation.list_html()
        self.summary.value = summary_html(self.graph, self.validation)
        self.undo_button.disabled = not self.history.can_undo
        self.redo_button.disabled = not self.history.can_redo

    def _exists(self, target: Target) -> bool:
        if target[0] == "node":
            return target[1] in self.graph.nodes
        return any(e.key == tuple(target[1]) for e in self.graph.edges)

    def _edit(self, label: str, change: Callable[[], Any]) -> Any:
        """Run one edit of the graph as an undoable step, then refresh."""
        self.history.record(label)
        try:
            result = change()
        except Exception:
            self.history.discard()
            raise
        self.say(label)
        self.refresh()
        return result

    # ------------------------------------------------------------------ operations
    def add_node(self, kind: str, name: str | None = None, *, position: Point | None = None,
                 link_from: str | None = None, **attrs: Any) -> str:
        """Add a node of ``kind`` (or a template) at ``position`` (default: a free spot right
        of ``link_from``, else of the graph), connected from ``link_from`` if given."""
        name = name or self._fresh_name(kind)
        if position is None:
            near = self.positions.get(link_from) if link_from else None
            position = free_spot(self.positions, near)

        def change() -> None:
            self.graph.add_node(name, kind, position=position, **attrs)
            if link_from is not None:
                self.graph.connect(link_from, name)
            self.selection = ("node", name)

        self._edit(f"added {kind} `{name}`" + (f" after `{link_from}`" if link_from else ""), change)
        return name

    def add_node_from_palette(self, kind: str, position: Point | None = None) -> str:
        """What the palette does: a click places the node next to the selected one, a drop
        on the canvas at ``position``; linked from the selected node if "link from
        selected" is ticked."""
        selected = self.selection[1] if self.selection and self.selection[0] == "node" else None
        link = selected if self.palette.link.value and selected is not None else None
        if link is not None and self.graph.nodes[link].kind == "sink":
            link = None  # sinks send nothing; place next to it instead
        if position is None:
            position = free_spot(self.positions, self.positions.get(selected))
        return self.add_node(kind, position=position, link_from=link)

    def _fresh_name(self, kind: str) -> str:
        i = 1
        while f"{kind}{i}" in self.graph.nodes:
            i += 1
        return f"{kind}{i}"

    def connect(self, src: str, dst: str, **fields: Any) -> None:
        """Add the edge ``src -> dst`` and select it (``when=``/``weight=`` optional)."""
        def change() -> None:
            self.graph.connect(src, dst, **fields)
            self.selection = ("edge", (src, dst))

        self._edit(f"connected `{src}` -> `{dst}`", change)

    def delete(self, target: Target | None = None) -> None:
        """Delete ``target`` (default: the selection): ("node", name) or ("edge", (src, dst))."""
        target = target or self.selection
        if target is None:
            raise GraphEditError("select a node or an edge to delete first")
        if target[0] == "node":
            self._edit(f"deleted `{target[1]}`", lambda: self.graph.remove_node(target[1]))
        else:
            src, dst = target[1]
            self._edit(f"deleted `{src} -> {dst}`", lambda: self.graph.disconnect(src, dst))

    def rename(self, old: str, new: str) -> None:
        def change() -> None:
            self.graph.rename_node(old, new)
            if old in self._positions:
                self._positions[new] = self._positions.pop(old)
            self.selection = ("node", new)

        self._edit(f"renamed `{old}` to `{new}`", change)

    def set_attr(self, node: str, attr: str, value: Any) -> None:
        """Set (or, with None or "", unset) one attribute; text is read as UDGL ("250ms")."""
        if value is None or value == "":
            self._edit(f"unset {node}.{attr}", lambda: self.graph.unset_attr(node, attr))
        else:
            self._edit(f"set {node}.{attr}", lambda: self.graph.set_attr(node, attr, value))

    def set_edge(self, src: str, dst: str, **fields: Any) -> None:
        """Set ``when``/``weight`` of an edge ("" or None clears)."""
        fields = {k: (None if v == "" else v) for k, v in fields.items()}
        self._edit(f"set {src} -> {dst} " + ", ".join(fields), lambda: self.graph.set_edge(src, dst, **fields))

    def set_setting(self, key: str, text: str) -> None:
        """Change a graph setting: ``name``, ``description``, ``defaults.<attr>`` or
        ``cluster.<attr>`` (text read as UDGL, "" unsets). The form shows them when
        nothing is selected."""
        label = f"set {key}" if text else f"unset {key}"
        self._edit(label, lambda: apply_setting(self.graph, key, text))

    def move(self, node: str, x: float, y: float) -> None:
        """Put a node at (x, y) and keep that position in the graph (EARG ``layout``)."""
        self._edit(f"moved `{node}`", lambda: self.graph.set_position(node, x, y))

    def auto_layout(self) -> None:
        """Lay every node out left to right and keep those positions."""
        def change() -> None:
            for name, (x, y) in layered_positions(self.graph).items():
                self.graph.set_position(name, x, y)

        self._edit("laid out the graph", change)
        self.fit()

    def fit(self) -> None:
        """Frame the whole graph in the canvas as the page sizes it (positions do not change)."""
        self.canvas.fit()

    def undo(self) -> None:
        label = self.history.undo()
        if label is None:
            raise GraphEditError("nothing to undo")
        self.say(f"undid: {label}")
        self.refresh()

    def redo(self) -> None:
        label = self.history.redo()
        if label is None:
            raise GraphEditError("nothing to redo")
        self.say(f"redid: {label}")
        self.refresh()

    def select(self, target: Target | None) -> None:
        """Select ("node", name) or ("edge", (src, dst)) and show it in the form (None:
        the graph's settings)."""
        if target is not None:
            target = (target[0], tuple(target[1]) if target[0] == "edge" else target[1])
            if not self._exists(target):
                raise GraphEditError(f"no {target[0]} {target[1]!r} in the graph")
        self.selection = target
        self.refresh()

    def key(self, action: str) -> None:
        """An editing key pressed on the canvas: ``delete`` (the selection), ``undo``,
        ``redo``, or ``escape`` (leave connect mode, else the selection)."""
        if action == "delete":
            self.delete()
        elif action == "undo":
            self.undo()
        elif action == "redo":
            self.redo()
        elif action == "escape":
            if self.connect_mode:
                self.set_connect_mode(False)
            else:
                self.select(None)
        else:
            raise GraphEditError(f"no key action {action!r}")

    def set_connect_mode(self, on: bool) -> None:
        """In connect mode nodes do not move: a drag (or two clicks) draws an edge."""
        self.connect_mode, self.connect_source, self._pressed = bool(on), None, None
        self.canvas.set_grabbable(not on)
        if self.connect_button.value != bool(on):
            self.connect_button.value = bool(on)
        self.say("connect mode: drag from one node to another" if on else "move mode: drag nodes")
        self.refresh()

    # ------------------------------------------------------------------ events
    def _form_changed(self, target: Target, attr: str, text: str) -> None:
        try:
            if target[0] == "graph":
                self.set_setting(attr, text)
            elif target[0] == "edge":
                self.set_edge(*target[1], **{attr: text})
            elif attr == "name":
                if text != target[1]:
                    self.rename(target[1], text)
            else:
                self.set_attr(target[1], attr, text)
        except GraphEditError:
            self.form.forget()
            self.refresh()  # put the field back to the model's value
            raise

    # ------------------------------------------------------------------ round trip
    def to_udgl(self) -> str:
        """The graph's canonical UDGL text."""
        return self.graph.to_udgl()

    def to_earg(self, format: str = "yaml") -> str:
        """The EARG text (raises UDGLError while the graph has errors)."""
        from ...core.earg import dump_earg

        return dump_earg(self.graph, format)  # type: ignore[arg-type]

    def save_earg(self, path: str | None = None, format: str | None = None) -> str:
        """Write the EARG file; returns its path."""
        return self.roundtrip.save_earg(path, format)

    def to_cell(self, variable: str | None = None) -> str:
        """From a cell: put a ``%%udgl`` cell with this graph below it; returns the text."""
        return self.roundtrip.to_cell(variable)

    def run(self, namespace: dict | None = None) -> Any:
        """Start the graph on the embedded engine and open the monitor; returns the Deployment."""
        return self.roundtrip.run(namespace)

    def stop(self) -> None:
        """Stop what :meth:`run` started."""
        self.roundtrip.stop()

    def __repr__(self) -> str:
        return f"<GraphEditor of {self.graph!r}>"
