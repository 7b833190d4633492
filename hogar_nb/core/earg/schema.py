"""The EARG v1 JSON Schema (Draft 2020-12).

The schema is built here from :mod:`hogar_nb.core.kinds`, so its ranges and enums are
the ones the UDGL checks use, and shipped as ``earg-v1.schema.json`` next to this
module. After changing it, regenerate the file with
``python -m hogar_nb.core.earg.schema`` (a test fails when the file is stale).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from ..alerts import MEASURES
from ..kinds import (
    CLUSTER_ATTRS,
    COMBINE_MODES,
    COMMON_ATTRS,
    DRIFT_METRICS,
    EDGE_ATTRS,
    GRAPH_ATTRS,
    ISOLATION_MODES,
    KINDS,
    MODEL_METHODS,
    QUALITY_ATTRS,
    RECOVERY_POLICIES,
    TASKS,
    AttrSpec,
)
from ..values import COMPARISONS, NAME_LIMIT

__all__ = ["EARG_VERSION", "SCHEMA_ID", "SCHEMA_PATH", "build_schema", "earg_schema"]

EARG_VERSION = 1
SCHEMA_ID = "https://hogar-nb.dev/schemas/earg-v1.schema.json"
SCHEMA_PATH = Path(__file__).with_name("earg-v1.schema.json")

IDENT = f"^[A-Za-z_][A-Za-z0-9_]{{0,{NAME_LIMIT - 1}}}$"  # a UDGL name, at most NAME_LIMIT long
#: a node name: a UDGL name, or names joined by dots (``prep.scale``, a subgraph's node)
NODE = f"^[A-Za-z_][A-Za-z0-9_]{{0,{NAME_LIMIT - 1}}}(\\.[A-Za-z_][A-Za-z0-9_]{{0,{NAME_LIMIT - 1}}})*$"
_IDENT_KEYS = NODE
_REPLICA_KEYS = "^[A-Za-z_][A-Za-z0-9_]*/(0|[1-9][0-9]*)$"

#: Node keys that only some kinds have.
#: a tensor type as the compiler writes it: a datatype, then dimensions (sizes, symbols or _)
TENSOR_TYPE = r"^[a-z][a-z0-9]*(\[([0-9]+|[A-Za-z_][A-Za-z0-9_]*)(, ([0-9]+|[A-Za-z_][A-Za-z0-9_]*))*\])?$"
TYPE_ORIGINS = ("declared", "onnx", "sklearn", "xgboost", "linear", "object")

KIND_KEYS: dict[str, tuple[str, ...]] = {
    "route": ("source",),
    "loader": ("model",),
    "method": ("model",),
    "quality": ("model",),
    "combine": ("ensemble",),
    "weights": ("ensemble",),
    "response": ("sink",),
    "autoscale": ("python", "model", "switch"),
}


def _num(spec: AttrSpec, type_: str, doc: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_, "description": doc or spec.doc}
    if spec.min is not None:
        out["exclusiveMinimum" if spec.min_exclusive else "minimum"] = spec.min
    if spec.max is not None:
        out["maximum"] = spec.max
    return out


def _alerts() -> dict[str, Any]:
    when = _obj("the condition: measure(args) op value", {
        "measure": {"enum": list(MEASURES), "description": "what is measured"},
        "args": {"type": "array", "items": {"type": "string", "pattern": IDENT, "description": "a node or a name"},
                 "minItems": 1, "maxItems": 2, "description": "the measure's arguments"},
        "op": {"enum": list(COMPARISONS), "description": "the comparison"},
        "value": {"type": "number", "description": "the bound (latency in milliseconds, shares as fractions)"},
    })
    rule = _obj("one alert rule", {
        "name": {"type": "string", "pattern": IDENT, "description": "the rule's name"},
        "when": when,
        "for_ms": {"type": "number", "minimum": 0, "maximum": 86_400_000,
                   "description": "how long the condition holds before the alert fires, in milliseconds"},
        "severity": {"enum": ["info", "warning", "critical"], "description": "how loud it is"},
        "webhook": {"type": "string", "pattern": "^https?://", "description": "receives a JSON POST on firing "
                    "and resolving"},
    }, required=["name", "when", "for_ms", "severity"])
    return {"type": "array", "items": rule, "description": "alert rules, in declaration order"}


def _quality() -> dict[str, Any]:
    q = QUALITY_ATTRS
    reference = _obj("reference data the node's inputs are compared with", {
        "path": {"type": "string", "minLength": 1, "description": q["reference"].doc},
        "sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$",
                   "description": "the file's content hash when the document was written (null: not found)"},
    }, required=["path"])
    return _obj("model: drift against a reference and quality from delayed labels (hogar_nb.quality)", {
        "reference": reference,
        "drift_window": _num(q["drift_window"], "integer"),
        "drift_metric": {"enum": list(DRIFT_METRICS), "description": q["drift_metric"].doc},
        "drift_threshold": _num(q["drift_threshold"], "number"),
        "feedback": {"type": "boolean", "description": q["feedback"].doc},
        "feedback_horizon_ms": _num(q["feedback_horizon"], "number",
                                    "how long a prediction waits for its label, in milliseconds (default 24 h)"),
        "task": {"enum": list(TASKS), "description": q["task"].doc},
    }, required=[])


def _obj(description: str, properties: dict[str, Any], required: list[str] | None = None) -> dict:
    out: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    out["required"] = list(properties) if required is None else required
    return out


def _node_schema() -> dict[str, Any]:
    c = COMMON_ATTRS
    recovery = _obj(
        "what happens when a replica crashes or hangs",
        {
            "policy": {"enum": list(RECOVERY_POLICIES), "description": "recovery policy"},
            "max_restarts": {
                "type": "integer", "minimum": 0, "maximum": 10_000,
                "description": "restarts allowed within the window before the node is suspended "
                               "(policy restart)",
            },
            "backoff_ms": {
                "type": "number", "minimum": 0,
                "description": "first wait before a restart, in milliseconds, doubled while "
                               "restarts fail (policy restart)",
            },
            "within_ms": {
                "type": "number", "exclusiveMinimum": 0, "maximum": 86_400_000,
                "description": "the window max_restarts counts in, in milliseconds (default 60000)",
            },
        },
        required=["policy", "max_restarts", "backoff_ms"],
    )
    props: dict[str, Any] = {
        "name": {"type": "string", "pattern": NODE, "description": "node name, unique in the graph"},
        "kind": {"enum": list(KINDS), "description": "built-in node kind"},
        "impl": {
            "type": ["string", "null"], "minLength": 1,
            "description": 'what runs: "module:attr", a notebook name or a model artifact',
        },
        "replicas": _num(c["replicas"], "integer"),
        "resources": _obj(
            "resources of one replica",
            {
                "cpu": _num(c["cpu"], "number"),
                "gpu": _num(c["gpu"], "number"),
                "memory_bytes": _num(c["memory"], "integer", "memory per replica, in bytes"),
            },
        ),
        "batch": _obj(
            "dynamic batching",
            {
                "max_size": _num(c["batch"], "integer"),
                "max_wait_ms": _num(c["batch_wait"], "number", "longest wait to fill a batch, in milliseconds"),
            },
        ),
        "timeout_ms": _num(c["timeout"], "number", "per-request timeout, in milliseconds"),
        "retries": _num(c["retries"], "integer"),
        "recovery": recovery,
        "latency_ms": {
            **_num(c["latency"], "number", "latency estimate for capacity analysis, in milliseconds (null: none)"),
            "type": ["number", "null"],
        },
        "isolation": {"enum": list(ISOLATION_MODES), "description": c["isolation"].doc},
        "max_queue": _num(c["max_queue"], "integer", "most requests waiting at the node (default 1024)"),
        "retry_errors": {"type": "boolean", "description": "also retry when the impl raises (default false)"},
        "autoscale": _obj(
            "replicas = auto(min, max): the autoscaling policy (replicas is the count it starts with, "
            "its minimum); worker kinds only",
            {
                "min_replicas": {"type": "integer", "minimum": 1, "maximum": 10_000,
                                 "description": "fewest replicas"},
                "max_replicas": {"type": "integer", "minimum": 1, "maximum": 10_000,
                                 "description": "most replicas"},
                "target_ongoing": _num(c["target_ongoing"], "number"),
                "scale_up_delay_ms": _num(c["scale_up_delay"], "number",
                                          "how long a need for more replicas lasts before they start, in "
                                          "milliseconds"),
                "scale_down_delay_ms": _num(c["scale_down_delay"], "number",
                                            "how long a need for fewer replicas lasts before some leave, in "
                                            "milliseconds"),
            },
        ),
        "description": {"type": "string", "description": "free text"},
        "route": {"type": "string", "pattern": "^/", "description": "source: HTTP route prefix, starting with /"},
        "loader": {"type": "string", "minLength": 1, "description": "model: loader plugin name"},
        "method": {"enum": list(MODEL_METHODS),
                   "description": "model: predict (default), predict_proba or transform"},
        "quality": _quality(),
        "input": {"type": "string", "pattern": TENSOR_TYPE,
                  "description": "declared type the node takes, e.g. float32[n, 20] (checked along edges)"},
        "output": {"type": "string", "pattern": TENSOR_TYPE,
                   "description": "declared type the node gives, e.g. int64[n] (checked along edges)"},
        "origin": _obj(
            "where a node of an included graph (`use`) was declared",
            {
                "file": {"type": "string", "minLength": 1,
                         "description": "the included graph's file, relative to the including graph's folder"},
                "line": {"type": "integer", "minimum": 1, "description": "the line that declares the node there"},
                "use": {"type": "string", "pattern": NODE, "description": "the instance the node belongs to"},
            },
        ),
        "types": _obj(
            "types inferred by the compiler from model artifacts and declarations (derived: "
            "ignored when the document is loaded)",
            {
                "input": {"type": "string", "pattern": TENSOR_TYPE, "description": "the type the node takes"},
                "output": {"type": "string", "pattern": TENSOR_TYPE, "description": "the type the node gives"},
                "origin": {"enum": list(TYPE_ORIGINS), "description": "where the types came from"},
            },
            [],
        ),
        "combine": {
            "description": "ensemble: how the inputs are combined (a built-in or a callable)",
            "anyOf": [
                {"enum": list(COMBINE_MODES), "description": "built-in combine mode"},
                {"type": "string", "minLength": 1, "description": '"module:attr" or a notebook name'},
            ],
        },
        "weights": {
            "type": "object",
            "description": "ensemble: weight of each input, keyed by the input node's name",
            "patternProperties": {_IDENT_KEYS: {"type": "number", "minimum": 0, "description": "weight"}},
            "additionalProperties": False,
            "minProperties": 1,
        },
        "response": {"type": "boolean", "description": "sink: this sink is the graph's response"},
    }
    required = ["name", "kind", "impl", "replicas", "resources", "batch", "timeout_ms",
                "retries", "recovery", "latency_ms"]
    node = _obj("one node, fully resolved (defaults and templates applied)", props, required)
    node["allOf"] = [
        {
            "if": {
                "properties": {"kind": {"enum": list(kinds), "description": f"kinds without `{key}`"}},
                "required": ["kind"],
            },
            "then": {"not": {"required": [key]}},
        }
        for key, having in KIND_KEYS.items()
        for kinds in [[k for k in KINDS if k not in having]]
    ]
    return node


def build_schema() -> dict[str, Any]:
    """The EARG v1 JSON Schema as a dict (what ``earg-v1.schema.json`` holds)."""
    param_value = {
        "description": "a parameter value: units normalised (ms, bytes, fractions)",
        "anyOf": [
            {"type": ["string", "number", "boolean"], "description": "a scalar"},
            {"type": "array", "items": {"$ref": "#/$defs/param_value"}, "description": "a list"},
        ],
    }
    w = EDGE_ATTRS["weight"]
    edge = _obj(
        "a directed edge",
        {
            "src": {"type": "string", "pattern": NODE, "description": "source node"},
            "dst": {"type": "string", "pattern": NODE, "description": "destination node"},
            "when": {"type": "string", "description": EDGE_ATTRS["when"].doc},
            "weight": {**_num(w, "number"), "description": "share of a split's traffic, as a fraction (90% -> 0.9)"},
            "mirror": {**_num(EDGE_ATTRS["mirror"], "number"),
                       "description": "shadow traffic: the share of requests copied along the edge, as a "
                                      "fraction; the node's answer is compared, never returned"},
        },
        ["src", "dst"],
    )
    cl = CLUSTER_ATTRS
    cluster = _obj(
        "the machines available: identical workers",
        {
            "workers": _num(cl["workers"], "integer"),
            "cpu": _num(cl["cpu"], "number"),
            "gpu": _num(cl["gpu"], "number"),
            "memory_bytes": {
                **_num(cl["memory"], "integer", "memory per worker, in bytes (null: unlimited)"),
                "type": ["integer", "null"],
            },
        },
    )
    props: dict[str, Any] = {
        "earg": {"const": EARG_VERSION, "description": "EARG format version"},
        "name": {"type": "string", "pattern": IDENT, "description": "graph name"},
        "description": {"type": "string", "description": "graph description"},
        "trace_sample": _num(GRAPH_ATTRS["trace_sample"], "number",
                             "the share of requests traced (a fraction) when neither hogar serve --trace-sample "
                             "nor OTEL_TRACES_SAMPLER says"),
        "params": {
            "type": "object",
            "description": "graph parameters as resolved",
            "patternProperties": {_IDENT_KEYS: {"$ref": "#/$defs/param_value", "description": "one parameter"}},
            "additionalProperties": False,
        },
        "response": {"type": "string", "pattern": NODE, "description": "the response sink"},
        "nodes": {
            "type": "array", "items": {"$ref": "#/$defs/node"}, "minItems": 1,
            "description": "every node, in declaration order",
        },
        "edges": {"type": "array", "items": {"$ref": "#/$defs/edge"}, "description": "edges sorted by (src, dst)"},
        "stages": {
            "type": "array",
            "description": "topological stages: nodes of one stage can run in parallel",
            "items": {
                "type": "array", "minItems": 1, "description": "one stage, names sorted",
                "items": {"type": "string", "pattern": NODE, "description": "node name"},
            },
        },
        "cluster": cluster,
        "placement": {
            "type": "object",
            "description": 'worker of each replica: "node/i" -> "worker-k"',
            "patternProperties": {
                _REPLICA_KEYS: {"type": "string", "pattern": "^worker-(0|[1-9][0-9]*)$", "description": "worker id"}
            },
            "additionalProperties": False,
        },
        "alerts": _alerts(),
        "layout": {
            "type": "object",
            "description": "editor metadata: [x, y] position of nodes",
            "patternProperties": {
                _IDENT_KEYS: {
                    "type": "array", "items": {"type": "number", "description": "coordinate"},
                    "minItems": 2, "maxItems": 2, "description": "[x, y]",
                }
            },
            "additionalProperties": False,
        },
    }
    top = _obj("an EARG v1 document: a deployable serving graph", props,
               ["earg", "name", "params", "response", "nodes", "edges", "stages"])
    top["dependentRequired"] = {"placement": ["cluster"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "EARG config v1",
        **top,
        "$defs": {"node": _node_schema(), "edge": edge, "param_value": param_value},
    }


@functools.cache
def _shipped() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def earg_schema() -> dict[str, Any]:
    """The shipped EARG v1 JSON Schema (a fresh copy; safe to modify)."""
    return copy.deepcopy(_shipped())


def schema_text() -> str:
    return json.dumps(build_schema(), indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
