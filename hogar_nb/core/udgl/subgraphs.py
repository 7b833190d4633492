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
import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..diagnostics import Diagnostic, Span, did_you_mean
from ..model import Edge, Node
from ..values import ParamRef, Percent

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Graph

__all__ = ["Compile", "Instance", "Use", "compiling", "expand", "expanding"]

#: what compiles an included graph: ``(text, params, namespace, base_dir) -> (graph, diagnostics)``
Compile = Callable[[str, Any, Any, Path], "tuple[Graph | None, list[Diagnostic]]"]

MAX_DEPTH = 16  # graphs included within graphs
MAX_NODES = 20_000  # nodes a graph may reach by expanding its instances
#: the files being compiled, outermost first (a graph that includes itself is a cycle)
_STACK: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("udgl_includes", default=())
#: (file, params) -> its compiled graph and diagnostics, for one outermost compile: a file used
#: many times, at any depth, is read and compiled once per set of params
_MEMO: contextvars.ContextVar[dict | None] = contextvars.ContextVar("udgl_compiled", default=None)


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
def expanding() -> Iterator[None]:
    """Around the expansion of a text's instances: compiled files are remembered until
    the outermost expansion ends."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


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
    from ..source import decode_source, files_allowed, read_limited

    if compile_udgl is None:
        raise TypeError("expanding a subgraph needs the UDGL compiler (compile_udgl)")
    if not files_allowed():
        diags.append(Diagnostic.at(
            "E090", f"`use {use.name}` reads a file, and this graph is read without its folder", use.span,
            hint="send the graph with its subgraphs expanded: `hogar compile FILE` writes it", node=inst))
        return None
    stack = _STACK.get()
    where = use.path.resolve()
    if where in stack or len(stack) >= MAX_DEPTH:
        chain = " -> ".join(p.name for p in (*stack, where))
        diags.append(Diagnostic.at(
            "E091", f"`{use.text}` includes itself: {chain}" if where in stack
            else f"graphs are included more than {MAX_DEPTH} deep", use.span,
            hint="a graph cannot use itself, directly or through another", node=inst))
        return None
    memo = _MEMO.get()
    compiled = (where, repr(sorted(attrs.items())))
    if memo is not None and compiled in memo:
        inner, inner_diags = memo[compiled]
    else:
        data, problems = read_limited(use.path)
        if data is None:
            diags.append(Diagnostic.at(
                "E090", f"`use {use.name}`: {problems[0].message}", use.span, node=inst,
                hint=f"the path is relative to the including file's folder ({base_dir.resolve()})"))
            return None
        text, problems = decode_source(data)
        if problems:
            diags.append(Diagnostic.at("E090", f"`{use.text}` is not UTF-8 text", use.span, node=inst))
            return None
        with compiling(where):
            inner, inner_diags = compile_udgl(text, attrs, namespace, use.path.parent)
        if memo is not None:
            memo[compiled] = (inner, inner_diags)
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
    if len(graph.nodes) + len(inner.nodes) > MAX_NODES:
        diags.append(Diagnostic.at(
            "E007", f"expanding `{inst}` would make the graph more than {MAX_NODES:,} nodes", name_span,
            hint="a serving graph has at most a few thousand nodes", node=inst))
        return None
    return _graft(graph, inner, use, inst, name_span, kind_span, base_dir)


def _relayed(d: Diagnostic, use: Use, at: Span) -> Diagnostic:
    """A diagnostic of the included file, placed at the instance with its own position."""
    inner = f"{use.text}:{d.line}:{d.column}" if d.line is not None else use.text
    return Diagnostic(d.code, d.severity, f"in {inner}: {d.message}", at.line, at.column, at.end_line,
                      at.end_column, d.hint, None, None,
                      {"file": use.text, "line": d.line, "column": d.column})


@dataclass
class _Part:
    """What one included graph adds to each instance of it, worked out once."""

    nodes: list[tuple[str, str, dict[str, Any], dict[str, Any]]]  # name, kind, attrs, origin
    edges: list[tuple[str, str, str | None, float | None]]
    inputs: dict[str, list[str]]
    output: list[str]


def _graft(graph: "Graph", inner: "Graph", use: Use, inst: str, span: Span, kind_span: Span,
           base_dir: Path) -> Instance:
    part: _Part = inner._cached(f"part:{use.path}:{base_dir}", lambda: _part(inner, use, base_dir))
    for name, kind, attrs, origin in part.nodes:
        full = f"{inst}.{name}"
        node = Node(full, kind, copy.deepcopy(attrs), None, span, kind_span)
        node.origin = {**origin, "use": f"{inst}.{origin['use']}" if origin["use"] else inst}
        graph.nodes[full] = node
    for src, dst, when, weight in part.edges:
        written: dict[str, Any] = {}
        if when is not None:
            written["when"] = when
        if weight is not None:
            written["weight"] = Percent(weight)
        graph.edges.append(Edge(f"{inst}.{src}", f"{inst}.{dst}", when, weight, span, span, {}, written))
    return Instance(inst, {s: [f"{inst}.{n}" for n in names] for s, names in part.inputs.items()},
                    [f"{inst}.{n}" for n in part.output])


def _part(inner: "Graph", use: Use, base_dir: Path) -> _Part:
    from ..checks import response_sink
    from ..earg.document import graph_to_earg
    from ..earg.load import node_attrs

    doc = graph_to_earg(inner)
    response = response_sink(inner)[0]
    sources = {e["name"]: e for e in doc["nodes"] if e["kind"] == "source"}
    kept = {e["name"]: e for e in doc["nodes"] if e["kind"] != "source" and e["name"] != response}
    port_in: dict[str, Any] = {s: e.get("input") or e.get("output") for s, e in sources.items()}
    port_out = next((e.get("input") for e in doc["nodes"] if e["name"] == response), None)
    inputs: dict[str, list[str]] = {}
    output: list[str] = []
    for e in doc["edges"]:
        if e["src"] in sources and e["dst"] in kept:
            inputs.setdefault(e["src"], []).append(e["dst"])
            if port_in[e["src"]] and "input" not in kept[e["dst"]]:
                kept[e["dst"]]["input"] = port_in[e["src"]]
        elif e["dst"] == response and e["src"] in kept:
            output.append(e["src"])
            if port_out and "output" not in kept[e["src"]]:
                kept[e["src"]]["output"] = port_out
    folder = use.path.parent
    shown = {use.path: _shown(use.path, base_dir)}
    nodes = []
    for name, entry in kept.items():
        attrs = node_attrs(entry)
        declared = inner.nodes[name]
        written = declared.attrs.get("impl")
        if entry["kind"] == "model" and isinstance(written, str) and not isinstance(written, ParamRef):
            attrs["impl"] = _rebased(written, folder, base_dir)
        if "weights" in entry:
            attrs["weights"] = [entry["weights"][p] for p in inner.predecessors(name) if p in entry["weights"]]
        if declared.origin:  # a node of a graph the included one includes
            path = folder / declared.origin["file"]
            if path not in shown:
                shown[path] = _shown(path, base_dir)
            origin = {"file": shown[path], "line": declared.origin["line"], "use": declared.origin["use"]}
        else:
            origin = {"file": shown[use.path], "line": declared.span.line if declared.span else 1, "use": ""}
        nodes.append((name, entry["kind"], attrs, origin))
    edges = [(e.src, e.dst, e.when, e.weight) for e in inner.edges if e.src in kept and e.dst in kept]
    return _Part(nodes, edges, inputs, output)


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
