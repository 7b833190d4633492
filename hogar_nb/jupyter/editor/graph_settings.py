"""What the form shows when nothing is selected: the graph's own settings.

Name and description (the UDGL header), ``defaults`` for every node, and the
``cluster`` the replicas are placed on. Field keys are ``name``, ``description``,
``defaults.<attr>`` and ``cluster.<attr>``; :func:`apply_setting` makes the change
through the Graph's editing API.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from ...core.kinds import CLUSTER_ATTRS, COMMON_ATTRS, AttrSpec, default_value
from ...errors import GraphEditError
from .field_text import format_attr, resolved_text

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph
    from .validation import Validation

__all__ = ["GRAPH_TARGET", "apply_setting", "graph_view", "setting_label"]

GRAPH_TARGET = ("graph", None)
_NAME = AttrSpec("name", "string", "the graph's name: letters, digits and _")
_DESCRIPTION = AttrSpec("description", "string", "what the graph does, in a few words")
_SECTION = '<div style="font-size:11px;color:#555;margin-top:6px"><b>{}</b> {}</div>'


def graph_view(graph: "Graph", validation: "Validation | None"):
    """Title, {key: spec}, {key: (own text, inherited text)}, graph-wide diagnostics and
    section headings {first key of a section: html}."""
    title = (f'<div style="font-size:14px"><b>{escape(graph.name)}</b> '
             f'<span style="color:#555">graph</span></div>'
             '<div style="color:#777;font-size:11px">Select a node or an edge to edit it; '
             "here: the graph's settings.</div>")
    specs: dict[str, AttrSpec] = {"name": _NAME, "description": _DESCRIPTION}
    values: dict[str, tuple[str, str]] = {"name": (graph.name, ""),
                                          "description": (graph.description or "", "none")}
    for attr, spec in COMMON_ATTRS.items():
        key = f"defaults.{attr}"
        specs[key] = spec
        values[key] = (format_attr(spec, graph.defaults.get(attr)),
                       f"built in: {resolved_text(spec, default_value('python', attr))}")
    for attr, spec in CLUSTER_ATTRS.items():
        key = f"cluster.{attr}"
        specs[key] = spec
        values[key] = (format_attr(spec, (graph.cluster or {}).get(attr)), "no cluster")
    sections = {
        "defaults.replicas": _SECTION.format("defaults", "for every node that sets nothing else"),
        "cluster.workers": _SECTION.format("cluster", "identical machines the replicas are placed on"),
    }
    diags = validation.graph_messages if validation else []
    return title, specs, values, diags, sections


def setting_label(key: str) -> str:
    """The label of a field: ``defaults.timeout`` shows as ``timeout``."""
    return key.split(".", 1)[-1]


def apply_setting(graph: "Graph", key: str, text: str) -> None:
    """Change one graph setting from the form's text ("" unsets)."""
    if key == "name":
        graph.set_name(text)
        return
    if key == "description":
        graph.set_description(text)
        return
    section, _, attr = key.partition(".")
    value: Any = text or None
    if section == "defaults":
        graph.set_default(attr, value)
    elif section == "cluster":
        cluster = dict(graph.cluster or {})
        if value is None:
            cluster.pop(attr, None)
        else:
            cluster[attr] = value
        graph.set_cluster(**cluster)
    else:
        raise GraphEditError(f"no graph setting `{key}`; expected name, description, "
                             "defaults.<attr> or cluster.<attr>")
