"""Every drift statistic, on fixed data, against scipy's functions and the textbook
formulas written out independently, to 1e-6."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sst
from scipy.spatial.distance import jensenshannon

from hogar_nb.quality import stats
from hogar_nb.quality.reference import FeatureSummary, Reference

RNG = np.random.default_rng(20261202)
REF = RNG.normal(0.0, 1.0, 2_000)
CUR = RNG.normal(0.6, 1.3, 800)
CATS_REF = ["a"] * 500 + ["b"] * 300 + ["c"] * 200
CATS_CUR = ["a"] * 200 + ["b"] * 250 + ["c"] * 40 + ["d"] * 10


def test_bin_counts_are_numpys_histogram_over_open_ended_bins() -> None:
    edges = stats.quantile_edges(REF, 10)
    assert len(edges) == 9
    expected, _ = np.histogram(CUR, bins=np.concatenate([[-np.inf], edges, [np.inf]]))
    assert stats.bin_counts(CUR, edges).tolist() == expected.tolist()
    # equal reference mass in each bin
    assert stats.bin_counts(REF, edges).tolist() == [200] * 10


def test_psi_is_the_symmetrised_relative_entropy() -> None:
    edges = stats.quantile_edges(REF, 10)
    r = stats.bin_counts(REF, edges) / len(REF)
    c = stats.bin_counts(CUR, edges) / len(CUR)
    by_hand = float(np.sum((c - r) * np.log(c / r)))
    assert stats.psi(stats.bin_counts(REF, edges), stats.bin_counts(CUR, edges)) == pytest.approx(by_hand, abs=1e-6)
    assert by_hand > 0.1


def test_psi_gives_an_empty_bin_the_small_proportion() -> None:
    r = np.array([0.5, 0.5, 1e-4])
    c = np.array([0.4, 0.3, 0.3])
    by_hand = float(np.sum((c - r) * np.log(c / r)))
    assert stats.psi([50, 50, 0], [40, 30, 30]) == pytest.approx(by_hand, abs=1e-6)


def test_js_distance_is_scipys_in_base_two() -> None:
    edges = stats.quantile_edges(REF, 10)
    rc, cc = stats.bin_counts(REF, edges), stats.bin_counts(CUR, edges)
    expected = jensenshannon(rc / rc.sum(), cc / cc.sum(), base=2)
    assert stats.js_distance(rc, cc) == pytest.approx(expected, abs=1e-6)
    m = (rc / rc.sum() + cc / cc.sum()) / 2
    kl = lambda p, q: np.sum(np.where(p > 0, p * np.log2(p / q), 0.0))  # noqa: E731
    assert stats.js_distance(rc, cc) == pytest.approx(np.sqrt((kl(rc / rc.sum(), m) + kl(cc / cc.sum(), m)) / 2),
                                                     abs=1e-6)


def test_ks_and_wasserstein_are_scipys() -> None:
    expected = sst.ks_2samp(REF, CUR)
    statistic, pvalue = stats.ks_test(REF, CUR)
    assert statistic == pytest.approx(expected.statistic, abs=1e-6)
    assert pvalue == pytest.approx(expected.pvalue, abs=1e-6)
    assert stats.wasserstein(REF, CUR) == pytest.approx(sst.wasserstein_distance(REF, CUR), abs=1e-6)
    # the largest gap between the empirical CDFs, written out
    grid = np.sort(np.concatenate([REF, CUR]))
    gap = np.max(np.abs(np.searchsorted(np.sort(REF), grid, side="right") / len(REF)
                        - np.searchsorted(np.sort(CUR), grid, side="right") / len(CUR)))
    assert statistic == pytest.approx(gap, abs=1e-6)


def test_chi_squared_is_the_test_of_homogeneity() -> None:
    ref = [500, 300, 200, 0]
    cur = [200, 250, 40, 10]
    table = np.array([ref, cur], dtype=float)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    got = stats.chi2_test(ref, cur)
    assert got[0] == pytest.approx(statistic, abs=1e-6)
    assert got[1] == pytest.approx(sst.chi2.sf(statistic, 3), abs=1e-6)
    scipy_says = sst.chi2_contingency(table, correction=False)
    assert got == pytest.approx((scipy_says.statistic, scipy_says.pvalue), abs=1e-6)


def test_a_numeric_feature_summary_compares_like_the_functions() -> None:
    summary = FeatureSummary.of("x", REF.tolist())
    drift = summary.compare(CUR.tolist())
    edges = stats.quantile_edges(REF, 10)
    assert drift.kind == "numeric" and drift.count == len(CUR)
    assert drift.psi == pytest.approx(stats.psi(stats.bin_counts(REF, edges), stats.bin_counts(CUR, edges)), abs=1e-6)
    assert drift.ks_pvalue == pytest.approx(sst.ks_2samp(REF, CUR).pvalue, abs=1e-6)  # the sample is all of REF
    assert drift.wasserstein == pytest.approx(sst.wasserstein_distance(REF, CUR), abs=1e-6)
    assert drift.wasserstein_norm == pytest.approx(drift.wasserstein / REF.std(), abs=1e-6)
    assert drift.drifted  # PSI > 0.2 for a shift of 0.6 sd and a wider spread
    assert summary.quantiles is not None and summary.quantiles["p50"] == pytest.approx(np.median(REF))


def test_a_categorical_feature_summary_counts_categories() -> None:
    summary = FeatureSummary.of("colour", CATS_REF)
    assert summary.kind == "categorical" and summary.categories == {"a": 500, "b": 300, "c": 200}
    drift = summary.compare(CATS_CUR)
    assert drift.ks is None and drift.wasserstein is None
    assert (drift.chi2, drift.chi2_pvalue) == pytest.approx(stats.chi2_test([500, 300, 200, 0], [200, 250, 40, 10]))
    assert drift.js == pytest.approx(jensenshannon([500, 300, 200, 0], [200, 250, 40, 10], base=2), abs=1e-6)
    assert drift.psi == pytest.approx(stats.psi([500, 300, 200, 0], [200, 250, 40, 10]), abs=1e-6)


def test_the_sample_is_bounded_and_the_summary_small() -> None:
    big = RNG.normal(size=50_000)
    summary = FeatureSummary.of("x", big, sample_size=5_000)
    assert summary.sample is not None and len(summary.sample) == 5_000
    assert set(summary.sample.tolist()) <= set(big.tolist())
    assert summary.count == 50_000 and int(summary.bins.sum()) == 50_000  # type: ignore[union-attr]


@pytest.mark.parametrize(("metric", "threshold", "drifted"), [
    ("psi", 0.2, True), ("psi", 5.0, False), ("js", 0.1, True), ("ks", 0.05, True), ("ks", 1e-300, False),
    ("wasserstein", 0.1, True), ("wasserstein", 10.0, False), ("chi2", 0.05, True),
])
def test_the_drift_decision_follows_the_metric_and_threshold(metric: str, threshold: float, drifted: bool) -> None:
    drift = FeatureSummary.of("x", REF.tolist()).compare(CUR.tolist(), metric, threshold)
    assert drift.drifted is drifted


def test_drift_share_is_the_share_of_drifted_features() -> None:
    ref = Reference.from_rows([[a, b, c] for a, b, c in zip(REF[:1000], REF[1000:2000], CATS_REF)])
    current = {"x0": CUR[:500].tolist(), "x1": (REF[:500] * 1.0).tolist(), "x2": CATS_REF[:500]}
    drifts = {k: ref.features[k].compare(v) for k, v in current.items()}
    assert [d.drifted for d in drifts.values()] == [True, False, True]
    assert stats.drift_share(drifts) == pytest.approx(2 / 3)
    assert stats.drift_share({}) == 0.0


def test_rows_of_many_values_are_each_values_rows_in_order() -> None:
    from hogar_nb.quality.nodes import payload_rows, rows_of

    values = [[1.0, 2.0], [[3, 4], [5, 6]], [], 7, {"a": 1}, [{"a": 2}, {"a": 3}], np.array([[8, 9]]),
              np.array([10, 11]), ("t", 1), [(1, 2)], None, "text"]
    assert rows_of(values) == [row for v in values for row in payload_rows(v)]
    assert rows_of([]) == []
