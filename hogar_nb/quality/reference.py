"""A model node's reference data, summarised: never kept whole in memory.

A :class:`Reference` holds, per feature, what the drift statistics need: for a
numeric feature the quantile bin edges and the reference's count in each bin, a few
quantiles, the mean and standard deviation, and a bounded random sample (for KS and
Wasserstein); for a categorical feature the count of each category. Build one from
rows (:meth:`Reference.from_rows`, e.g. captured live traffic) or a file
(:func:`hogar_nb.quality.files.load_reference`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import stats

__all__ = ["SAMPLE_SIZE", "FeatureSummary", "Reference", "columns_of"]

#: the most reference values kept per numeric feature, for KS and Wasserstein
SAMPLE_SIZE = 5_000
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@dataclass
class FeatureSummary:
    """One feature of a reference."""

    name: str
    kind: str  # "numeric" or "categorical"
    count: int
    edges: np.ndarray | None = None  # numeric: inner bin edges
    bins: np.ndarray | None = None  # numeric: reference count per bin
    sample: np.ndarray | None = None  # numeric: at most SAMPLE_SIZE values
    quantiles: dict[str, float] | None = None
    mean: float = 0.0
    std: float = 0.0
    categories: dict[str, int] | None = None  # categorical: count per category

    @classmethod
    def of(cls, name: str, values: Sequence[Any], bins: int = 10, sample_size: int = SAMPLE_SIZE,
           seed: int = 0) -> FeatureSummary:
        """Summarise one column: numeric when every value is a number, else categorical."""
        numeric = _as_numbers(values)
        if numeric is None:
            return cls(name, "categorical", len(values), categories=stats.category_counts(values))
        numeric = numeric[np.isfinite(numeric)]
        if not len(numeric):
            return cls(name, "numeric", 0, edges=np.empty(0), bins=np.zeros(1), sample=np.empty(0),
                       quantiles={})
        edges = stats.quantile_edges(numeric, bins)
        if len(numeric) > sample_size:
            sample = np.random.default_rng(seed).choice(numeric, sample_size, replace=False)
        else:
            sample = numeric.copy()
        qs = np.quantile(numeric, QUANTILES)
        return cls(name, "numeric", len(numeric), edges=edges, bins=stats.bin_counts(numeric, edges),
                   sample=sample, quantiles={f"p{round(q * 100)}": float(v) for q, v in zip(QUANTILES, qs)},
                   mean=float(numeric.mean()), std=float(numeric.std()))

    def compare(self, values: Sequence[Any], metric: str = "psi", threshold: float | None = None
                ) -> stats.FeatureDrift:
        """The drift statistics of ``values`` (a window of this feature) against it."""
        limit = stats.DEFAULT_THRESHOLDS[metric] if threshold is None else threshold
        if self.kind == "numeric":
            assert self.edges is not None and self.bins is not None and self.sample is not None
            current = _as_numbers(values)
            if current is None:  # strings where the reference had numbers: count them as missing
                current = np.asarray([v for v in values if isinstance(v, (int, float))], dtype=float)
            current = current[np.isfinite(current)]
            counts = stats.bin_counts(current, self.edges)
            drift = stats.FeatureDrift(self.name, "numeric", len(current), stats.psi(self.bins, counts),
                                       stats.js_distance(self.bins, counts))
            if len(current) and len(self.sample):
                drift.ks, drift.ks_pvalue = stats.ks_test(self.sample, current)
                drift.wasserstein = stats.wasserstein(self.sample, current)
                drift.wasserstein_norm = drift.wasserstein / self.std if self.std > 0 else None
        else:
            seen = stats.category_counts(values)
            cats = sorted(set(self.categories or {}) | set(seen))
            ref = [float((self.categories or {}).get(c, 0)) for c in cats]
            cur = [float(seen.get(c, 0)) for c in cats]
            drift = stats.FeatureDrift(self.name, "categorical", len(values), stats.psi(ref, cur),
                                       stats.js_distance(ref, cur))
            drift.chi2, drift.chi2_pvalue = stats.chi2_test(ref, cur)
        drift.drifted = drift.count > 0 and stats.is_drifted(drift, metric, limit)
        return drift

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "count": self.count}
        if self.kind == "numeric":
            out.update(mean=self.mean, std=self.std, quantiles=self.quantiles,
                       edges=[float(e) for e in (self.edges if self.edges is not None else [])],
                       bins=[int(b) for b in (self.bins if self.bins is not None else [])],
                       sample_size=0 if self.sample is None else len(self.sample))
        else:
            out["categories"] = dict(self.categories or {})
        return out


def _as_numbers(values: Sequence[Any]) -> np.ndarray | None:
    """The values as floats, or None when one of them is not a number (bools and
    strings are categories)."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind in "iuf":
        return arr.astype(float, copy=False)
    if arr.dtype.kind == "b":
        return None
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
           for v in arr):
        return arr.astype(float)
    return None


def columns_of(rows: Sequence[Any], names: Sequence[str] | None = None) -> dict[str, list[Any]]:
    """Rows (sequences of values, or mappings by feature name) as columns by name;
    sequences are named ``names`` or ``x0, x1, ...``, a scalar row is one feature ``x0``."""
    columns: dict[str, list[Any]] = {}
    for row in rows:
        if isinstance(row, Mapping):
            for key, value in row.items():
                columns.setdefault(str(key), []).append(value)
            continue
        if isinstance(row, np.ndarray):
            row = row.tolist()
        if not isinstance(row, (list, tuple)):
            row = [row]
        for i, value in enumerate(row):
            key = names[i] if names is not None and i < len(names) else f"x{i}"
            columns.setdefault(key, []).append(value)
    return columns


class Reference:
    """The summary of a node's reference inputs (and outputs, when known)."""

    def __init__(self, features: dict[str, FeatureSummary], outputs: dict[str, FeatureSummary] | None = None,
                 source: str = "", sha256: str | None = None) -> None:
        self.features = features
        self.outputs = outputs or {}
        self.source = source  # a path, or "traffic"
        self.sha256 = sha256

    @property
    def names(self) -> list[str]:
        return list(self.features)

    @classmethod
    def from_columns(cls, columns: Mapping[str, Sequence[Any]], outputs: Mapping[str, Sequence[Any]] | None = None,
                     source: str = "", sha256: str | None = None, bins: int = 10,
                     sample_size: int = SAMPLE_SIZE) -> Reference:
        feats = {k: FeatureSummary.of(k, v, bins, sample_size) for k, v in columns.items()}
        outs = {k: FeatureSummary.of(k, v, bins, sample_size) for k, v in (outputs or {}).items()}
        return cls(feats, outs, source, sha256)

    @classmethod
    def from_rows(cls, rows: Sequence[Any], outputs: Sequence[Any] | None = None, names: Sequence[str] | None = None,
                  source: str = "traffic", bins: int = 10, sample_size: int = SAMPLE_SIZE) -> Reference:
        """Summarise input rows (and the node's outputs for them, if given)."""
        outs = output_columns(outputs) if outputs else None
        return cls.from_columns(columns_of(rows, names), outs, source, None, bins, sample_size)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sha256": self.sha256,
                "features": [f.as_dict() for f in self.features.values()],
                "outputs": [f.as_dict() for f in self.outputs.values()]}


def output_columns(outputs: Sequence[Any]) -> dict[str, list[Any]]:
    """A model's per-row outputs as columns: ``output`` for a scalar (a label or a
    number), ``p0, p1, ...`` for a vector (class probabilities)."""
    cols = columns_of(outputs)
    if len(cols) == 1:
        return {"output": cols["x0"]} if "x0" in cols else cols
    return {f"p{k[1:]}" if k.startswith("x") else k: v for k, v in cols.items()}
