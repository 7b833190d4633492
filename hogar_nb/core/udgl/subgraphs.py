"""Subgraphs: one graph file used inside another, expanded into namespaced nodes.

```udgl
use preprocess = "blocks/preprocess.udgl"        # the file, relative to this one
preprocess prep { scaler = "scaler.joblib" }     # an instance: its params set
ingest -> prep -> scorer                         # its source is the input, its sink the output
```

``use NAME = "file"`` makes the included graph a kind, as ``template`` does for a
node; each ``NAME instance { params }`` expands it. The included file is a complete
graph (``hogar check`` accepts it alone): its ``param``\\ s are its parameters, its
sources its inputs (``prep`` when it has one, ``prep.SOURCE`` when several) and its
response sink its output. Its other nodes join the including graph as ``prep.NAME``
with their attributes resolved (the including graph's ``defaults`` fill only what
they leave unset), each recording its origin; the EARG document stays flat. A type
declared on an input or output port passes to the nodes behind it. Artifact paths
written in the included file are relative to it; paths given as params are the
caller's.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..diagnostics import Diagnostic, Span, did_you_mean
from ..model import Edge, Node
from ..values import ParamRef, Percent

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Graph

__all__ = ["Compile", "Instance", "Use", "compiling", "expand"]

#: what compiles an included graph: ``(text, params, namespace, base_dir) -> (graph, diagnostics)``
Compile = Callable[[str, Any, Any, Path], "tuple[Graph | None, list[Diagnostic]]"]

MAX_DEPTH = 16  # graphs included within graphs
#: the files being compiled, outermost first (a graph that includes itself is a cycle)
_STACK: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("udgl_includes", default=())


@dataclass
class Use:
    """``use NAME = "file"``: the file as written, where, and resolved."""

    name: str
    text: str
    span: Span
    path: Path


@dataclass
class Instance:
    """An expanded subgraph: its input ports (source -> first nodes) and output."""

    name: str
    inputs: dict[str, list[str]] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)


@contextlib.contextmanager
def compiling(path: Path) -> Iterator[None]:
    """While the graph file at ``path`` is compiled: a graph it includes may not include it."""
    token = _STACK.set((*_STACK.get(), path.resolve()))
    try:
        yield
    finally:
        _STACK.reset(token)


def expand(
    graph: "Graph", use: Use, inst: str, attrs: dict[str, Any], spans: dict[str, Span], name_span: Span,
    kind_span: Span, base_dir: Path, namespace: Any, diags: list[Diagnostic],
    compile_udgl: Compile | None = None,
) -> Instance | None:
    """Compile ``use``'s file with ``attrs`` as its params (with ``compile_udgl``, the
    compiler that is reading the including graph) and add its nodes to ``graph`` as
    ``inst.NAME``; None (with diagnostics) when it cannot be used."""
    from ..source import decode_source, read_limited

    if compile_udgl is None:
        raise TypeError("expanding a subgraph needs the UDGL compiler (compile_udgl)")

    stack = _STACK.get()
    where = use.path.resolve()
    if where in stack or len(stack) >= MAX_DEPTH:
        chain = " -> ".join(p.name for p in (*stack, where))
        diags.append(Diagnostic.at(
            "E091", f"`{use.text}` includes itself: {chain}" if where in stack
            else f"graphs are included more than {MAX_DEPTH} deep", use.span,
            hint="a graph cannot use itself, directly or through another", node=inst))
        return None
    data, problems = read_limited(use.path)
    if data is None:
        diags.append(Diagnostic.at("E090", f"`use {use.name}`: {problems[0].message}", use.span,
                                   hint=f"the path is relative to the including file's folder ({base_dir.resolve()})",
                                   node=inst))
        return None
    text, problems = decode_source(data)
    if problems:
        diags.append(Diagnostic.at("E090", f"`{use.text}` is not UTF-8 text", use.span, node=inst))
        return None
    with compiling(where):
        inner, inner_diags = compile_udgl(text, attrs, namespace, use.path.parent)
    declared = set(inner.params) if inner is not None else set()
    for key in attrs:
        if key not in declared:
            diags.append(Diagnostic.at(
                "E012", f"`{use.name}` ({use.text}) has no param `{key}`", spans.get(key),
                hint=did_you_mean(key, declared) or (
                    "its params: " + ", ".join(sorted(declared)) if declared else "it declares no params"),
                node=inst))
    for d in inner_diags:
        if d.code == "W001":
            continue  # an attribute that is no param: reported above, at the instance
        diags.append(_relayed(d, use, name_span))
    if inner is None or any(d.is_error for d in inner_diags):
        return None
    return _graft(graph, inner, use, inst, name_span, kind_span, base_dir)


def _relayed(d: Diagnostic, use: Use, at: Span) -> Diagnostic:
    """A diagnostic of the included file, placed at the instance with its own position."""
    inner = f"{use.text}:{d.line}:{d.column}" if d.line is not None else use.text
    return Diagnostic(d.code, d.severity, f"in {inner}: {d.message}", at.line, at.column, at.end_line,
                      at.end_column, d.hint, None, None,
                      {"file": use.text, "line": d.line, "column": d.column})


def _graft(graph: "Graph", inner: "Graph", use: Use, inst: str, span: Span, kind_span: Span,
           base_dir: Path) -> Instance:
    from ..checks import response_sink
    from ..earg.document import graph_to_earg
    from ..earg.load import node_attrs

    doc = graph_to_earg(inner)
    response = response_sink(inner)[0]
    out = Instance(inst)
    sources = {e["name"]: e for e in doc["nodes"] if e["kind"] == "source"}
    kept = {e["name"]: e for e in doc["nodes"] if e["kind"] != "source" and e["name"] != response}
    port_in: dict[str, Any] = {s: e.get("input") or e.get("output") for s, e in sources.items()}
    port_out = next((e.get("input") for e in doc["nodes"] if e["name"] == response), None)
    for e in doc["edges"]:
        if e["src"] in sources and e["dst"] in kept:
            out.inputs.setdefault(e["src"], []).append(f"{inst}.{e['dst']}")
            if port_in[e["src"]] and "input" not in kept[e["dst"]]:
                kept[e["dst"]]["input"] = port_in[e["src"]]
        elif e["dst"] == response and e["src"] in kept:
            out.output.append(f"{inst}.{e['src']}")
            if port_out and "output" not in kept[e["src"]]:
                kept[e["src"]]["output"] = port_out
    folder = use.path.parent
    for name, entry in kept.items():
        attrs = node_attrs(entry)
        written = inner.nodes[name].attrs.get("impl")
        if entry["kind"] == "model" and isinstance(written, str) and not isinstance(written, ParamRef):
            attrs["impl"] = _rebased(written, folder, base_dir)
        if "weights" in entry:
            attrs["weights"] = [entry["weights"][p] for p in inner.predecessors(name) if p in entry["weights"]]
        full = f"{inst}.{name}"
        node = Node(full, entry["kind"], attrs, None, span, kind_span)
        declared = inner.nodes[name]
        if declared.origin:  # a node of a graph the included one includes
            node.origin = {"file": _shown(folder / declared.origin["file"], base_dir),
                           "line": declared.origin["line"], "use": f"{inst}.{declared.origin['use']}"}
        else:
            node.origin = {"file": _shown(use.path, base_dir),
                           "line": declared.span.line if declared.span else 1, "use": inst}
        graph.nodes[full] = node
    for e in inner.edges:
        if e.src in kept and e.dst in kept:
            written_attrs: dict[str, Any] = {}
            if e.when is not None:
                written_attrs["when"] = e.when
            if e.weight is not None:
                written_attrs["weight"] = Percent(e.weight)
            graph.edges.append(Edge(f"{inst}.{e.src}", f"{inst}.{e.dst}", e.when, e.weight, span, span, {},
                                    written_attrs))
    return out


def _rebased(impl: str, folder: Path, base_dir: Path) -> str:
    """An artifact path written in the included file, made relative to the including one."""
    path = Path(impl)
    if path.is_absolute() or ":" in impl or not path.suffix:
        return impl
    return Path(os.path.relpath(folder / path, base_dir)).as_posix()


def _shown(path: Path, base_dir: Path) -> str:
    try:
        return Path(os.path.relpath(path, base_dir)).as_posix()
    except ValueError:  # pragma: no cover - another drive on Windows
        return path.as_posix()
