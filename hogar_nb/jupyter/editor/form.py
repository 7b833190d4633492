"""The attribute form: one field per attribute the selected node's kind (or edge) accepts.

Fields are built from :mod:`hogar_nb.core.kinds` (types, units, ranges, docs), show
the node's own value as UDGL text and the inherited value as a placeholder. A
change is reported through ``on_change(target, attr, text)``; empty text unsets.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any, Callable

import ipywidgets as widgets

from ...core.kinds import EDGE_ATTRS, KINDS, AttrSpec, attrs_for_kind, default_value
from ...core.values import format_duration, format_size, format_value

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph
    from .validation import Validation

__all__ = ["AttributeForm", "FORM_CLASS", "format_attr"]

FORM_CLASS = "hogar-editor-form"
_RAW_TYPES = ("string", "impl", "combine")  # the model keeps these as typed, not parsed
_UNIT_HINT = {"duration": "ms, s, m", "size": "B, KiB, MiB, GiB", "percent": "%"}
_RESOLVED_FIELD = {"memory": "memory_bytes", "batch": "batch_size", "batch_wait": "batch_wait_ms",
                   "timeout": "timeout_ms", "latency": "latency_ms"}

Target = tuple[str, Any]  # ("node", name) or ("edge", (src, dst))
OnChange = Callable[[Target, str, str], None]


def format_attr(spec: AttrSpec, value: Any) -> str:
    """A value as the user types it: UDGL text, strings without quotes."""
    if value is None:
        return ""
    if spec.type in _RAW_TYPES and isinstance(value, str):
        return value
    try:
        return format_value(value)
    except TypeError:
        return getattr(value, "__qualname__", None) or str(value)


def _format_resolved(spec: AttrSpec, value: Any) -> str:
    """A resolved value (ms, bytes, recovery dict) as UDGL text, for placeholders."""
    if value is None:
        return "unset"
    if spec.type == "duration" and isinstance(value, (int, float)):
        return format_duration(float(value)) if value else "0ms"
    if spec.type == "size" and isinstance(value, int):
        return format_size(value) if value else "0B"
    if spec.type == "recovery" and isinstance(value, dict):
        if value.get("policy") != "restart":
            return str(value.get("policy"))
        return (f"restart(max = {value.get('max_restarts')}, "
                f"backoff = {format_duration(float(value.get('backoff_ms', 0)))})")
    if spec.type == "percent" and isinstance(value, float):
        return f"{value * 100:g}%"
    return format_attr(spec, value)


class AttributeForm(widgets.VBox):
    """Fields for the selected node or edge; ``fields[attr]`` is each field's widget."""

    def __init__(self, on_change: OnChange) -> None:
        self.on_change = on_change
        self.target: Target | None = None
        self.fields: dict[str, widgets.ValueWidget] = {}
        self._loading = False
        self._shown: Any = None
        self.title = widgets.HTML()
        self.problems = widgets.HTML()
        self.rows = widgets.VBox()
        super().__init__([self.title, self.problems, self.rows],
                         layout=widgets.Layout(width="360px", flex="0 0 360px", overflow="auto",
                                               padding="0 0 0 8px"))
        self.add_class(FORM_CLASS)
        self.show(None)

    # ------------------------------------------------------------------ building
    def forget(self) -> None:
        """Rebuild on the next :meth:`show` even if nothing changed (undo a refused entry)."""
        self._shown = None

    def show(self, target: Target | None, graph: "Graph | None" = None,
             validation: "Validation | None" = None) -> None:
        """Rebuild the form for ``target`` (None: a hint what to do)."""
        key = _state_key(target, graph, validation)
        if key is not None and key == self._shown:
            return  # unchanged: keep the fields (and the user's focus)
        self._shown = key
        self._loading = True
        try:
            for row in self.rows.children:
                _close(row)
            self.target, self.fields = target, {}
            if target is None or graph is None:
                self.title.value = ('<div style="color:#777;font-size:12px">Select a node or an edge '
                                    "to edit it.</div>")
                self.problems.value, self.rows.children = "", ()
            elif target[0] == "node":
                self._show_node(graph, target[1], validation)
            else:
                self._show_edge(graph, target[1], validation)
        finally:
            self._loading = False

    def _show_node(self, graph: "Graph", name: str, validation: "Validation | None") -> None:
        node = graph.nodes[name]
        template = graph.templates.get(node.template) if node.template else None
        try:
            resolved = graph.resolved(name)
        except Exception:  # noqa: BLE001 - unresolvable: fall back to the kind's defaults
            resolved = None
        extra = f" · template <code>{escape(node.template)}</code>" if node.template else ""
        self.title.value = (f'<div style="font-size:14px"><b>{escape(name)}</b> '
                            f'<span style="color:#555">{escape(node.kind)}</span>{extra}</div>'
                            f'<div style="color:#777;font-size:11px">{escape(KINDS[node.kind])}</div>')
        self.problems.value = _problems_html(validation.node_messages.get(name, []) if validation else [])
        rows = [self._row("name", widgets.Text(value=name, continuous_update=False), None)]
        for attr, spec in attrs_for_kind(node.kind).items():
            if template is not None and attr in template.attrs:
                inherited = f"template: {format_attr(spec, template.attrs[attr])}"
            else:
                value = default_value(node.kind, attr) if resolved is None else _resolved(resolved, attr)
                inherited = f"default: {_format_resolved(spec, value)}"
            rows.append(self._row(attr, self._field(spec, node.attrs.get(attr), inherited), spec))
        self.rows.children = rows

    def _show_edge(self, graph: "Graph", key: tuple[str, str], validation: "Validation | None") -> None:
        edge = graph.edge(*key)
        src_kind = graph.nodes[key[0]].kind
        self.title.value = f'<div style="font-size:14px"><b>{escape(key[0])} → {escape(key[1])}</b></div>'
        self.problems.value = _problems_html(validation.edge_messages.get(key, []) if validation else [])
        wanted = {"switch": ("when",), "split": ("weight",)}.get(src_kind, ())
        rows = []
        for attr, spec in EDGE_ATTRS.items():
            value = getattr(edge, attr)
            if attr in wanted or value is not None:
                rows.append(self._row(attr, self._field(spec, value, "unset"), spec))
        if not rows:
            rows.append(widgets.HTML('<div style="color:#777;font-size:12px">A plain edge: edges out of a '
                                     "switch take <code>when</code>, out of a split <code>weight</code>."
                                     "</div>"))
        self.rows.children = rows

    def _field(self, spec: AttrSpec, value: Any, inherited: str) -> widgets.ValueWidget:
        text = _format_resolved(spec, value) if spec.type == "percent" and isinstance(value, float) \
            else format_attr(spec, value)
        if spec.type in ("enum", "bool"):
            options = list(spec.choices) if spec.type == "enum" else ["true", "false"]
            return widgets.Dropdown(options=[(f"({inherited})", ""), *((o, o) for o in options)],
                                    value=text if text in options else "")
        return widgets.Text(value=text, placeholder=inherited, continuous_update=False)

    def _row(self, attr: str, field: widgets.ValueWidget, spec: AttrSpec | None) -> widgets.Widget:
        """label (doc on hover), field, and what a good value is (type, range, units)."""
        field.layout = widgets.Layout(width="170px")
        field.add_class(f"hogar-field-{attr}")
        field.observe(lambda change, a=attr: self._changed(a, change["new"]), names="value")
        self.fields[attr] = field
        doc = spec.doc if spec else "the node's name"
        expectation = spec.expectation(with_range=True) if spec else "letters, digits and _"
        unit = _UNIT_HINT.get(spec.type, "") if spec else ""
        star = '<span style="color:#d32f2f">*</span>' if spec is not None and spec.required else ""
        label = widgets.HTML(f'<span title="{escape(doc)}" style="font-size:12px">{escape(attr)}{star}</span>',
                             layout=widgets.Layout(width="80px"))
        hint = widgets.HTML(f'<span style="color:#888;font-size:10px" title="{escape(doc)}">'
                            f"{escape(expectation)}{f' ({unit})' if unit else ''}</span>",
                            layout=widgets.Layout(width="100px"))
        return widgets.HBox([label, field, hint], layout=widgets.Layout(align_items="center"))

    def _changed(self, attr: str, text: str) -> None:
        if not self._loading and self.target is not None:
            self.on_change(self.target, attr, str(text).strip())


def _state_key(target: Target | None, graph: "Graph | None", validation: "Validation | None") -> Any:
    """What the form shows, as comparable data (None: always rebuild)."""
    if target is None or graph is None:
        return ("nothing",)
    messages = [] if validation is None else (
        validation.node_messages.get(target[1], []) if target[0] == "node"
        else validation.edge_messages.get(tuple(target[1]), []))
    if target[0] == "node":
        node = graph.nodes[target[1]]
        own: Any = (node.kind, node.template, repr(node.attrs))
    else:
        edge = graph.edge(*target[1])
        own = (graph.nodes[edge.src].kind, edge.when, edge.weight)
    try:
        inherited = repr(graph.resolved(target[1])) if target[0] == "node" else ""
    except Exception:  # noqa: BLE001 - unresolvable graphs are still edited
        inherited = None
    return (target, own, inherited, repr(graph.templates), tuple(d.message for d in messages))


def _close(widget: widgets.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close(child)
    widget.close()


def _resolved(resolved: Any, attr: str) -> Any:
    field = _RESOLVED_FIELD.get(attr, attr)
    if hasattr(resolved, field):
        return getattr(resolved, field)
    return resolved.extra.get(attr)


def _problems_html(diags: list) -> str:
    if not diags:
        return ""
    items = "".join(
        f'<li style="color:{"#d32f2f" if d.is_error else "#8a6d00"}">{escape(d.severity)}[{escape(d.code)}]: '
        f"{escape(d.message)}{f'<br><i>hint: {escape(d.hint)}</i>' if d.hint else ''}</li>"
        for d in diags
    )
    return f'<ul class="hogar-editor-problems" style="padding-left:16px;margin:4px 0;font-size:12px">{items}</ul>'
