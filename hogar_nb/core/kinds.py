"""Built-in node kinds and the attributes each accepts, with types, units and ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .autoscale import DEFAULT_SCALE_DOWN_DELAY_MS, DEFAULT_SCALE_UP_DELAY_MS, DEFAULT_TARGET_ONGOING

__all__ = [
    "AttrSpec",
    "CLUSTER_ATTRS",
    "GRAPH_ATTRS",
    "COMBINE_MODES",
    "COMMON_ATTRS",
    "DRIFT_METRICS",
    "EDGE_ATTRS",
    "KINDS",
    "KIND_ATTRS",
    "QUALITY_ATTRS",
    "RECONFIGURABLE",
    "RECONFIGURABLE_BY_KIND",
    "RECOVERY_POLICIES",
    "TASKS",
    "VALUE_DOCS",
    "WORKER_KINDS",
    "attrs_for_kind",
    "default_value",
]

KINDS: dict[str, str] = {
    "source": "entry point of requests",
    "python": "a Python callable (\"module:attr\" or a notebook name)",
    "model": "a model artifact loaded by a loader plugin",
    "switch": "routes each request to exactly one successor chosen by its impl",
    "split": "routes each request to one successor by the edges' weights",
    "ensemble": "joins all its inputs for one request and combines them",
    "sink": "the response (or a side output)",
}

#: kinds whose nodes run replicas behind a queue; the others run inline as a request passes
WORKER_KINDS: tuple[str, ...] = ("python", "model", "switch")
#: what a running deployment can change on a worker node (``scale`` sets ``replicas``)
RECONFIGURABLE: tuple[str, ...] = ("replicas", "batch", "batch_wait", "timeout", "retries")
#: ... and, by kind, on every node that has something to change: a split's ``weights``
#: (its edges' shares, by successor: how a rollout moves traffic)
RECONFIGURABLE_BY_KIND: dict[str, tuple[str, ...]] = {
    **{kind: RECONFIGURABLE for kind in WORKER_KINDS}, "split": ("weights",)}

RECOVERY_POLICIES = ("restart", "failover", "none")
COMBINE_MODES = ("mean", "vote", "concat", "first")
ISOLATION_MODES = ("thread", "process")
MODEL_METHODS = ("predict", "predict_proba", "transform")

# What each enum value means (editors show it next to the value).
VALUE_DOCS: dict[str, str] = {
    "restart": "restart a crashed or hung replica and retry the requests it held",
    "failover": "send traffic to the healthy replicas while the broken one is replaced",
    "none": "no recovery: the requests a broken replica held fail",
    "mean": "the mean of the inputs (numbers or arrays)",
    "vote": "the most common input (majority vote)",
    "concat": "the inputs concatenated, in edge order",
    "first": "the first input to arrive",
    "thread": "replicas run as threads of the serving process",
    "psi": "population stability index over the reference's quantile bins",
    "js": "Jensen-Shannon distance between the binned distributions",
    "ks": "two-sample Kolmogorov-Smirnov test (numbers; chi-squared for categories)",
    "chi2": "chi-squared test of homogeneity (categories; KS for numbers)",
    "wasserstein": "earth mover's distance in reference standard deviations",
    "classification": "labels are classes: accuracy, precision, recall, F1, log-loss",
    "regression": "labels are numbers: MAE and RMSE",
    "process": "replicas run as separate processes, for isolation",
}


@dataclass(frozen=True, slots=True)
class AttrSpec:
    """One attribute: its value type, range and meaning.

    ``type`` is one of: int, number, duration, size, string, bool, enum, recovery,
    impl, percent, numbers (a list of numbers), combine, tensor (a tensor type),
    replicas (an int or ``auto(min, max)``).
    """

    name: str
    type: str
    doc: str
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    choices: tuple[str, ...] = ()
    required: bool = False

    def expectation(self, with_range: bool = False) -> str:
        """Words for what a good value is, used in messages (with its range if asked)."""
        base = {
            "int": "an integer",
            "number": "a number",
            "duration": "a duration" if with_range else "a duration such as 250ms or 1.5s",
            "size": "a size" if with_range else "a size such as 512MiB or 4GiB",
            "string": "a string in double quotes",
            "bool": "true or false",
            "enum": "one of " + ", ".join(f"`{c}`" for c in self.choices),
            "recovery": "`restart`, `restart(max = 5, within = 60s, backoff = 100ms)`, `failover` or `none`",
            "impl": 'a "module:attr" string or a notebook name',
            "percent": "a percentage such as 90% (or a fraction between 0 and 1)",
            "replicas": "an integer" if with_range else "an integer, or `auto(min = 1, max = 8)`",
            "numbers": "a list of numbers such as [0.7, 0.3]",
            "combine": "one of mean, vote, concat, first, or a callable",
            "tensor": "a type such as float32[n, 20], int64[n], bytes[n] or json",
        }[self.type]
        if with_range and self.min is not None and self.type in ("int", "replicas", "number", "duration", "size"):
            op = ">" if self.min_exclusive else ">="
            low = _fmt_bound(self.type, self.min)
            base += f" {op} {low}"
            if self.max is not None:
                base += f" and <= {_fmt_bound(self.type, self.max)}"
        return base


def _fmt_bound(kind: str, x: float) -> str:
    from .values import format_duration, format_size

    if kind == "duration":
        return format_duration(float(x)) if x else "0ms"
    if kind == "size":
        return format_size(int(x)) if x else "0B"
    return f"{x:g}"


def _spec(name: str, type_: str, doc: str, **kw: Any) -> AttrSpec:
    return AttrSpec(name, type_, doc, **kw)


# restart(max = N, within = T): at most N restarts in a window of T without a request served
DEFAULT_WITHIN_MS = 60_000.0

COMMON_ATTRS: dict[str, AttrSpec] = {
    s.name: s
    for s in (
        _spec("replicas", "replicas", "number of replica workers",
              min=1, max=10_000),
        _spec("target_ongoing", "number", "with replicas = auto(...): requests in flight or queued per "
              "replica the autoscaler aims for", min=0, min_exclusive=True, max=100_000),
        _spec("scale_up_delay", "duration", "with replicas = auto(...): how long a need for more replicas "
              "lasts before they start", min=0, max=3_600_000),
        _spec("scale_down_delay", "duration", "with replicas = auto(...): how long a need for fewer "
              "replicas lasts before some leave (after the call they are in)", min=0, max=86_400_000),
        _spec("cpu", "number", "CPUs per replica", min=0, max=1_024),
        _spec("gpu", "number", "GPUs per replica", min=0, max=64),
        _spec("memory", "size", "memory per replica", min=0, max=2**50),
        _spec("batch", "int", "largest dynamic batch", min=1, max=100_000),
        _spec("batch_wait", "duration", "longest wait to fill a batch", min=0, max=3_600_000),
        _spec("timeout", "duration", "per-request timeout", min=0, min_exclusive=True, max=86_400_000),
        _spec("retries", "int", "retries after a replica crashed, died or hung", min=0, max=100),
        _spec("retry_errors", "bool", "also retry when the impl raises"),
        _spec("recovery", "recovery", "what happens when a replica crashes or hangs"),
        _spec("max_queue", "int", "most requests waiting at the node before callers wait or are refused",
              min=1, max=1_000_000),
        _spec("latency", "duration", "latency estimate used by capacity analysis", min=0.001, max=86_400_000),
        _spec("description", "string", "free text"),
        _spec("isolation", "enum", "run replicas as threads or processes", choices=ISOLATION_MODES),
        _spec("input", "tensor", "the type the node takes, e.g. float32[n, 20] (checked along its edges)"),
        _spec("output", "tensor", "the type the node gives, e.g. float32[n] (checked along its edges)"),
    )
}

#: what judges a model node (hogar_nb.quality): its reference data, drift settings and labels
DRIFT_METRICS = ("psi", "js", "ks", "chi2", "wasserstein")
TASKS = ("classification", "regression")
QUALITY_ATTRS: dict[str, AttrSpec] = {
    s.name: s
    for s in (
        _spec("reference", "string", "reference data (.csv, .npy, .npz, .parquet), relative to the graph file"),
        _spec("drift_window", "int", "recent inputs compared with the reference (default 1000)",
              min=10, max=1_000_000),
        _spec("drift_metric", "enum", "the statistic that decides a feature drifted (default psi)",
              choices=DRIFT_METRICS),
        _spec("drift_threshold", "number", "a distance above it, or a p-value below it, is drift "
              "(default: psi 0.2, js 0.1, wasserstein 0.1 sd, ks and chi2 0.05)", min=0, max=1_000_000),
        _spec("feedback", "bool", "keep predictions for delayed labels (POST /hogar/v1/feedback)"),
        _spec("feedback_horizon", "duration", "how long a prediction waits for its label (default 24h)",
              min=0, min_exclusive=True, max=31_536_000_000),
        _spec("task", "enum", "how labels are scored (default: from the predictions)", choices=TASKS),
    )
}

_IMPL = _spec("impl", "impl", "what runs: \"module:attr\", a notebook name or an artifact", required=True)

KIND_ATTRS: dict[str, dict[str, AttrSpec]] = {
    "source": {"route": _spec("route", "string", "HTTP route prefix, starting with /")},
    "python": {"impl": _IMPL},
    "model": {
        "impl": _spec("impl", "impl", "model artifact path (or a loader callable)", required=True),
        "loader": _spec("loader", "string", "loader plugin name (default: by file extension)"),
        "method": _spec("method", "enum", "what the model answers: predict (default), predict_proba or transform",
                        choices=MODEL_METHODS),
        **QUALITY_ATTRS,
    },
    "switch": {"impl": _IMPL},
    "split": {},
    "ensemble": {
        "combine": _spec("combine", "combine", "how the inputs are combined"),
        "weights": _spec("weights", "numbers", "weights of the inputs, in edge order"),
    },
    "sink": {"response": _spec("response", "bool", "this sink is the graph's response")},
}

EDGE_ATTRS: dict[str, AttrSpec] = {
    "when": _spec("when", "string", "value of the switch's impl that selects this edge (\"*\" matches all)"),
    "weight": _spec("weight", "percent", "share of a split's traffic", min=0, max=1),
    "mirror": _spec("mirror", "percent", "shadow traffic: the share of requests copied to this edge's node, "
                    "whose answer is compared, never returned", min=0, min_exclusive=True, max=1),
}

# `graph NAME { ... }`: settings of the graph as a whole
GRAPH_ATTRS: dict[str, AttrSpec] = {
    "trace_sample": _spec("trace_sample", "percent", "the share of requests traced when neither "
                          "`hogar serve --trace-sample` nor OTEL_TRACES_SAMPLER says", min=0, max=1),
}

CLUSTER_ATTRS: dict[str, AttrSpec] = {
    s.name: s
    for s in (
        _spec("workers", "int", "number of worker machines", min=1, max=100_000),
        _spec("cpu", "number", "CPUs per worker", min=0, min_exclusive=True, max=1_000_000),
        _spec("gpu", "number", "GPUs per worker", min=0, max=10_000),
        _spec("memory", "size", "memory per worker", min=0, max=2**60),
    )
}

_DEFAULTS: dict[str, Any] = {
    "replicas": 1,
    "gpu": 0,
    "memory": 0,
    "batch": 1,
    "batch_wait": 0.0,
    "timeout": 30_000.0,
    "retries": 0,
    "retry_errors": False,
    "recovery": {"policy": "restart", "max_restarts": 5, "backoff_ms": 100.0},
    "max_queue": 1024,
    "latency": None,
    "target_ongoing": DEFAULT_TARGET_ONGOING,
    "scale_up_delay": DEFAULT_SCALE_UP_DELAY_MS,
    "scale_down_delay": DEFAULT_SCALE_DOWN_DELAY_MS,
    "description": None,
    "isolation": "thread",
    "impl": None,
    "route": None,
    "loader": None,
    "method": None,
    "combine": "mean",
    "weights": None,
    "response": None,
    **{name: None for name in QUALITY_ATTRS},
    "input": None,
    "output": None,
}


def default_value(kind: str, attr: str) -> Any:
    """The resolved value an attribute takes when nothing sets it."""
    if attr == "cpu":
        return 1 if kind in ("python", "model") else 0
    if attr == "route" and kind == "source":
        return None
    value = _DEFAULTS.get(attr)
    return dict(value) if isinstance(value, dict) else value


def attrs_for_kind(kind: str) -> dict[str, AttrSpec]:
    """Every attribute a node of ``kind`` accepts."""
    return {**COMMON_ATTRS, **KIND_ATTRS.get(kind, {})}
