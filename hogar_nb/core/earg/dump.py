"""Write an EARG document as YAML or JSON, deterministically.

YAML keeps small mappings (resources, batch, recovery, weights, each edge, the
cluster) and the stages on one line and everything else in block style, so that a
change to a graph shows up as a small diff.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import yaml

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Graph

__all__ = ["dump_earg", "earg_to_text"]

Format = Literal["yaml", "json"]

_INLINE_NODE_KEYS = ("resources", "batch", "recovery", "weights")


class _Flow(dict):
    """A mapping written on one line."""


class _FlowList(list):
    """A list written on one line."""


class _Dumper(yaml.SafeDumper):
    """Safe dumper: indented block lists, no anchors/aliases, flow where marked."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Strings with a line break are double-quoted, with the break escaped. In a plain or
    single-quoted scalar a break is folded into a space when read back, and PyYAML's
    emitter writes NEL and the Unicode line and paragraph separators as raw breaks."""
    style = '"' if _LINE_BREAKS.intersection(data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _styled(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "params":
            value = _Flow(value) if all(not isinstance(v, (list, dict)) for v in value.values()) else value
        elif key == "nodes":
            value = [
                {k: (_Flow(v) if k in _INLINE_NODE_KEYS and isinstance(v, dict) else v) for k, v in n.items()}
                for n in value
            ]
        elif key == "edges":
            value = [_Flow(e) for e in value]
        elif key == "stages":
            value = _FlowList(_FlowList(s) for s in value)
        elif key == "cluster":
            value = _Flow(value)
        elif key == "layout":
            value = {k: _FlowList(v) for k, v in value.items()}
        out[key] = value
    return out


def earg_to_text(doc: dict[str, Any], format: Format = "yaml") -> str:
    """An EARG document dict as YAML or JSON text (JSON: indent 2, trailing newline)."""
    if format == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if format != "yaml":
        raise ValueError(f"unknown EARG format {format!r}; expected 'yaml' or 'json'")
    return yaml.dump(
        _styled(doc), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
        allow_unicode=True, width=1_000_000,
    )


def dump_earg(graph: "Graph", format: Format = "yaml") -> str:
    """The EARG v1 text of ``graph``; raises :class:`UDGLError` if the graph has errors."""
    from .document import checked_earg

    return earg_to_text(checked_earg(graph), format)
