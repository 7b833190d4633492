"""Turn an EARG v1 document into the engine's plan: nodes, successors, factories."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..core.kinds import WORKER_KINDS
from ..core.references import reference_problem
from .combine import combiner
from .errors import DeploymentConfigError
from .impls import ImportRef, resolve_target, shipped, undefined_name
from .loaders import model_factory

__all__ = ["GraphPlan", "NodePlan", "build_plan"]
DEFAULT_QUEUE_SIZE = 1024  # a node's ``max_queue`` when it sets none


@dataclass(eq=False)
class NodePlan:
    """One node, with its settings in engine units (seconds) and its wiring."""

    name: str
    kind: str
    replicas: int = 1
    batch_size: int = 1
    batch_wait: float = 0.0
    timeout: float = 30.0
    retries: int = 0
    retry_errors: bool = False
    policy: str = "restart"
    max_restarts: int = 5
    within: float = 60.0
    backoff: float = 0.1
    isolation: str = "thread"
    queue_size: int = DEFAULT_QUEUE_SIZE
    response: bool = False
    factory: Any = None
    combine: Callable[[list[Any], list[float] | None], Any] | None = None
    combine_mode: str = ""
    weights: dict[str, float] = field(default_factory=dict)
    succ: list[tuple[str, str | None, float | None]] = field(default_factory=list)
    mirrors: list[tuple[str, float]] = field(default_factory=list)  # shadow copies: (node, share)
    preds: list[str] = field(default_factory=list)
    reaches_response: bool = False

    @property
    def is_worker(self) -> bool:
        return self.kind in WORKER_KINDS


@dataclass(eq=False)
class GraphPlan:
    name: str
    nodes: dict[str, NodePlan]
    sources: list[str]
    response: str
    params: dict[str, Any]
    base_dir: Path | None = None  # the graph file's folder, where relative paths resolve


def _num(node: str, key: str, value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DeploymentConfigError(f"node {node!r}: {key} must be a number, got {value!r}") from None


def _node_plan(raw: Mapping[str, Any], queue_size: int) -> NodePlan:
    name = str(raw["name"])
    batch = raw.get("batch") or {}
    recovery = raw.get("recovery") or {}
    if isinstance(recovery, str):
        recovery = {"policy": recovery}
    plan = NodePlan(
        name=name,
        kind=str(raw.get("kind", "python")),
        replicas=max(1, int(raw.get("replicas") or 1)),
        batch_size=max(1, int(batch.get("max_size") or 1)),
        batch_wait=_num(name, "batch.max_wait_ms", batch.get("max_wait_ms"), 0.0) / 1000.0,
        timeout=_num(name, "timeout_ms", raw.get("timeout_ms"), 30000.0) / 1000.0,
        retries=max(0, int(raw.get("retries") or 0)),
        policy=str(recovery.get("policy") or "restart"),
        max_restarts=int(recovery.get("max_restarts", 5) if recovery.get("max_restarts") is not None else 5),
        within=_num(name, "recovery.within_ms", recovery.get("within_ms"), 60000.0) / 1000.0,
        backoff=_num(name, "recovery.backoff_ms", recovery.get("backoff_ms"), 100.0) / 1000.0,
        retry_errors=bool(raw.get("retry_errors", False)),
        isolation=str(raw.get("isolation") or "thread"),
        queue_size=queue_size,
        response=bool(raw.get("response")),
        weights={str(k): float(v) for k, v in (raw.get("weights") or {}).items()},
    )
    if plan.policy not in ("restart", "failover", "none"):
        raise DeploymentConfigError(
            f"node {name!r}: recovery policy {plan.policy!r} is not restart, failover or none"
        )
    if plan.isolation not in ("thread", "process"):
        raise DeploymentConfigError(f"node {name!r}: isolation {plan.isolation!r} is not thread or process")
    return plan


def build_plan(
    doc: Mapping[str, Any],
    namespace: Mapping[str, Any] | None = None,
    base_dir: Path | None = None,
    queue_size: int | Mapping[str, int] | None = None,
    load_models: bool = True,
) -> GraphPlan:
    """Check the document's shape, wire the nodes, resolve every impl and check the
    types along every edge (reading pickled models' signatures unless ``load_models``
    is false: reading a pickle runs code from it)."""
    if not isinstance(doc, Mapping) or doc.get("earg") != 1 or not isinstance(doc.get("nodes"), list):
        raise DeploymentConfigError(
            "expected an EARG v1 document (a dict with \"earg\": 1 and a \"nodes\" list)"
        )
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    sizes = queue_size if isinstance(queue_size, Mapping) else {}
    default_size = queue_size if isinstance(queue_size, int) else DEFAULT_QUEUE_SIZE
    nodes: dict[str, NodePlan] = {}
    raws: dict[str, Mapping[str, Any]] = {}
    for raw in doc["nodes"]:
        own = raw.get("max_queue") if isinstance(raw, Mapping) else None
        size = sizes.get(raw["name"], default_size if isinstance(queue_size, int) or own is None else own)
        plan = _node_plan(raw, int(size))
        nodes[plan.name] = plan
        raws[plan.name] = raw
    for edge in doc.get("edges", []):
        src, dst = edge["src"], edge["dst"]
        if src not in nodes or dst not in nodes:
            raise DeploymentConfigError(f"edge {src} -> {dst} names an unknown node")
        if edge.get("mirror") is not None:  # shadow traffic: not part of the request's path
            nodes[src].mirrors.append((dst, float(edge["mirror"])))
            continue
        nodes[src].succ.append((dst, edge.get("when"), edge.get("weight")))
        nodes[dst].preds.append(src)
    response = doc.get("response") or next(
        (n.name for n in nodes.values() if n.kind == "sink" and n.response), None
    )
    if response not in nodes:
        sinks = [n.name for n in nodes.values() if n.kind == "sink"]
        if len(sinks) != 1:
            raise DeploymentConfigError(f"the graph needs one response sink; found sinks {sinks}")
        response = sinks[0]
    nodes[response].response = True
    _mark_reaches(nodes, response)
    problems: list[tuple[str | None, str]] = []
    for plan in nodes.values():  # every node is checked before anything starts
        try:
            _resolve(plan, raws[plan.name], namespace, base)
        except DeploymentConfigError as exc:
            problems.append((plan.name, str(exc)))
    if not problems:
        problems = _type_problems(doc, base, namespace, load_models)
    if problems:
        raise DeploymentConfigError(
            "the graph cannot start:\n  " + "\n  ".join(m for _n, m in problems), problems=problems)
    sources = [n.name for n in nodes.values() if n.kind == "source"]
    if not sources:
        raise DeploymentConfigError("the graph has no source node")
    return GraphPlan(str(doc.get("name") or "graph"), nodes, sources, response, dict(doc.get("params") or {}),
                     Path(base_dir) if base_dir is not None else None)


def _type_problems(doc: Mapping[str, Any], base: Path, namespace: Any,
                   load_models: bool) -> list[tuple[str | None, str]]:
    """The type mismatches found with every model's signature at hand."""
    from ..core.types import check_types

    return [(d.node, f"[{d.code}] {d.message}" + (f" ({d.hint})" if d.hint else ""))
            for d in check_types(doc, base, load_models=load_models, namespace=namespace) if d.is_error]


def _mark_reaches(nodes: dict[str, NodePlan], response: str) -> None:
    stack = [response]
    while stack:
        plan = nodes[stack.pop()]
        if not plan.reaches_response:
            plan.reaches_response = True
            stack.extend(plan.preds)


def _resolve(plan: NodePlan, raw: Mapping[str, Any], namespace: Any, base: Path) -> None:
    impl = raw.get("impl")
    if plan.kind in ("python", "switch"):
        ref = ImportRef(plan.name, impl, namespace)
        resolve_target(plan.name, impl, namespace)  # fail early with a friendly message
        plan.factory = ref.for_process() if plan.isolation == "process" else ref
    elif plan.kind == "model":
        if isinstance(impl, str) and impl.isidentifier() and not (namespace is not None and impl in namespace) \
                and not (base / impl).exists():
            raise DeploymentConfigError(undefined_name(plan.name, impl, namespace))
        plan.factory = model_factory(plan.name, impl, raw.get("loader"), base, namespace, raw.get("method"))
        reference = ((raw.get("quality") or {}).get("reference") or {}).get("path")
        problem = reference_problem(reference, base) if reference else None
        if problem:
            raise DeploymentConfigError(f"model node {plan.name!r}: {problem}")
    elif plan.kind == "ensemble":
        spec = raw.get("combine") or "mean"
        plan.combine_mode = spec if isinstance(spec, str) and spec in ("mean", "vote", "concat", "first") else "callable"
        if plan.combine_mode == "callable":
            target = resolve_target(plan.name, spec, namespace)
            if not callable(target):
                raise DeploymentConfigError(f"node {plan.name!r}: combine {spec!r} is not callable")
            plan.combine = lambda values, _w, _f=target: _f(values)
        else:
            plan.combine = combiner(plan.combine_mode)
    elif plan.kind not in ("source", "sink", "split"):
        raise DeploymentConfigError(f"node {plan.name!r}: unknown kind {plan.kind!r}")
    if plan.factory is not None and plan.isolation == "process":
        plan.factory = shipped(plan.name, plan.factory)
