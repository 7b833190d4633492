"""The models the Open Inference Protocol serves, whatever carries it (HTTP or gRPC).

The graph is a model named after itself; every node with replicas is a model too,
``{graph}.{node}``, which runs that node alone through the same engine (its queue,
retries, timeout and metrics). Requests and responses are the protocol's JSON form
(``inputs`` with flat or nested ``data``); each front turns its wire into that form.

One input of shape ``[n, ...]`` (1 <= n <= ``max_rows``, two or more dimensions) is
n rows, answered as one ``[n, ...]`` output. They travel as one payload, one request
(:class:`~hogar_nb.runtime.rows.Rows`: a model runs them in one call, a python impl
once per row), unless the way from the entry routes or joins (a switch, split,
ensemble or a node with several inputs), where each row must find its own way: then
each row is a request of its own. A one-dimensional or scalar input is one request;
several inputs make one request whose payload is a dict by input name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..runtime.rows import Rows
from ..runtime.walk import RequestContext
from .responses import HTTPError
from .tensors import describe, tensor_head, tensor_value

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol

__all__ = ["Model", "ModelRepository", "ready"]

Waiter = Callable[[Awaitable[Any]], Awaitable[Any]]


def ready(dep: DeploymentProtocol, node: str | None = None) -> bool:
    """Running, and every node with replicas (or just ``node``) has a live one."""
    if not dep.running:
        return False
    try:
        nodes = dep.metrics().nodes
    except Exception:
        return False
    if node is not None:
        return node in nodes and nodes[node].replicas_alive >= 1
    return all(m.replicas_alive >= 1 for m in nodes.values() if m.replicas > 0)


@dataclass(frozen=True)
class Model:
    """One served model: the graph (``node`` None) or one node alone."""

    name: str
    node: str | None
    entries: tuple[str, ...]  # where its requests start: the graph's sources, or the node


def straight_from(doc: dict[str, Any], sources: list[str]) -> set[str]:
    """The sources from which every way onward neither routes nor joins (no switch,
    split or ensemble, no node with several inputs): a tensor's rows may travel
    those as one payload."""
    kinds = {n.get("name"): n.get("kind") for n in doc.get("nodes", [])}
    succ: dict[str, list[str]] = {}
    inputs: dict[str, int] = {}
    for edge in doc.get("edges", []):
        succ.setdefault(edge.get("src"), []).append(edge.get("dst"))
        inputs[edge.get("dst")] = inputs.get(edge.get("dst"), 0) + 1
    straight = set()
    for source in sources:
        seen, todo = {source}, [source]
        while todo:
            node = todo.pop()
            if node != source and (kinds.get(node) in ("switch", "split", "ensemble") or inputs.get(node, 0) > 1):
                break
            for dst in succ.get(node, []):
                if dst not in seen:
                    seen.add(dst)
                    todo.append(dst)
        else:
            straight.add(source)
    return straight


class ModelRepository:
    """The graph's models: look-up by name and version, metadata, readiness, infer."""

    def __init__(self, dep: DeploymentProtocol) -> None:
        self.dep = dep
        doc = dep.earg or {}  # a copy each time it is read: read once, here
        self.version = str(doc.get("version") or "1")
        self.straight = straight_from(doc, dep.sources)
        self.types = _declared_types(dep, doc)
        self.response = str(doc.get("response"))
        self.source_types = {src: self.types.get(src, (None, None))[1] or next(
            (self.types.get(e.get("dst"), (None, None))[0] for e in doc.get("edges", []) if e.get("src") == src
             and self.types.get(e.get("dst"), (None, None))[0] is not None), None) for src in dep.sources}
        graph = Model(dep.name, None, tuple(dep.sources))
        self.models = {graph.name: graph}
        for node in dep.replica_nodes():
            self.models[f"{dep.name}.{node}"] = Model(f"{dep.name}.{node}", node, (node,))

    def find(self, name: str, version: str | None = None) -> Model:
        """The model ``name`` (at ``version``, when given); 404 if there is none."""
        model = self.models.get(name)
        if model is None:
            raise HTTPError(404, "not_found", f"model {name!r} not found; this server has models "
                            f"{sorted(self.models)}")
        if version is not None and version != self.version:
            raise HTTPError(404, "not_found", f"model {name!r} has no version {version!r}; its version "
                            f"is {self.version!r}")
        return model

    def ready(self, model: Model) -> bool:
        return ready(self.dep, model.node)

    def metadata(self, model: Model) -> dict[str, Any]:
        """Inputs and outputs with the types the graph's nodes declare or their model
        artifacts say (:func:`hogar_nb.core.types.node_types`).

        An input nothing types takes any datatype: it is listed as FP64 ``[-1, -1]``,
        which it accepts. An output nothing types (a python node without ``output``)
        answers whatever its values are (INT64, FP64, BYTES...), so no datatype can be
        promised for it: it is left out, as KServe's and MLServer's servers leave out
        the tensors of a model that declares none, and infer answers each value's own
        datatype. A typed output is listed, and infer answers that datatype."""
        if model.node is None:
            inputs = [{"name": src, **_oip(self.source_types.get(src), [-1, -1])} for src in model.entries]
        else:
            inputs = [{"name": "input-0", **_oip(self.types.get(model.node, (None, None))[0], [-1, -1])}]
        output = self._output_type(model)
        outputs = [] if _unknown(output) else [{"name": "output-0", **output.to_oip()}]
        return {"name": model.name, "versions": [self.version], "platform": "hogar", "inputs": inputs,
                "outputs": outputs}

    def _output_type(self, model: Model) -> Any:
        if model.node is not None:
            return self.types.get(model.node, (None, None))[1]
        return self.types.get(self.response, (None, None))[0]

    def index(self) -> list[dict[str, Any]]:
        """Every model with its version and state (READY or UNAVAILABLE)."""
        return [{"name": m.name, "version": self.version,
                 "state": "READY" if self.ready(m) else "UNAVAILABLE"} for m in self.models.values()]

    def prepare(self, model: Model, body: Any, max_rows: int) -> Prepared:
        """Check an infer request (HTTPError: 400, 413) and decide how it walks."""
        entry, payloads, rows = _payloads(body, model, max_rows)
        together = rows and (model.node is not None or entry in self.straight)
        rid = body.get("id")
        return Prepared(entry, payloads, rows, together, _requested(body), rid if isinstance(rid, str) else None)

    async def run(self, model: Model, prepared: Prepared, contexts: list[RequestContext], timeout: float | None,
                  wait: Waiter | None = None) -> Any:
        """The graph's answer (raises the request's RequestError). ``contexts``: one per
        request sent, so one per row when rows walk alone (:attr:`Prepared.walks`)."""
        dep, node, entry = self.dep, model.node, prepared.entry

        def one(payload: Any, context: RequestContext) -> Awaitable[Any]:
            if node is None:
                return dep.acall(payload, timeout=timeout, source=entry, context=context)
            return dep.acall(payload, timeout=timeout, context=context, node=node)

        payloads = prepared.payloads
        if prepared.together:  # the tensor as one payload: one request, one place in each queue
            call = one(Rows(payloads), contexts[0])
            return list(await (wait(call) if wait is not None else call))
        if prepared.rows:
            calls: Awaitable[Any] = asyncio.gather(*(one(p, c) for p, c in zip(payloads, contexts)),
                                                   return_exceptions=True)
            results = await (wait(calls) if wait is not None else calls)
            failed = next((r for r in results if isinstance(r, BaseException)), None)
            if failed is not None:
                raise failed
            return list(results)
        call = one(payloads[0], contexts[0])
        return await (wait(call) if wait is not None else call)

    def respond(self, model: Model, prepared: Prepared, value: Any, request_id: str) -> dict[str, Any]:
        """The response, outputs in JSON form (400 for an unknown requested output;
        TypeError for a value with no JSON form)."""
        if isinstance(value, dict) and value:
            outputs = [describe(str(k), v) for k, v in value.items()]
        else:
            outputs = [_as_declared(describe("output-0", value), self._output_type(model))]
        if prepared.requested:
            have = {o["name"]: o for o in outputs}
            unknown = [n for n in prepared.requested if n not in have]
            if unknown:
                raise HTTPError(400, "bad_request", f"model {model.name!r} has no output {unknown[0]!r}; "
                                f"its outputs are {sorted(have)}")
            outputs = [have[n] for n in prepared.requested]
        return {"model_name": model.name, "model_version": self.version, "id": request_id,
                "parameters": {}, "outputs": outputs}


@dataclass(frozen=True)
class Prepared:
    """A checked infer request: where it enters, its payloads (rows, or one), whether
    its rows travel together as one payload, the outputs it asks for and its ``id``."""

    entry: str
    payloads: list[Any]
    rows: bool
    together: bool
    requested: list[str]
    id: str | None

    @property
    def walks(self) -> int:
        """How many requests it sends into the graph."""
        return len(self.payloads) if self.rows and not self.together else 1


_FLOATS = {"FP16", "FP32", "FP64"}
_INTS = {"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}


def _declared_types(dep: DeploymentProtocol, doc: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{node: (input TensorType, output TensorType)}`` as :mod:`hogar_nb.core.types`
    infers them (the deployment read the same model artifacts when it started)."""
    try:
        from ..core.types import node_types

        found = node_types(doc, getattr(dep, "base_dir", None), load_models=True)
    except Exception:  # no types is no error: the metadata then lists no output (see metadata)
        return {}
    return {name: (t.input, t.output) for name, t in found.items()}


def _unknown(tensor_type: Any) -> bool:
    """No type, or one that says nothing (``json``, or no shape)."""
    return tensor_type is None or tensor_type.untyped or not tensor_type.shape


def _oip(tensor_type: Any, default_shape: list[int]) -> dict[str, Any]:
    if _unknown(tensor_type):
        return {"datatype": "FP64", "shape": default_shape}
    return dict(tensor_type.to_oip())


def _as_declared(output: dict[str, Any], declared: Any) -> dict[str, Any]:
    """A numeric output in the datatype the model declares (FP32 for a float32 model,
    not the FP64 a Python float would say), so infer answers what metadata says."""
    if _unknown(declared):
        return output
    want = declared.to_oip()["datatype"]
    have = output["datatype"]
    if want in _FLOATS and have in ("FP64", "INT64"):
        return {**output, "datatype": want, "data": [float(v) for v in output["data"]]}
    if want in _INTS and have == "INT64":
        return {**output, "datatype": want}
    return output


def _requested(body: dict[str, Any]) -> list[str]:
    outputs = body.get("outputs")
    if outputs is None:
        return []
    if not isinstance(outputs, list) or not all(isinstance(o, dict) and isinstance(o.get("name"), str)
                                                for o in outputs):
        raise HTTPError(400, "bad_request", "\"outputs\" must be a list of objects with a \"name\"")
    return [o["name"] for o in outputs]


def _payloads(body: Any, model: Model, max_rows: int) -> tuple[str, list[Any], bool]:
    """(entry, payloads, one-request-per-row?) from an infer request body."""
    if not isinstance(body, dict):
        raise HTTPError(400, "bad_request", "an infer request is a JSON object with \"inputs\"")
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise HTTPError(400, "bad_request", "\"parameters\" must be an object")
    entries = list(model.entries)
    source = params.get("source")
    if model.node is not None or source is None:
        if len(entries) != 1:
            raise HTTPError(400, "bad_request", f"the graph has several sources {entries}; "
                            "name one in \"parameters\": {\"source\": ...}")
        source = entries[0]
    elif source not in entries:
        raise HTTPError(400, "bad_request", f"{source!r} is not a source; sources are {entries}")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise HTTPError(400, "bad_request", "\"inputs\" must be a non-empty list of tensors")
    if len(inputs) == 1:
        name, shape, _dtype = tensor_head(inputs[0], 0)
        if len(shape) >= 2 and shape[0] > max_rows:
            raise HTTPError(413, "too_large", f"input {name!r} has {shape[0]} rows (shape {shape}); at most "
                            f"{max_rows} rows per request (hogar serve --max-rows): send them in "
                            "several requests")
    tensors = [tensor_value(t, i) for i, t in enumerate(inputs)]
    if len(tensors) == 1:
        _name, shape, value = tensors[0]
        if len(shape) >= 2:
            if shape[0] == 0:
                raise HTTPError(400, "bad_request", "an input of shape [0, ...] has no rows to infer")
            return source, value, True
        return source, [value], False
    names = [t[0] for t in tensors]
    if len(set(names)) != len(names):
        raise HTTPError(400, "bad_request", f"input names repeat: {names}")
    return source, [{n: v for n, _s, v in tensors}], False
