"""Drift statistics between a reference summary and a window of current values.

Every statistic comes from scipy: PSI is the symmetrised relative entropy
(``scipy.special.rel_entr`` both ways), the Jensen–Shannon distance is
``scipy.spatial.distance.jensenshannon`` (base 2, so it lies in [0, 1]), the
two-sample Kolmogorov–Smirnov test ``scipy.stats.ks_2samp``, the chi-squared test of
homogeneity ``scipy.stats.chi2_contingency`` and the earth mover's distance
``scipy.stats.wasserstein_distance``. Binning (the reference's quantile edges) and
smoothing of empty bins are the only things done here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats
from scipy.spatial import distance

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DRIFT_METRICS",
    "EPSILON",
    "FeatureDrift",
    "bin_counts",
    "category_counts",
    "chi2_test",
    "drift_share",
    "is_drifted",
    "js_distance",
    "ks_test",
    "psi",
    "quantile_edges",
    "wasserstein",
]

#: the proportion an empty bin is given, so PSI stays finite (the usual 0.0001)
EPSILON = 1e-4

#: the statistics a node's ``drift_metric`` may name, and the threshold each uses by
#: default. PSI, JS and Wasserstein (in reference standard deviations) are distances:
#: a feature drifted when the value is *above* the threshold; KS and chi-squared are
#: tests: it drifted when the p-value is *below* it.
DEFAULT_THRESHOLDS: dict[str, float] = {"psi": 0.2, "js": 0.1, "wasserstein": 0.1, "ks": 0.05, "chi2": 0.05}
DRIFT_METRICS: tuple[str, ...] = tuple(DEFAULT_THRESHOLDS)
PVALUE_METRICS: tuple[str, ...] = ("ks", "chi2")


def quantile_edges(values: np.ndarray, bins: int = 10) -> np.ndarray:
    """Inner bin edges at the reference's quantiles: ``bins`` bins of about equal
    reference mass, the outer ones open to -inf and +inf. An edge falling on a value
    the reference holds moves to the midpoint below it, so rounded reference data
    (many ties) is not split by noise in live values; duplicates merge."""
    inner = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    distinct = np.unique(values)
    at = np.searchsorted(distinct, inner, side="left")
    on_value = (at < len(distinct)) & (at > 0) & (distinct[np.minimum(at, len(distinct) - 1)] == inner)
    lower = distinct[np.maximum(at - 1, 0)]
    return np.unique(np.where(on_value, (lower + inner) / 2, inner))


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """How many ``values`` fall in each bin of ``edges`` (len(edges) + 1 bins; a value
    equal to an edge goes to the bin above it, as in ``numpy.histogram``)."""
    idx = np.searchsorted(edges, values, side="right")
    return np.bincount(idx, minlength=len(edges) + 1)


def category_counts(values: Sequence[Any]) -> dict[str, int]:
    """Occurrences of each category (as its string form)."""
    keys, counts = np.unique(np.asarray([str(v) for v in values], dtype=object).astype(str), return_counts=True)
    return {str(k): int(c) for k, c in zip(keys, counts)}


def _proportions(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    p = counts / total if total else np.full(len(counts), 1.0 / max(len(counts), 1))
    return np.where(p == 0, EPSILON, p)


def psi(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Population stability index: sum over bins of (c - r) * ln(c / r), c and r the
    current and reference proportions (an empty bin counts as EPSILON)."""
    r = _proportions(np.asarray(reference_counts, dtype=float))
    c = _proportions(np.asarray(current_counts, dtype=float))
    return float(np.sum(special.rel_entr(c, r) + special.rel_entr(r, c)))


def js_distance(reference_counts: ArrayLike, current_counts: ArrayLike) -> float:
    """Jensen–Shannon distance (base 2, in [0, 1]) between the two histograms."""
    r = np.asarray(reference_counts, dtype=float)
    c = np.asarray(current_counts, dtype=float)
    if not r.sum() or not c.sum():
        return float("nan")
    return float(distance.jensenshannon(r, c, base=2))


def ks_test(reference_sample: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov statistic and p-value."""
    res = stats.ks_2samp(reference_sample, current)
    return float(res.statistic), float(res.pvalue)


def chi2_test(reference_counts: ArrayLike, current_counts: ArrayLike) -> tuple[float, float]:
    """Chi-squared test of homogeneity of the 2 x k table (reference, current) over the
    categories either side saw: statistic and p-value."""
    table = np.asarray([reference_counts, current_counts], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    res = stats.chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)


def wasserstein(reference_sample: np.ndarray, current: np.ndarray) -> float:
    """Earth mover's distance between the two samples, in the feature's units."""
    return float(stats.wasserstein_distance(reference_sample, current))


@dataclass
class FeatureDrift:
    """The statistics of one feature over one window; ``None`` where they do not apply
    (KS and Wasserstein for categories, chi-squared for numbers)."""

    feature: str
    kind: str  # "numeric" or "categorical"
    count: int
    psi: float
    js: float
    ks: float | None = None
    ks_pvalue: float | None = None
    chi2: float | None = None
    chi2_pvalue: float | None = None
    wasserstein: float | None = None
    wasserstein_norm: float | None = None  # wasserstein / the reference's standard deviation
    drifted: bool = False

    def scores(self) -> dict[str, float]:
        """The distances and statistics that apply, by metric name."""
        out = {"psi": self.psi, "js": self.js}
        for key in ("ks", "chi2", "wasserstein", "wasserstein_norm"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def pvalues(self) -> dict[str, float]:
        out = {}
        if self.ks_pvalue is not None:
            out["ks"] = self.ks_pvalue
        if self.chi2_pvalue is not None:
            out["chi2"] = self.chi2_pvalue
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "kind": self.kind, "count": self.count, "drifted": self.drifted,
                "scores": self.scores(), "pvalues": self.pvalues()}


def is_drifted(drift: FeatureDrift, metric: str, threshold: float) -> bool:
    """Whether ``drift`` crosses ``threshold`` on ``metric`` (a p-value below it, a
    distance above it). A metric that does not apply to the feature's kind falls back
    to PSI with its default threshold."""
    if metric == "ks":
        p = drift.ks_pvalue if drift.ks_pvalue is not None else drift.chi2_pvalue
        return p is not None and p < threshold
    if metric == "chi2":
        p = drift.chi2_pvalue if drift.chi2_pvalue is not None else drift.ks_pvalue
        return p is not None and p < threshold
    if metric == "wasserstein":
        if drift.wasserstein_norm is None:
            return drift.psi > DEFAULT_THRESHOLDS["psi"]
        return drift.wasserstein_norm > threshold
    value = drift.js if metric == "js" else drift.psi
    return bool(value > threshold)


def drift_share(drifts: Mapping[str, FeatureDrift]) -> float:
    """The share of features that drifted (0 with no feature)."""
    if not drifts:
        return 0.0
    return sum(d.drifted for d in drifts.values()) / len(drifts)
