"""The attribute form: one field per attribute the selected node's kind (or edge) accepts,
and the graph's own settings when nothing is selected.

Fields are built from :mod:`hogar_nb.core.kinds` (types, units, ranges, docs), show
the node's own value as UDGL text and the inherited value as a placeholder. A
change is reported through ``on_change(target, attr, text)``; empty text unsets.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any, Callable

import ipywidgets as widgets

from ...core.kinds import EDGE_ATTRS, KINDS, AttrSpec, attrs_for_kind, default_value
from .field_text import format_attr, resolved_text
from .graph_settings import GRAPH_TARGET, graph_view, setting_label

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph
    from .validation import Validation

__all__ = ["AttributeForm", "FORM_CLASS", "short_hint"]

FORM_CLASS = "hogar-editor-form"
_RESOLVED_FIELD = {"memory": "memory_bytes", "batch": "batch_size", "batch_wait": "batch_wait_ms",
                   "timeout": "timeout_ms", "latency": "latency_ms"}

_RIGID = {"flex": "0 0 auto"}  # a row of the form keeps its height
Target = tuple[str, Any]  # ("node", name), ("edge", (src, dst)) or ("graph", None)
OnChange = Callable[[Target, str, str], None]


class AttributeForm(widgets.VBox):
    """Fields for the selected node or edge; ``fields[attr]`` is each field's widget.

    While the same element stays selected, fields are updated in place (never
    rebuilt), so the field the user is typing in keeps its focus and text.
    """

    def __init__(self, on_change: OnChange) -> None:
        self.on_change = on_change
        self.target: Target | None = None
        self.fields: dict[str, widgets.ValueWidget] = {}
        self._loading = False
        self._structure: Any = None
        # Boxes are flex containers whose items may shrink (and, being scroll boxes
        # themselves, down to nothing): a long problem list would squeeze the rows
        # until they overlap. Nothing inside shrinks; the form scrolls in its own box.
        self.title = widgets.HTML(layout=_RIGID)
        self.problems = widgets.HTML(layout=_RIGID)
        self.rows = widgets.VBox(layout=widgets.Layout(flex="0 0 auto", overflow="visible"))
        super().__init__([self.title, self.problems, self.rows],
                         layout=widgets.Layout(width="360px", flex="0 0 360px", overflow="hidden auto",  # x, y
                                               padding="0 0 0 8px",
                                               max_height="100%"))
        self.add_class(FORM_CLASS)
        self.show(None)

    # ------------------------------------------------------------------ building
    def forget(self) -> None:
        """Put every field back to the model's value on the next :meth:`show` (after a refused entry)."""
        self._structure = None

    def show(self, target: Target | None, graph: "Graph | None" = None,
             validation: "Validation | None" = None) -> None:
        """Show ``target`` ("node", name) / ("edge", (src, dst)); None: the graph's settings."""
        self._loading = True
        try:
            if graph is None:
                self.target, self._structure = None, None
                self.title.value = '<div style="color:#777;font-size:12px">No graph.</div>'
                self.problems.value = ""
                self._replace_rows([], {})
                return
            sections: dict[str, str] = {}
            if target is None:
                target = GRAPH_TARGET
                title, specs, values, diags, sections = graph_view(graph, validation)
            elif target[0] == "node":
                title, specs, values, diags = _node_view(graph, target[1], validation)
            else:
                title, specs, values, diags = _edge_view(graph, tuple(target[1]), validation)
            structure = (target, tuple(specs))
            if structure != self._structure:
                self.target, self._structure = target, structure
                fields = {attr: self._field(spec, *values[attr]) for attr, spec in specs.items()}
                rows = []
                for attr, spec in specs.items():
                    if attr in sections:
                        rows.append(widgets.HTML(sections[attr], layout=_RIGID))
                    rows.append(self._row(attr, fields[attr], spec))
                if not rows:
                    rows.append(widgets.HTML('<div style="color:#777;font-size:12px">A plain edge: edges out '
                                             "of a switch take <code>when</code>, out of a split "
                                             "<code>weight</code>.</div>", layout=_RIGID))
                self._replace_rows(rows, fields)
            else:
                for attr, (text, inherited) in values.items():
                    _update(self.fields[attr], text, inherited)
            # after the rows: the page shows the new title with (not before) its fields
            self.title.value, self.problems.value = title, _problems_html(diags)
        finally:
            self._loading = False

    def _replace_rows(self, rows: list[widgets.Widget], fields: dict[str, widgets.ValueWidget]) -> None:
        old = self.rows.children
        self.rows.children, self.fields = rows, fields
        for row in old:  # after the new rows replaced them on the page
            _close(row)

    def _field(self, spec: AttrSpec | None, text: str, inherited: str) -> widgets.ValueWidget:
        if spec is not None and spec.type in ("enum", "bool"):
            options = _choices(spec)
            return widgets.Dropdown(options=[(f"({inherited})", ""), *((o, o) for o in options)],
                                    value=text if text in options else "")
        return widgets.Text(value=text, placeholder=inherited, continuous_update=False)

    def _row(self, attr: str, field: widgets.ValueWidget, spec: AttrSpec | None) -> widgets.Widget:
        """label, field, and a short hint of a good value; the full expectation on hover."""
        field.layout = widgets.Layout(width="150px")
        field.add_class(f"hogar-field-{attr.replace('.', '-')}")
        field.observe(lambda change, a=attr: self._changed(a, change["new"]), names="value")
        doc = spec.doc if spec else "the node's name"
        expectation = spec.expectation(with_range=True) if spec else "letters, digits and _"
        tip = escape(f"{doc}: {expectation}")
        field.tooltip = f"{doc}: {expectation}"
        star = '<span style="color:#d32f2f">*</span>' if spec is not None and spec.required else ""
        label = widgets.HTML(f'<span title="{tip}" style="font-size:12px">{escape(setting_label(attr))}{star}</span>',
                             layout=widgets.Layout(width="80px", flex="0 0 80px"))
        hint = widgets.HTML(f'<span title="{tip}" style="color:#888;font-size:10px;white-space:nowrap">'
                            f"{escape(short_hint(spec))}</span>",
                            layout=widgets.Layout(width="110px", overflow="hidden"))
        return widgets.HBox([label, field, hint], layout=widgets.Layout(align_items="center", flex="0 0 auto",
                                                                         overflow="visible"))

    def _changed(self, attr: str, text: str) -> None:
        if not self._loading and self.target is not None:
            self.on_change(self.target, attr, str(text).strip())


def short_hint(spec: AttrSpec | None) -> str:
    """A few characters saying what to type (units, range)."""
    if spec is None:
        return "letters, digits, _"
    if spec.type in ("int", "number") and spec.min is not None:
        low = f"{spec.min:g}"
        if spec.max is not None:
            return f"{low} to {spec.max:g}"
        return f"{'>' if spec.min_exclusive else '>='} {low}"
    return _HINTS.get(spec.type, "")


_HINTS = {"duration": "e.g. 250ms, 2s", "size": "e.g. 512MiB, 4GiB", "percent": "e.g. 90%",
          "recovery": "restart(max = 3)", "impl": "module:attr or name", "numbers": "e.g. [0.7, 0.3]",
          "combine": "mean, vote, concat, first", "string": "text"}


def _choices(spec: AttrSpec) -> list[str]:
    return list(spec.choices) if spec.type == "enum" else ["true", "false"]


def _update(field: widgets.ValueWidget, text: str, inherited: str) -> None:
    if isinstance(field, widgets.Dropdown):
        options = [(f"({inherited})", ""), *((o, o) for o in [v for _, v in field.options][1:])]
        if list(field.options) != options:
            field.options = options
        value = text if text in [v for _, v in options] else ""
        if field.value != value:
            field.value = value
        return
    if field.value != text:
        field.value = text
    if field.placeholder != inherited:
        field.placeholder = inherited


def _node_view(graph: "Graph", name: str, validation: "Validation | None"):
    """Title, {attr: spec}, {attr: (own text, inherited text)} and diagnostics of a node."""
    node = graph.nodes[name]
    template = graph.templates.get(node.template) if node.template else None
    try:
        resolved = graph.resolved(name)
    except Exception:  # noqa: BLE001 - unresolvable: fall back to the kind's defaults
        resolved = None
    extra = f" · template <code>{escape(node.template)}</code>" if node.template else ""
    title = (f'<div style="font-size:14px"><b>{escape(name)}</b> '
             f'<span style="color:#555">{escape(node.kind)}</span>{extra}</div>'
             f'<div style="color:#777;font-size:11px">{escape(KINDS[node.kind])}</div>')
    specs: dict[str, AttrSpec | None] = {"name": None, **attrs_for_kind(node.kind)}
    values = {"name": (name, "")}
    for attr, spec in attrs_for_kind(node.kind).items():
        if template is not None and attr in template.attrs:
            inherited = f"template: {format_attr(spec, template.attrs[attr])}"
        else:
            value = default_value(node.kind, attr) if resolved is None else _resolved(resolved, attr)
            inherited = f"default: {resolved_text(spec, value)}"
        values[attr] = (_own_text(spec, node.attrs.get(attr)), inherited)
    diags = validation.node_messages.get(name, []) if validation else []
    return title, specs, values, diags


def _edge_view(graph: "Graph", key: tuple[str, str], validation: "Validation | None"):
    """The same for an edge: ``when`` out of a switch, ``weight`` out of a split (or when set)."""
    edge = graph.edge(*key)
    wanted = {"switch": ("when",), "split": ("weight",)}.get(graph.nodes[key[0]].kind, ())
    title = f'<div style="font-size:14px"><b>{escape(key[0])} → {escape(key[1])}</b></div>'
    specs: dict[str, AttrSpec | None] = {
        attr: spec for attr, spec in EDGE_ATTRS.items() if attr in wanted or getattr(edge, attr) is not None}
    values = {attr: (_own_text(spec, getattr(edge, attr)), "unset") for attr, spec in specs.items()}
    diags = validation.edge_messages.get(key, []) if validation else []
    return title, specs, values, diags


def _own_text(spec: AttrSpec | None, value: Any) -> str:
    if spec is not None and spec.type == "percent" and isinstance(value, float):
        return resolved_text(spec, value)
    return format_attr(spec, value) if spec is not None else str(value or "")


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
