"""Helpers: build EARG v1 dicts from a compact description; wait for conditions."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import pytest

_DEFAULTS: dict[str, Any] = {
    "replicas": 1,
    "resources": {"cpu": 1, "gpu": 0, "memory_bytes": 0},
    "batch": {"max_size": 1, "max_wait_ms": 0.0},
    "timeout_ms": 30000.0,
    "retries": 0,
    "recovery": {"policy": "restart", "max_restarts": 5, "backoff_ms": 10.0},
    "latency_ms": None,
    "isolation": "thread",
}


def make_earg(nodes: dict[str, dict[str, Any]], edges: list[Any], name: str = "g",
              response: str | None = None) -> dict[str, Any]:
    """``nodes``: name -> attrs (``kind`` defaults to python); ``edges``: "a -> b" strings
    or (src, dst, {"when"/"weight": ...}) tuples. Shaped like ``Graph.to_earg()``."""
    out_nodes = []
    for node_name, attrs in nodes.items():
        node = {"name": node_name, "kind": attrs.get("kind", "python"), "impl": None, **_DEFAULTS}
        node.update(attrs)
        out_nodes.append(node)
    out_edges = []
    for edge in edges:
        if isinstance(edge, str):
            src, dst = (part.strip() for part in edge.split("->"))
            out_edges.append({"src": src, "dst": dst})
        else:
            src, dst, extra = edge
            out_edges.append({"src": src, "dst": dst, **extra})
    out_edges.sort(key=lambda e: (e["src"], e["dst"]))
    if response is None:
        sinks = [n["name"] for n in out_nodes if n["kind"] == "sink"]
        flagged = [n["name"] for n in out_nodes if n.get("response")]
        response = (flagged or sinks)[0]
    return {"earg": 1, "name": name, "params": {}, "response": response, "nodes": out_nodes,
            "edges": out_edges, "stages": []}


def chain(*impls: Any, **node_attrs: Any) -> dict[str, Any]:
    """source -> n0 -> n1 ... -> out, every python node with ``node_attrs``."""
    nodes: dict[str, dict[str, Any]] = {"src": {"kind": "source"}}
    names = []
    for i, impl in enumerate(impls):
        names.append(f"n{i}")
        nodes[f"n{i}"] = {"impl": impl, **node_attrs}
    nodes["out"] = {"kind": "sink", "response": True}
    path = ["src", *names, "out"]
    return make_earg(nodes, [f"{a} -> {b}" for a, b in zip(path, path[1:])])


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``cond`` until truthy (returned) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def no_leaks():
    """Fail if a test leaves engine threads or child processes behind."""
    import multiprocessing

    before = {t.ident for t in threading.enumerate()}
    yield
    def leftovers():
        threads = [t.name for t in threading.enumerate()
                   if t.ident not in before and t.name.startswith("hogar-") and t.is_alive()]
        return threads + [p.name for p in multiprocessing.active_children()]
    wait_for(lambda: not leftovers(), 5.0, "engine threads and processes to end")
