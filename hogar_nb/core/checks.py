"""Semantic checks of a graph: routing rules, cycles, reachability, duplicate delivery,
the response sink and whether the cluster can hold it. Syntax and attribute checks
live in the UDGL parser and in :mod:`hogar_nb.core.resolve`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import networkx as nx

from .alerts import alert_diagnostics
from .diagnostics import Diagnostic, sort_key
from .kinds import WORKER_KINDS

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Graph

__all__ = ["check_graph", "response_sink"]


def response_sink(graph: "Graph") -> tuple[str | None, list[Diagnostic]]:
    """The response sink's name (or None) and the diagnostics about it."""
    sinks = [n for n in graph.nodes.values() if n.kind == "sink"]
    if not sinks:
        if graph.incomplete:
            return None, []  # the sink may be in what was lost
        return None, [Diagnostic.at(
            "E036", "the graph has no response sink", None,
            hint="add `sink out` and an edge into it",
        )]
    resolution = graph.resolution()
    marked = [n for n in sinks if resolution.nodes[n.name].extra.get("response")]
    if len(sinks) == 1 and not any(
        resolution.nodes[n.name].extra.get("response") is False for n in sinks
    ):
        return sinks[0].name, []
    if len(marked) == 1:
        return marked[0].name, []
    names = ", ".join(f"`{n.name}`" for n in (marked or sinks))
    span = (marked or sinks)[1 if len(marked or sinks) > 1 else 0].span
    return None, [Diagnostic.at(
        "E037", f"the response sink is ambiguous: {names}", span,
        hint="mark exactly one with `{ response = true }`; the other sinks are side outputs",
    )]


def _edge_diag(code, message, edge, hint=None, severity="error"):
    return Diagnostic.at(code, message, edge.span, hint=hint, edge=edge.key, severity=severity)


def _routing(graph: "Graph") -> list[Diagnostic]:
    out: list[Diagnostic] = []
    by_src: dict[str, list] = {}
    in_degree: dict[str, int] = {}
    for e in graph.edges:
        by_src.setdefault(e.src, []).append(e)
        in_degree[e.dst] = in_degree.get(e.dst, 0) + 1
        src, dst = graph.nodes[e.src], graph.nodes[e.dst]
        if dst.kind == "source":
            out.append(_edge_diag("E040", f"source `{dst.name}` cannot receive edges", e,
                                  hint="a source is where requests enter; point the edge elsewhere"))
        if src.kind == "sink":
            out.append(_edge_diag("E041", f"sink `{src.name}` cannot send edges", e,
                                  hint="a sink is where requests end"))
        if e.when is not None and src.kind != "switch":
            out.append(_edge_diag("E039", f"`when` only applies to edges out of a switch; `{src.name}` is a {src.kind}", e,
                                  hint="remove `when`, or make the source node a `switch`"))
        if e.mirror is not None:
            out += _mirror_problems(graph, e)
        if e.weight is not None and src.kind != "split":
            out.append(_edge_diag("E039", f"`weight` only applies to edges out of a split; `{src.name}` is a {src.kind}", e,
                                  hint="remove `weight`, or make the source node a `split`"))
    for node in graph.nodes.values():
        edges = by_src.get(node.name, [])
        if node.kind == "switch":
            for e in edges:
                if e.when is None and "when" not in e.attrs:
                    out.append(_edge_diag("E035", f"edge `{e.src} -> {e.dst}` out of switch `{node.name}` has no `when`", e,
                                          hint='add `{ when = "value" }` (or `when = "*"` for everything else)'))
        elif node.kind == "split" and edges:
            # a weight that is written but wrong is reported where it is written
            missing = [e for e in edges if e.weight is None and "weight" not in e.attrs]
            for e in missing:
                out.append(_edge_diag("E034", f"edge `{e.src} -> {e.dst}` out of split `{node.name}` has no `weight`", e,
                                      hint="add `{ weight = 50% }`; a split's weights sum to 100%"))
            if all(e.weight is not None for e in edges) and node.name not in graph.incomplete:
                total = sum(e.weight for e in edges)
                if not math.isclose(total, 1.0, rel_tol=0, abs_tol=1e-9):
                    out.append(Diagnostic.at(
                        "E034", f"the weights out of split `{node.name}` sum to {total * 100:g}%, not 100%",
                        node.span, hint="adjust the weights so they add up to 100%", node=node.name,
                    ))
        elif node.kind == "ensemble":
            n_in = in_degree.get(node.name, 0)
            weights = graph.resolution().nodes[node.name].extra.get("weights")
            if weights is not None and len(weights) != n_in and node.name not in graph.incomplete:
                out.append(Diagnostic.at(
                    "E042", f"ensemble `{node.name}` has {len(weights)} weights for {n_in} inputs",
                    node.attr_spans.get("weights", node.span),
                    hint="give one weight per incoming edge, in the order the edges are declared",
                    node=node.name,
                ))
            if n_in == 1:
                out.append(Diagnostic.at(
                    "W010", f"ensemble `{node.name}` has a single input", node.span, severity="warning",
                    hint="an ensemble joins several branches; use a `python` node for one input",
                    node=node.name,
                ))
    return out


def _cycles(g: nx.DiGraph, graph: "Graph") -> list[Diagnostic]:
    out: list[Diagnostic] = []
    spans = {e.key: e for e in graph.edges}
    order = {name: i for i, name in enumerate(graph.nodes)}
    comps = sorted(nx.strongly_connected_components(g), key=lambda c: min(order[n] for n in c))
    for comp in comps:
        if len(comp) == 1:
            (n,) = comp
            if not g.has_edge(n, n):
                continue
        # A fresh graph in declaration order, searched from the first declared node,
        # so the same text always names the same cycle and closing edge.
        sub: nx.DiGraph[str] = nx.DiGraph()
        sub.add_nodes_from(n for n in graph.nodes if n in comp)
        sub.add_edges_from(e.key for e in graph.edges if e.src in comp and e.dst in comp)
        cycle = nx.find_cycle(sub, source=next(iter(sub)))
        names = [u for u, _ in cycle] + [cycle[0][0]]
        closing = spans[cycle[-1]]
        out.append(_edge_diag(
            "E030", "cycle: " + " -> ".join(names), closing,
            hint="a serving graph is a DAG; remove one edge of the cycle",
        ))
    return out


def _closure(g: nx.DiGraph, starts, forward: bool) -> set[str]:
    """``starts`` and every node reachable from them (forward) or reaching them: one
    traversal for all of them, however many there are."""
    seen = set(starts)
    stack = list(seen)
    step = g.successors if forward else g.predecessors
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


_MIRROR_SOURCES = ("source", "python", "model", "ensemble")


def _mirror_problems(graph: "Graph", e: Any) -> list[Diagnostic]:
    """E043: a mirror edge copies what its source node passes on to a worker node that
    takes nothing else and answers nobody."""
    src, dst = graph.nodes[e.src], graph.nodes[e.dst]
    if src.kind not in _MIRROR_SOURCES:
        return [_edge_diag("E043", f"`mirror` copies what a {', '.join(_MIRROR_SOURCES)} node passes on; "
                           f"`{src.name}` is a {src.kind}", e,
                           hint="mirror from the node before it, or from one of its branches")]
    if dst.kind not in ("python", "model"):
        return [_edge_diag("E043", f"a mirror edge leads to the python or model node under test; "
                           f"`{dst.name}` is a {dst.kind}", e, hint="point the mirror at the candidate node")]
    others = [o for o in graph.edges if o.dst == dst.name and o.mirror is None]
    if others:
        return [_edge_diag("E043", f"`{dst.name}` takes shadow traffic, so it can take no other edge "
                           f"(`{others[0].src} -> {dst.name}`)", e,
                           hint="mirror to a node of its own, or remove `mirror`")]
    onward = [o for o in graph.edges if o.src == dst.name]
    if onward:
        return [_edge_diag("E043", f"`{dst.name}` takes shadow traffic: its answer is compared, never "
                           f"passed on, so it can have no outgoing edge (`{dst.name} -> {onward[0].dst}`)", e,
                           hint="remove the edge")]
    if e.when is not None or e.weight is not None:
        return [_edge_diag("E043", "a mirror edge has no `when` or `weight`", e, hint="remove them")]
    return []


def _reachability(g: nx.DiGraph, graph: "Graph", response: str | None) -> list[Diagnostic]:
    """E031/E032/E038. A node next to a lost edge (see ``Graph.incomplete``), or past
    one, is not reported: the error that lost the edge says it all."""
    out: list[Diagnostic] = []
    if "" in graph.incomplete:
        return out
    incomplete = graph.incomplete & set(g)
    maybe_fed = _closure(g, incomplete, forward=True)  # nodes a lost edge might have fed
    maybe_drained = _closure(g, incomplete, forward=False)  # ... or drained
    sources = [n.name for n in graph.nodes.values() if n.kind == "source"]
    if not sources:
        if not incomplete:
            out.append(Diagnostic.at("E038", "the graph has no source", None,
                                     hint='add `source ingest { route = "/predict" }` and an edge from it'))
    else:
        seen = _closure(g, sources, forward=True) | maybe_fed
        for node in graph.nodes.values():
            if node.name not in seen:
                out.append(Diagnostic.at(
                    "E031", f"node `{node.name}` is not reachable from any source", node.span,
                    hint=f"add an edge into it, e.g. `{sources[0]} -> {node.name}`", node=node.name,
                ))
    sinks = [n.name for n in graph.nodes.values() if n.kind == "sink"]
    if sinks:
        reach_sink = _closure(g, sinks, forward=False) | maybe_drained
        target = response or sinks[0]
        shadows = {e.dst for e in graph.edges if e.mirror is not None}  # answer nobody, by design
        for node in graph.nodes.values():
            if node.name not in reach_sink and node.name not in shadows:
                out.append(Diagnostic.at(
                    "E032", f"node `{node.name}` cannot reach the response sink `{target}`", node.span,
                    hint=f"add an edge from it, e.g. `{node.name} -> {target}`", node=node.name,
                ))
    return out


def _duplicate_delivery(g: nx.DiGraph, graph: "Graph") -> list[Diagnostic]:
    """A node (not an ensemble) that one fan-out can reach along two branches."""
    order = list(nx.topological_sort(g))
    index = {n: i for i, n in enumerate(order)}
    kinds = {n: graph.nodes[n].kind for n in order}
    reach: dict[str, int] = {}
    for n in reversed(order):
        bits = 1 << index[n]
        if kinds[n] != "ensemble":
            for s in g.successors(n):
                bits |= reach[s]
        reach[n] = bits
    ensembles = 0
    for n in order:
        if kinds[n] == "ensemble":
            ensembles |= 1 << index[n]
    out: list[Diagnostic] = []
    edges = {e.key: e for e in graph.edges}
    for n in order:
        succ = list(g.successors(n))
        if kinds[n] in ("switch", "split") or len(succ) < 2:
            continue
        seen = 0
        for s in succ:
            overlap = (seen & reach[s]) & ~ensembles
            if overlap:
                bit = (overlap & -overlap).bit_length() - 1
                target = order[bit]
                other = next(t for t in succ if t != s and (reach[t] >> bit) & 1)
                out.append(_edge_diag(
                    "E033",
                    f"`{target}` would receive each request twice: `{n}` fans out to `{other}` and `{s}`, "
                    f"and both lead to `{target}`",
                    edges[(n, s)],
                    hint=f"join the branches with an `ensemble` before `{target}`, or route with a `switch`/`split`",
                ))
                break
            seen |= reach[s]
    return out


def _placement(graph: "Graph") -> list[Diagnostic]:
    resolution = graph.resolution()
    if resolution.cluster is None:
        return []
    from .placement import place

    result = place(resolution.nodes, resolution.cluster)
    out = []
    for failure in result.failures:
        node = graph.nodes.get(failure.node)
        out.append(Diagnostic.at(
            "E050", failure.message, node.span if node else None,
            hint="add workers or resources to `cluster`, or lower replicas or per-replica resources",
            node=failure.node,
        ))
    return out


def _impls(graph: "Graph") -> list[Diagnostic]:
    """Bare names: ``combine`` is judged against its allowed values first (did you mean
    `mean`?), then against the notebook's functions; an ``impl`` against the notebook."""
    from .diagnostics import close_match, did_you_mean
    from .kinds import COMBINE_MODES
    from .values import Ident

    ns = graph.namespace
    out = []
    for node in graph.nodes.values():
        for attr in ("impl", "combine"):
            value = node.attrs.get(attr)
            if not isinstance(value, Ident) or (ns is not None and value.name in ns):
                continue
            span = node.attr_spans.get(attr, node.span)
            if attr == "combine":
                if value.name in COMBINE_MODES:
                    continue
                guess = close_match(value.name, COMBINE_MODES)
                if ns is None and guess is None:
                    continue  # may name a function of the namespace given to run()
                modes = ", ".join(f"`{m}`" for m in COMBINE_MODES)
                where = "a function defined in the notebook" if ns is not None else "a function"
                out.append(Diagnostic.at(
                    "E024", f"got `{value.name}` for `combine` of ensemble `{node.name}`; expected one of {modes}, or {where}",
                    span, hint=f"did you mean `{guess}`?" if guess
                    else f'or define `{value.name}` in a cell above, or write "module:function"',
                    node=node.name,
                ))
            elif ns is not None:
                names = [k for k, v in ns.items() if callable(v) and not k.startswith("_")]
                out.append(Diagnostic.at(
                    "E018", f"`{value.name}` (the impl of `{node.name}`) is not defined in the notebook",
                    span,
                    hint=did_you_mean(value.name, names) or f"define `{value.name}` in a cell above, or write \"module:function\"",
                    node=node.name,
                ))
    return out


def _warnings(graph: "Graph") -> list[Diagnostic]:
    out = []
    for node in graph.nodes.values():
        r = graph.resolution().nodes[node.name]
        if r.batch_size == 1 and r.batch_wait_ms > 0 and "batch_wait" in node.attrs:
            out.append(Diagnostic.at(
                "W011", f"`batch_wait` has no effect on `{node.name}` because `batch` is 1",
                node.attr_spans.get("batch_wait", node.span), severity="warning",
                hint="set `batch` above 1, or remove `batch_wait`", node=node.name,
            ))
        out += _autoscale_warnings(graph, node, r)
        if r.latency_ms is not None and r.latency_ms >= r.timeout_ms:
            out.append(Diagnostic.at(
                "W012", f"the latency estimate of `{node.name}` ({r.latency_ms:g}ms) is not below its timeout ({r.timeout_ms:g}ms)",
                node.attr_spans.get("latency", node.span), severity="warning",
                hint="raise `timeout` or check the estimate", node=node.name,
            ))
    return out


def _autoscale_warnings(graph: "Graph", node: Any, r: Any) -> list[Diagnostic]:
    """W013: autoscaling attributes on fixed replicas; W014: ``auto`` on a node without replicas."""
    from .autoscale import AUTO_ATTRS
    from .values import Call

    out = []
    template = graph.templates.get(node.template or "")
    written = {**(template.attrs if template is not None else {}), **node.attrs}
    auto = isinstance(written.get("replicas", graph.defaults.get("replicas")), Call)
    if r.kind not in WORKER_KINDS:
        if auto and "replicas" in written:
            out.append(Diagnostic.at(
                "W014", f"{r.kind} node `{node.name}` runs inline, without replicas: `auto` has no effect",
                node.attr_spans.get("replicas", node.span), severity="warning",
                hint="remove `replicas`", node=node.name))
        return out
    if r.autoscale is None:
        for attr in AUTO_ATTRS:
            if attr in written:
                out.append(Diagnostic.at(
                    "W013", f"`{attr}` has no effect on `{node.name}` because its replicas are fixed",
                    node.attr_spans.get(attr, node.span), severity="warning",
                    hint="write `replicas = auto(min = 1, max = 8)`, or remove it", node=node.name))
    return out


def check_graph(graph: "Graph") -> list[Diagnostic]:
    """Every semantic problem of ``graph``, sorted by position."""
    diags = list(graph.resolution().diagnostics)
    response, sink_diags = response_sink(graph)
    diags += sink_diags
    diags += _routing(graph)
    diags += _impls(graph)
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from(e.key for e in graph.edges)
    cycles = _cycles(g, graph)
    diags += cycles
    if not cycles:
        diags += _reachability(g, graph, response)
        primary = g.copy()  # mirror edges copy a request: they never deliver it twice
        primary.remove_edges_from(e.key for e in graph.edges if e.mirror is not None)
        diags += _duplicate_delivery(primary, graph)
        from .types import check_types

        diags += check_types(graph)
    diags += _placement(graph)
    diags += _warnings(graph)
    diags += alert_diagnostics(graph)
    diags.sort(key=sort_key)
    return diags
