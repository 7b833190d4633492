"""KServe: an ``InferenceGraph`` (v1alpha1) plus one ``InferenceService`` (v1beta1) per model.

The graph's DAG becomes KServe router nodes: a chain is a ``Sequence`` (each step
gets the previous step's response), a fan-out joined by an ensemble is an
``Ensemble`` node, a ``switch`` a ``Switch`` node (one step per edge, with a
``condition``) and a ``split`` a ``Splitter`` node (integer percentage weights).
Branches after a switch or split run to the response, so a node shared by
several branches appears as a step in each. What KServe cannot express is a
diagnostic at the node and attribute (see docs/export.md).
"""

from __future__ import annotations

import math
from typing import Any

from ..core.autoscale import AutoscalePolicy
from ..core.kinds import WORKER_KINDS
from .common import Export, Problems, dns_name

__all__ = ["MODEL_FORMATS", "kserve_manifests"]

# Model artifact suffix -> KServe modelFormat name.
MODEL_FORMATS = {
    ".joblib": "sklearn", ".pkl": "sklearn", ".pickle": "sklearn", ".skops": "sklearn",
    ".onnx": "onnx",
    ".ubj": "xgboost", ".bst": "xgboost", ".xgb": "xgboost",
    ".txt": "lightgbm", ".pt": "pytorch", ".mar": "pytorch", ".savedmodel": "tensorflow",
}
LOADER_FORMATS = {"sklearn": "sklearn", "onnx": "onnx", "xgboost": "xgboost", "pickle": "sklearn"}
_URI_SCHEMES = ("s3://", "gs://", "pvc://", "http://", "https://", "hf://", "oci://", "azure://")


def _quantity_cpu(cpu: float) -> str:
    return str(int(cpu)) if float(cpu).is_integer() else f"{int(round(cpu * 1000))}m"


def _quantity_bytes(n: int) -> str:
    for unit, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


class _Builder:
    def __init__(self, earg: dict[str, Any], graph: Any, storage_prefix: str | None) -> None:
        self.earg = earg
        self.name = dns_name(earg.get("name") or "graph")
        self.nodes = {n["name"]: n for n in earg["nodes"]}
        self.succ: dict[str, list[dict[str, Any]]] = {n: [] for n in self.nodes}
        self.preds: dict[str, list[str]] = {n: [] for n in self.nodes}
        for e in earg.get("edges", []):
            self.succ[e["src"]].append(e)
            self.preds[e["dst"]].append(e["src"])
        self.response = earg.get("response")
        self.p = Problems(graph, "KServe")
        self.storage_prefix = storage_prefix
        self.repository: dict[str, str] = {}
        self.ig_nodes: dict[str, dict[str, Any]] = {}
        self.services: dict[str, dict[str, Any]] = {}
        self.reported: set[tuple[str, str | None]] = set()

    def once(self, node: str, attr: str | None) -> bool:
        key = (node, attr)
        if key in self.reported:
            return False
        self.reported.add(key)
        return True

    def kind(self, n: str) -> str:
        return self.nodes[n].get("kind", "python")

    # -- InferenceServices ------------------------------------------------------------
    def service(self, n: str) -> str:
        """The InferenceService name of worker node ``n`` (created on first use)."""
        isvc = dns_name(self.name, n)
        if isvc in self.services or not self.once(n, "service"):
            return isvc
        node = self.nodes[n]
        if self.kind(n) != "model":
            self.p.error("E711", n, "impl",
                         f"a {self.kind(n)} node runs Python code; KServe needs a model server "
                         f"(an InferenceService with a modelFormat)",
                         "serve the code as a custom predictor image, or make it a model node")
            return isvc
        # hogar serves the Open Inference Protocol, and KServe finds no ONNX runtime without v2
        model: dict[str, Any] = {"modelFormat": {"name": self._format(n)}, "protocolVersion": "v2"}
        uri = self._storage_uri(n)
        if uri:
            model["storageUri"] = uri
        res = node.get("resources") or {}
        requests: dict[str, str] = {}
        if res.get("cpu"):
            requests["cpu"] = _quantity_cpu(float(res["cpu"]))
        if res.get("memory_bytes"):
            requests["memory"] = _quantity_bytes(int(res["memory_bytes"]))
        limits = dict(requests)
        if res.get("gpu"):
            if not float(res["gpu"]).is_integer():
                self.p.error("E712", n, "gpu", f"gpu = {res['gpu']}: Kubernetes schedules whole GPUs only")
            limits["nvidia.com/gpu"] = str(max(1, int(res["gpu"])))
        if requests or limits:
            model["resources"] = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
        replicas = int(node.get("replicas") or 1)
        predictor: dict[str, Any] = {"minReplicas": replicas, "maxReplicas": replicas}
        annotations: dict[str, str] = {}
        auto = AutoscalePolicy.from_earg(node)
        if auto is not None:  # Knative's autoscaler on concurrency: in flight per replica
            predictor.update(minReplicas=auto.min_replicas, maxReplicas=auto.max_replicas,
                             scaleMetric="concurrency", scaleTarget=max(1, math.ceil(auto.target_ongoing)))
            annotations["autoscaling.knative.dev/scale-down-delay"] = f"{auto.scale_down_delay_ms / 1000:g}s"
            if auto.target_ongoing != math.ceil(auto.target_ongoing):
                self.p.warning("W727", n, "target_ongoing",
                               f"KServe's scaleTarget is a whole number; target_ongoing = "
                               f"{auto.target_ongoing:g} becomes {predictor['scaleTarget']}")
            if auto.scale_up_delay_ms:
                self.p.warning("W727", n, "scale_up_delay",
                               "Knative scales up as soon as its stable window (60 s, 6 s when "
                               "panicking) sees the need; `scale_up_delay` is not exported")
        if node.get("timeout_ms"):
            predictor["timeout"] = max(1, int(round(float(node["timeout_ms"]) / 1000.0)))
            if float(node["timeout_ms"]) % 1000:
                self.p.warning("W713", n, "timeout",
                               f"KServe timeouts are whole seconds; {node['timeout_ms']:g} ms becomes "
                               f"{predictor['timeout']} s")
        batch = node.get("batch") or {}
        if int(batch.get("max_size") or 1) > 1:
            predictor["batcher"] = {"maxBatchSize": int(batch["max_size"]),
                                    "maxLatency": max(1, int(round(float(batch.get("max_wait_ms") or 0))))}
        predictor["model"] = model
        if node.get("retries"):
            self.p.warning("W714", n, "retries",
                           "KServe does not retry a failed step; `retries` is not exported")
        self.services[isvc] = {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": isvc, "labels": {"app.kubernetes.io/part-of": self.name},
                         **({"annotations": annotations} if annotations else {})},
            "spec": {"predictor": predictor},
        }
        return isvc

    def _format(self, n: str) -> str:
        node = self.nodes[n]
        loader = node.get("loader")
        if loader in LOADER_FORMATS:
            return LOADER_FORMATS[loader]
        impl = str(node.get("impl") or "")
        for suffix, fmt in MODEL_FORMATS.items():
            if impl.lower().endswith(suffix):
                return fmt
        self.p.error("E715", n, "impl",
                     f"no KServe model format for {impl!r}",
                     f"use an artifact KServe serves ({', '.join(sorted(set(MODEL_FORMATS.values())))})")
        return "custom"

    def _storage_uri(self, n: str) -> str | None:
        """A directory holding ``model.<ext>`` (KServe's runtimes load the model file they
        find there): ``PREFIX/NODE`` for a local artifact, laid out by ``--model-repository``."""
        impl = str(self.nodes[n].get("impl") or "")
        if impl.startswith(_URI_SCHEMES):
            return impl
        suffix = "." + impl.rsplit(".", 1)[-1].lower() if "." in impl.rsplit("/", 1)[-1] else ""
        self.repository[f"{n}/model{suffix}"] = impl
        if self.storage_prefix:
            return f"{self.storage_prefix.rstrip('/')}/{n}"
        self.p.warning("W716", n, "impl",
                       f"artifact {impl!r} is a local path; storageUri needs a URI the cluster can read",
                       "write the model repository with --model-repository DIR, copy DIR to storage "
                       "the cluster reads, and pass its URI as --storage-prefix")
        return None

    # -- router nodes -----------------------------------------------------------------
    def steps_from(self, n: str, stop: str | None = None) -> list[dict[str, Any]]:
        """Sequence steps for the path that starts by sending the request to ``n``."""
        steps: list[dict[str, Any]] = []
        while n != stop and n != self.response:
            kind = self.kind(n)
            if kind == "sink":
                return steps
            if kind in ("switch", "split"):
                steps.append(self._step(n, node_name=self.router(n)))
                return steps
            if kind in ("python", "model"):
                steps.append(self._step(n, service=self.service(n)))
            elif kind == "ensemble":
                self._ensemble(n)
            outs = [e for e in self.succ[n] if self._on_path(e["dst"])]
            if not outs:
                return steps
            if len(outs) == 1:
                n = outs[0]["dst"]
                continue
            join = self._join_of([e["dst"] for e in outs])
            if join is None:
                self.p.error("E717", n, None,
                             "its fan-out does not meet again at one ensemble; KServe's Ensemble "
                             "router needs every branch to end at the same join")
                return steps
            steps.append(self._step(join, node_name=self.ensemble_router(join, [e["dst"] for e in outs])))
            self._ensemble(join)
            outs = [e for e in self.succ[join] if self._on_path(e["dst"])]
            if not outs:
                return steps
            if len(outs) > 1:
                n = join
                steps.pop()
                self.p.error("E717", join, None, "an ensemble that fans out again is not supported")
                return steps
            n = outs[0]["dst"]
        return steps

    def _on_path(self, n: str) -> bool:
        """Side-output sinks are dropped (with a warning); everything else is kept."""
        if self.kind(n) == "sink" and n != self.response:
            if self.once(n, None):
                self.p.warning("W718", n, None, "side-output sinks have no KServe equivalent; not exported")
            return False
        return True

    def _join_of(self, heads: list[str]) -> str | None:
        joins = set()
        for h in heads:
            n = h
            while len(self.preds[n]) <= 1:
                outs = self.succ[n]
                if len(outs) != 1 or self.kind(n) in ("switch", "split"):
                    return None
                n = outs[0]["dst"]
            joins.add(n)
        if len(joins) != 1:
            return None
        join = joins.pop()
        return join if self.kind(join) == "ensemble" else None

    def _step(self, n: str, service: str | None = None, node_name: str | None = None,
              data_from_request: bool = False) -> dict[str, Any]:
        step: dict[str, Any] = {"name": dns_name(n)}
        if service:
            step["serviceName"] = service
        if node_name:
            step["nodeName"] = node_name
        step["data"] = "$request" if data_from_request else "$response"
        return step

    def _sequence_node(self, head: str, stop: str | None) -> str:
        name = dns_name(head, "path")
        if name not in self.ig_nodes:
            self.ig_nodes[name] = {"routerType": "Sequence", "steps": []}
            steps = self.steps_from(head, stop)
            if steps:
                steps[0]["data"] = "$request"
            self.ig_nodes[name]["steps"] = steps
        return name

    def _branch_step(self, head: str, stop: str | None, **extra: Any) -> dict[str, Any]:
        """One branch as a step: the service itself when it is one model node, else a Sequence."""
        outs = self.succ[head]
        single = self.kind(head) in ("python", "model") and len(outs) == 1 and outs[0]["dst"] in (stop, self.response)
        if single:
            step = self._step(head, service=self.service(head), data_from_request=True)
        elif self.kind(head) in ("switch", "split"):
            step = self._step(head, node_name=self.router(head), data_from_request=True)
        elif head == self.response:
            if self.once(head, "branch"):
                self.p.error("E719", head, None, "a branch that goes straight to the response has "
                                                 "no KServe step to run")
            step = self._step(head, node_name=self._sequence_node(head, stop), data_from_request=True)
        else:
            step = self._step(head, node_name=self._sequence_node(head, stop), data_from_request=True)
        step.update(extra)
        return step

    def ensemble_router(self, join: str, heads: list[str]) -> str:
        name = dns_name(join)
        if name not in self.ig_nodes:
            self.ig_nodes[name] = {"routerType": "Ensemble",
                                   "steps": [self._branch_step(h, join) for h in sorted(heads)]}
        return name

    def _ensemble(self, n: str) -> None:
        node = self.nodes[n]
        comb = node.get("combine") or "mean"
        if comb != "concat" and self.once(n, "combine"):
            self.p.error("E720", n, "combine",
                         f"`combine = {comb}`: KServe's Ensemble router returns every step's response "
                         "keyed by step name; it cannot compute a combination",
                         "use `combine = concat` (responses keyed by step name), or combine in a model")
        elif comb == "concat" and self.once(n, "combine"):
            self.p.warning("W721", n, "combine",
                           "`combine = concat`: KServe returns an object keyed by step name, not a list")
        if node.get("weights") and self.once(n, "weights"):
            self.p.error("E720", n, "weights", "KServe's Ensemble router has no weights")

    def router(self, n: str) -> str:
        name = dns_name(n)
        if name in self.ig_nodes:
            return name
        kind = self.kind(n)
        self.ig_nodes[name] = {"routerType": "Switch" if kind == "switch" else "Splitter", "steps": []}
        steps = []
        for e in self.succ[n]:
            if not self._on_path(e["dst"]) and e["dst"] != self.response:
                continue
            if kind == "switch":
                steps.append(self._branch_step(e["dst"], None, condition=str(e.get("when"))))
            else:
                pct = float(e.get("weight") or 0) * 100
                if not pct.is_integer() and self.once(n, f"weight:{e['dst']}"):
                    self.p.error("E722", n, None, f"edge to {e['dst']!r}: KServe split weights are "
                                                  f"whole percentages, not {pct:g}%")
                steps.append(self._branch_step(e["dst"], None, weight=int(round(pct))))
        if kind == "switch":
            self.p.error("E723", n, "impl",
                         "KServe's Switch router picks a step with a GJSON `condition` on the request; "
                         "a Python impl cannot be expressed, so each step's condition is its edge's "
                         "`when` value and must be rewritten",
                         "write each edge's `when` as a GJSON condition, e.g. \"instances.0.score>0.8\"")
        self.ig_nodes[name]["steps"] = steps
        return name

    def build(self) -> Export:
        sources = [n for n, v in self.nodes.items() if v.get("kind") == "source"]
        for extra in sources[1:]:
            self.p.error("E724", extra, None, "an InferenceGraph has one entry (its root); "
                                              "this source is not exported")
        root: dict[str, Any] = {"routerType": "Sequence", "steps": []}
        self.ig_nodes["root"] = root
        if sources:
            root["steps"] = self.steps_from(sources[0])
            if root["steps"]:
                root["steps"][0]["data"] = "$request"
        if not any(v.get("kind") in ("python", "model", "switch") for v in self.nodes.values()):
            self.p.error("E726", sources[0] if sources else None, None,
                         "the graph runs nothing (no model, python or switch node), so its "
                         "InferenceGraph would have no step",
                         "KServe serves models: add a model node between the source and the sink")
        for n, node in self.nodes.items():
            if node.get("kind") in WORKER_KINDS and node.get("recovery", {}).get("policy") not in (None, "restart"):
                self.p.warning("W725", n, "recovery", "Kubernetes restarts failed pods; only "
                                                      "`recovery = restart` has a KServe equivalent")
        graph = {
            "apiVersion": "serving.kserve.io/v1alpha1",
            "kind": "InferenceGraph",
            "metadata": {"name": self.name},
            "spec": {"nodes": {"root": self.ig_nodes.pop("root"), **dict(sorted(self.ig_nodes.items()))}},
        }
        return Export("kserve", [graph, *self.services.values()], self.p.items, dict(sorted(self.repository.items())))


def kserve_manifests(earg: dict[str, Any], graph: Any = None, *, storage_prefix: str | None = None) -> Export:
    """The InferenceGraph and InferenceServices for ``earg``, with what could not be expressed."""
    return _Builder(earg, graph, storage_prefix).build()
