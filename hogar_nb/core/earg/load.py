"""EARG text -> Graph: read safely, validate, rebuild the graph, check it.

The rebuilt graph holds, per node, only the attributes whose resolved value differs
from the kind's default, as typed UDGL values (Duration, Size, Ident, Call), and a
value most nodes share as a ``defaults`` entry, so that ``graph.to_udgl()`` reads
naturally and ``dump_earg(loads_earg(text)) == text`` for any text ``dump_earg`` wrote.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from pathlib import Path
from typing import Any

from ..alerts import alerts_from_earg
from ...errors import EARGError, GraphEditError
from ..diagnostics import Diagnostic, limit, sort_key
from ..source import MAX_SOURCE_BYTES, read_limited, too_large
from ..graph import Graph
from ..kinds import COMBINE_MODES, COMMON_ATTRS, DEFAULT_WITHIN_MS, default_value
from ..values import Call, Duration, Ident, Percent, Shaped, Size
from .read import Marks, read_text
from .validate import _Diag, validate_earg

__all__ = ["load_earg", "loads_earg", "validate_earg"]


def load_earg(path: str | os.PathLike[str]) -> Graph:
    """Load the EARG file at ``path`` (YAML, or JSON by its ``.json`` suffix or content).

    ``path`` is always a file name: to load a document held in a string use
    :func:`loads_earg`. Every problem raises :class:`EARGError` with diagnostics.
    """
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise EARGError([Diagnostic(
            "E100", "error", f"load_earg takes a file path, got a {type(path).__name__}",
            hint="pass the text to loads_earg(text)")])
    if isinstance(path, str) and ("\n" in path or path.lstrip().startswith(("earg:", "{"))):
        raise EARGError([Diagnostic(
            "E100", "error", "load_earg takes a file path, and this looks like a document",
            hint="pass the text to loads_earg(text)")])
    name = os.fspath(path)
    data, diags = read_limited(Path(name))
    if data is None:
        raise EARGError(diags, None, name)
    text, name, diags = _decode(data, name)
    return _load_text(text, name, diags)


def loads_earg(text: str | bytes, *, filename: str | None = None) -> Graph:
    """Load an EARG document held in ``text`` (YAML or JSON; bytes are read as UTF-8).

    ``filename`` names the document in diagnostics. Every problem raises
    :class:`EARGError` with diagnostics; nothing else escapes for bad input.
    """
    name = filename or "<earg>"
    diags: list[Diagnostic] = []
    if isinstance(text, (bytes, bytearray)):
        text, name, diags = _decode(bytes(text), name)
    elif not isinstance(text, str):
        raise EARGError([Diagnostic(
            "E100", "error", f"cannot read an EARG document from a {type(text).__name__}",
            hint="pass the text (str or bytes), or a path to load_earg(path)")], None, name)
    if not diags and len(text) > MAX_SOURCE_BYTES:
        diags = [too_large(len(text))]
    return _load_text(text, name, diags)


def _load_text(text: str, name: str, diags: list[Diagnostic]) -> Graph:
    if diags:
        raise EARGError(diags, text, name)
    is_json = name.lower().endswith(".json") or text.lstrip("\ufeff \t\r\n").startswith("{")
    doc, marks, diags = read_text(text, is_json)
    if not diags:
        if doc is None:
            diags = [Diagnostic("E103", "error", "the document is empty", 1, 1,
                                hint="an EARG document starts with `earg: 1`")]
        else:
            diags = validate_earg(doc, marks)
    if any(d.is_error for d in diags):
        raise EARGError(limit(diags), text, name)
    graph, diags = _build(doc, marks)
    if any(d.is_error for d in diags):
        raise EARGError(limit(diags), text, name)
    return graph


def _decode(data: bytes, name: str) -> tuple[str, str, list[Diagnostic]]:
    from ..source import decode_source

    text, problems = decode_source(data)
    diags = [dataclasses.replace(d, code="E100") for d in problems]
    return text, name, diags


# ------------------------------------------------------------------- building
def _build(doc: dict[str, Any], marks: Marks) -> tuple[Graph, list[Diagnostic]]:
    d = _Diag(doc, marks)
    graph = Graph(doc["name"], doc.get("description"))
    for key, value in doc["params"].items():
        graph.set_param(key, value)
    weights: dict[str, dict[str, float]] = {}
    for i, entry in enumerate(doc["nodes"]):
        attrs = node_attrs(entry)
        if "weights" in entry:
            weights[entry["name"]] = entry["weights"]
        try:
            graph.add_node(entry["name"], entry["kind"], **attrs)
        except GraphEditError as err:
            d.value("E102", ("nodes", i), str(err), "fix the value in the node")
            graph.add_node(entry["name"], entry["kind"])
        if isinstance(entry.get("origin"), dict):
            graph.nodes[entry["name"]].origin = dict(entry["origin"])
    for e in doc["edges"]:
        graph.connect(e["src"], e["dst"], when=e.get("when"), weight=e.get("weight"), mirror=e.get("mirror"))
    for name, by_input in weights.items():
        graph.set_attr(name, "weights", [by_input[src] for src in graph.predecessors(name)])
    _factor_defaults(graph)
    if "cluster" in doc:
        c = doc["cluster"]
        cluster: dict[str, Any] = {"workers": c["workers"], "cpu": c["cpu"], "gpu": c["gpu"]}
        if c["memory_bytes"] is not None:
            cluster["memory"] = Size(int(c["memory_bytes"]))
        try:
            graph.set_cluster(**cluster)
        except GraphEditError as err:
            d.value("E102", ("cluster",), str(err), "fix the value in `cluster`")
    if "trace_sample" in doc:
        graph.attrs["trace_sample"] = Percent(doc["trace_sample"])
    for alert in alerts_from_earg(doc.get("alerts", [])):
        graph.alerts[alert.name] = alert
    for name, (x, y) in doc.get("layout", {}).items():
        graph.set_position(name, x, y)
    if d.out:
        return graph, d.out
    diags = [_place(d, doc, x) for x in graph.check()]
    if not any(x.is_error for x in diags):
        response = graph.response
        if response != doc["response"]:
            d.value("E105", ("response",), f"`response` is `{doc['response']}`, but the nodes make "
                    f"`{response}` the response sink",
                    f"mark `{doc['response']}` with `response: true` and the other sinks with `response: false`")
            diags += d.out
    return graph, sorted(diags, key=sort_key)


def _factor_defaults(graph: Graph) -> None:
    """A common attribute most nodes set to the same value becomes a ``defaults`` entry,
    and the other nodes keep (or get) their own value: EARG spells every value out per
    node, the UDGL text of the loaded graph says it once, as the text it was compiled
    from most likely did. The graph resolves exactly as before."""
    nodes = list(graph.nodes.values())
    for attr in COMMON_ATTRS:
        values = [n.attrs.get(attr, _UNSET) for n in nodes]
        common = _most_common([v for v in values if v is not _UNSET])
        if common is None or 2 * sum(_same(v, common) for v in values) <= len(nodes):
            continue
        builtin = {n.name: default_value(n.kind, attr) for n, v in zip(nodes, values) if v is _UNSET}
        if any(d is None for d in builtin.values()):
            continue  # "unset" cannot be written as a node's own value
        graph.defaults[attr] = common
        for node, value in zip(nodes, values):
            if value is _UNSET:
                node.attrs[attr] = _typed(attr, builtin[node.name])
            elif _same(value, common):
                del node.attrs[attr]


_UNSET = object()


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _most_common(values: list[Any]) -> Any:
    """The value set most often (None if there is none, or values cannot be counted)."""
    try:
        counts = Counter((type(v), v) for v in values)
    except TypeError:  # an unhashable value: leave this attribute per node
        return None
    return counts.most_common(1)[0][0][1] if counts else None


def _place(d: _Diag, doc: dict[str, Any], diag: Diagnostic) -> Diagnostic:
    """Point a graph check's diagnostic at the node or edge entry it is about."""
    path = None
    if diag.node is not None:
        path = next((("nodes", i) for i, n in enumerate(doc["nodes"]) if n["name"] == diag.node), None)
    elif diag.edge is not None:
        path = next((("edges", j) for j, e in enumerate(doc["edges"]) if (e["src"], e["dst"]) == diag.edge), None)
    pos = d.marks.value(path) if path else None
    if pos is None:
        return dataclasses.replace(diag, line=None, column=None, end_line=None, end_column=None)
    return dataclasses.replace(diag, line=pos[0], column=pos[1], end_line=pos[2], end_column=pos[3])


def _tensor_value(text: str) -> Any:
    """A type as UDGL writes it (``float32[n, 20]``, ``json``); as text if it reads as none."""
    from ..types import TypeSyntaxError, parse_type

    try:
        t = parse_type(text)
    except TypeSyntaxError:
        return text  # the check of the attribute reports it
    if not t.shape:
        return Ident(t.dtype)
    return Shaped(t.dtype, tuple(d if isinstance(d, int) else Ident(d) for d in t.shape))


def node_attrs(entry: dict[str, Any]) -> dict[str, Any]:
    """A node entry's attributes that differ from its kind's defaults, as UDGL values."""
    kind = entry["kind"]
    res, batch = entry["resources"], entry["batch"]
    resolved = {
        "impl": entry["impl"],
        "replicas": entry["replicas"],
        "cpu": res["cpu"],
        "gpu": res["gpu"],
        "memory": res["memory_bytes"],
        "batch": batch["max_size"],
        "batch_wait": batch["max_wait_ms"],
        "timeout": entry["timeout_ms"],
        "retries": entry["retries"],
        "recovery": entry["recovery"],
        "latency": entry["latency_ms"],
        "isolation": entry.get("isolation", "thread"),
        "max_queue": entry.get("max_queue", 1024),
        "retry_errors": entry.get("retry_errors", False),
        "description": entry.get("description"),
        "route": entry.get("route"),
        "loader": entry.get("loader"),
        "method": entry.get("method"),
        "combine": entry.get("combine"),
        "response": entry.get("response"),
        "input": entry.get("input"),
        "output": entry.get("output"),
    }
    auto = entry.get("autoscale")
    if auto is not None:
        resolved["replicas"] = Call("auto", (("min", auto["min_replicas"]), ("max", auto["max_replicas"])))
        resolved["target_ongoing"] = auto["target_ongoing"]
        resolved["scale_up_delay"] = auto["scale_up_delay_ms"]
        resolved["scale_down_delay"] = auto["scale_down_delay_ms"]
    out: dict[str, Any] = {}
    for attr, value in resolved.items():
        default = default_value(kind, attr)
        if type(value) is type(default) and value == default:
            continue
        if attr in ("route", "loader", "method", "combine", "response", "input", "output") and value is None:
            continue
        out[attr] = _typed(attr, value)
    for key, value in (entry.get("quality") or {}).items():
        if key == "reference":
            out["reference"] = value["path"]
        elif key == "feedback_horizon_ms":
            out["feedback_horizon"] = Duration(float(value))
        elif key in ("drift_metric", "task"):
            out[key] = Ident(value)
        else:
            out[key] = value
    return out


def _typed(attr: str, value: Any) -> Any:
    if attr in ("input", "output"):
        return _tensor_value(value)
    if attr == "memory":
        return Size(int(value))
    if attr in ("batch_wait", "timeout", "latency", "scale_up_delay", "scale_down_delay"):
        return Duration(float(value))
    if attr in ("replicas", "batch", "retries", "max_queue") and isinstance(value, float):
        return int(value)
    if attr == "isolation":
        return Ident(value)
    if attr == "combine" and value in COMBINE_MODES:
        return Ident(value)
    if attr == "recovery":
        if value["policy"] != "restart":
            return Ident(value["policy"])
        kwargs: list[tuple[str, Any]] = []
        if value["max_restarts"] != 5:
            kwargs.append(("max", int(value["max_restarts"])))
        if value.get("within_ms", DEFAULT_WITHIN_MS) != DEFAULT_WITHIN_MS:
            kwargs.append(("within", Duration(float(value["within_ms"]))))
        if value["backoff_ms"] != 100.0:
            kwargs.append(("backoff", Duration(float(value["backoff_ms"]))))
        return Call("restart", tuple(kwargs)) if kwargs else Ident("restart")
    return value
