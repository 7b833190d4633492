"""Alert rules: ``alert NAME { when = measure(args) > bound, for = 5m }``.

A rule names a condition on a measure the running graph reports (drift, model
quality, latency, error rate), how long it must hold before the alert fires
(``for``), how loud it is (``severity``) and, optionally, a URL that receives a
JSON POST when it fires and when it resolves (``webhook``). This module checks rules
against the graph and moves them between UDGL and EARG; :mod:`hogar_nb.quality.alerts`
evaluates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic, Span, did_you_mean
from .kinds import AttrSpec
from .values import Condition, Duration, Percent

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Graph

__all__ = ["ALERT_ATTRS", "MEASURES", "QUALITY_METRICS", "Alert", "alert_diagnostics", "alerts_from_earg",
           "alerts_to_earg"]

#: measure -> (its arguments, what it is)
MEASURES: dict[str, tuple[tuple[str, ...], str]] = {
    "drift_share": (("node",), "share of a model node's features that drifted (0 to 1)"),
    "drift": (("node", "feature"), "a feature's drift score on its node's drift_metric"),
    "quality": (("node", "metric"), "a model node's quality from delayed labels"),
    "latency_p99": (("node",), "99th percentile latency of a node (or `graph`), a duration"),
    "error_rate": (("node",), "share of a node's (or the graph's) requests that failed since the last check"),
}
QUALITY_METRICS = ("accuracy", "precision", "recall", "f1", "log_loss", "mae", "rmse", "labelled")
SEVERITIES = ("info", "warning", "critical")

ALERT_ATTRS: dict[str, AttrSpec] = {
    "when": AttrSpec("when", "condition", "the condition, e.g. drift_share(scorer) > 0.3", required=True),
    "for": AttrSpec("for", "duration", "how long the condition holds before the alert fires (default 0s)",
                    min=0, max=86_400_000),
    "severity": AttrSpec("severity", "enum", "info, warning (default) or critical", choices=SEVERITIES),
    "webhook": AttrSpec("webhook", "string", "an http(s) URL that receives a JSON POST on firing and resolving"),
}


@dataclass
class Alert:
    """One rule as written: ``attrs`` by name, with their spans."""

    name: str
    attrs: dict[str, Any]
    span: Span | None = None
    spans: dict[str, Span] = field(default_factory=dict)


def alert_diagnostics(graph: Graph) -> list[Diagnostic]:
    """What is wrong with the graph's alert rules: unknown attributes, a missing or
    malformed ``when``, a measure of an unknown node."""
    out: list[Diagnostic] = []
    for alert in graph.alerts.values():
        where = f"of alert `{alert.name}`"
        for key in alert.attrs:
            if key not in ALERT_ATTRS:
                out.append(Diagnostic.at("E011", f"unknown attribute `{key}` {where}", alert.spans.get(key, alert.span),
                                         hint=did_you_mean(key, ALERT_ATTRS) or "alerts take " + ", ".join(ALERT_ATTRS)))
        when = alert.attrs.get("when")
        span = alert.spans.get("when", alert.span)
        if when is None:
            out.append(Diagnostic.at("E016", f"alert `{alert.name}` needs `when`", alert.span,
                                     hint="add { when = drift_share(NODE) > 0.3 }"))
        elif not isinstance(when, Condition):
            out.append(Diagnostic.at("E020", f"`when` {where} must be a condition such as "
                                     "drift_share(scorer) > 0.3", span))
        else:
            out += _condition_diagnostics(graph, when, span, where)
        wait = alert.attrs.get("for")
        if wait is not None and not (isinstance(wait, Duration) and 0 <= wait.ms <= 86_400_000):
            out.append(Diagnostic.at("E020", f"got {wait} for `for` {where}; expected a duration such as 5m",
                                     alert.spans.get("for", alert.span)))
        severity = alert.attrs.get("severity")
        if severity is not None and str(severity) not in SEVERITIES:
            out.append(Diagnostic.at("E024", f"got {severity} for `severity` {where}; expected one of "
                                     + ", ".join(SEVERITIES), alert.spans.get("severity", alert.span)))
        hook = alert.attrs.get("webhook")
        if hook is not None and not (isinstance(hook, str) and hook.startswith(("http://", "https://"))):
            out.append(Diagnostic.at("E020", f"`webhook` {where} must be an http:// or https:// URL in quotes",
                                     alert.spans.get("webhook", alert.span)))
    return out


def _condition_diagnostics(graph: Graph, when: Condition, span: Span | None, where: str) -> list[Diagnostic]:
    spec = MEASURES.get(when.measure)
    if spec is None:
        return [Diagnostic.at("E024", f"unknown measure `{when.measure}` in `when` {where}", span,
                              hint=did_you_mean(when.measure, MEASURES) or "measures: " + ", ".join(MEASURES))]
    params = spec[0]
    if len(when.args) != len(params):
        return [Diagnostic.at("E020", f"`{when.measure}` takes {', '.join(params)}; got {len(when.args)} "
                              f"argument{'s' * (len(when.args) != 1)} in `when` {where}", span)]
    out = []
    node = when.args[0]
    model_only = when.measure in ("drift_share", "drift", "quality")
    if node not in graph.nodes and not (node == "graph" and not model_only):
        out.append(Diagnostic.at("E030", f"`when` {where} names `{node}`, which is not a node", span,
                                 hint=did_you_mean(node, graph.nodes)))
    elif model_only and graph.nodes[node].kind != "model":
        out.append(Diagnostic.at("E030", f"`{when.measure}` {where} needs a model node; `{node}` is a "
                                 f"{graph.nodes[node].kind} node", span))
    if when.measure == "quality" and when.args[1] not in QUALITY_METRICS:
        out.append(Diagnostic.at("E024", f"unknown quality metric `{when.args[1]}` {where}", span,
                                 hint=did_you_mean(when.args[1], QUALITY_METRICS) or ", ".join(QUALITY_METRICS)))
    bound = when.bound
    if when.measure == "latency_p99":
        if not isinstance(bound, Duration):
            out.append(Diagnostic.at("E020", f"`latency_p99` {where} is compared with a duration such as 250ms; "
                                     f"got {bound}", span))
    elif not isinstance(bound, (int, float, Percent)) or isinstance(bound, bool):
        out.append(Diagnostic.at("E020", f"`{when.measure}` {where} is compared with a number or a percentage; "
                                 f"got {bound}", span))
    return out


def _plain_bound(bound: Any) -> float:
    if isinstance(bound, Duration):
        return float(bound.ms)
    if isinstance(bound, Percent):
        return bound.fraction
    return float(bound)


def alerts_to_earg(graph: Graph) -> list[dict[str, Any]]:
    """The EARG ``alerts`` list: each rule with its condition spelled out (latency
    bounds in milliseconds, percentages as fractions)."""
    out = []
    for alert in graph.alerts.values():
        when: Condition = alert.attrs["when"]
        entry: dict[str, Any] = {
            "name": alert.name,
            "when": {"measure": when.measure, "args": list(when.args), "op": when.op,
                     "value": _plain_bound(when.bound)},
            "for_ms": float(alert.attrs["for"].ms) if "for" in alert.attrs else 0.0,
            "severity": str(alert.attrs.get("severity", "warning")),
        }
        if "webhook" in alert.attrs:
            entry["webhook"] = alert.attrs["webhook"]
        out.append(entry)
    return out


def alerts_from_earg(entries: list[dict[str, Any]]) -> list[Alert]:
    """Rules from an EARG ``alerts`` list, as UDGL writes them."""
    from .values import Ident

    out = []
    for e in entries:
        w = e["when"]
        bound: Any = Duration(float(w["value"])) if w["measure"] == "latency_p99" else w["value"]
        attrs: dict[str, Any] = {"when": Condition(w["measure"], tuple(w["args"]), w["op"], bound)}
        if e.get("for_ms"):
            attrs["for"] = Duration(float(e["for_ms"]))
        if e.get("severity", "warning") != "warning":
            attrs["severity"] = Ident(e["severity"])
        if "webhook" in e:
            attrs["webhook"] = e["webhook"]
        out.append(Alert(e["name"], attrs))
    return out
