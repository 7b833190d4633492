"""The quality families for Prometheus, read from a deployment's monitor at scrape time.

``hogar_drift_score{graph,node,feature,metric}`` (PSI, JS, KS statistic, chi-squared
statistic, Wasserstein and its normed form; feature ``__share__`` with metric
``share`` is the node's share of drifted features), ``hogar_drift_pvalue{...}`` (KS,
chi-squared), ``hogar_model_quality{graph,node,metric}`` and
``hogar_feedback_labels_total{graph,node,outcome}`` (node ``__graph__``: every label
once, unknown and expired ones included) and ``hogar_quality_dropped_total{graph}``
(served answers the monitor lost because it fell behind: none of their inputs
reached a window, none of their predictions the store).
"""

from __future__ import annotations

import math
from typing import Any, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

__all__ = ["QualityCollector"]


class QualityCollector:
    """A prometheus_client collector over ``dep.quality_monitor(start=False)``."""

    def __init__(self, dep: Any) -> None:
        self.dep = dep

    def collect(self) -> Iterator[Any]:
        monitor = self.dep.quality_monitor(start=False)
        if monitor is None:
            return
        g = self.dep.name
        score = GaugeMetricFamily("hogar_drift_score", "Drift of a model node's feature against its reference",
                                  labels=["graph", "node", "feature", "metric"])
        pvalue = GaugeMetricFamily("hogar_drift_pvalue", "p-value of a drift test (KS, chi-squared)",
                                   labels=["graph", "node", "feature", "metric"])
        quality = GaugeMetricFamily("hogar_model_quality", "Model quality from delayed labels",
                                    labels=["graph", "node", "metric"])
        labels = CounterMetricFamily("hogar_feedback_labels", "Labels received, by outcome",
                                     labels=["graph", "node", "outcome"])
        for name, watch in sorted(monitor.nodes.items()):
            for feature, drift in sorted({**watch.drift, **{f"output:{k}": v for k, v in
                                                             watch.output_drift.items()}}.items()):
                for metric, value in drift.scores().items():
                    if math.isfinite(value):
                        score.add_metric([g, name, feature, metric], value)
                for metric, value in drift.pvalues().items():
                    pvalue.add_metric([g, name, feature, metric], value)
            if watch.drift:
                score.add_metric([g, name, "__share__", "share"], watch.share)
            for metric, value in sorted(watch.scores.items()):
                quality.add_metric([g, name, metric], float(value))
        store = monitor.store
        if store is not None:
            for name in sorted(monitor.feedback_nodes):
                for outcome, n in store.label_outcomes(name).items():
                    labels.add_metric([g, name, outcome], n)
            for outcome, n in store.label_outcomes().items():
                labels.add_metric([g, "__graph__", outcome], n)
        dropped = CounterMetricFamily("hogar_quality_dropped", "Answers the quality monitor lost (it fell behind)",
                                      labels=["graph"])
        dropped.add_metric([g], monitor.dropped)
        yield from (score, pvalue, quality, labels, dropped)
