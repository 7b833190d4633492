"""hogar's drift statistics against Evidently's on fixed data sets, to 1e-6.

Evidently runs in a virtual environment of its own (``make xcheck`` makes it and
passes its interpreter as ``HOGAR_XCHECK_PYTHON``); these tests run in the project's.
Both sides bin the same way here (Evidently's Sturges edges over both samples), so
what is compared is each statistic given the same histograms: PSI, the Jensen–Shannon
distance (base 2), the Kolmogorov–Smirnov p-value and the Wasserstein distance
(which Evidently divides by the reference's standard deviation). hogar's chi-squared
is a test of homogeneity of the 2 x k table, Evidently's a goodness-of-fit test
against the reference's shares: different tests, not compared.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hogar_nb.quality.stats import js_distance, ks_test, psi, wasserstein

HERE = Path(__file__).resolve().parent


def _data_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(2026)
    return {
        "same": (rng.normal(0, 1, 5_000), rng.normal(0, 1, 1_000)),
        "shifted": (rng.normal(0, 1, 5_000), rng.normal(0.5, 1, 1_000)),
        "wider": (rng.normal(10, 2, 3_000), rng.normal(10, 3.5, 800)),
        "skewed": (rng.gamma(2.0, 1.5, 4_000), rng.gamma(2.6, 1.5, 600)),
        "heavy_tail": (rng.standard_t(3, 2_000), rng.standard_t(3, 2_000) * 1.3),
        "integers": (rng.integers(0, 60, 3_000).astype(float), rng.integers(10, 70, 900).astype(float)),
    }


@pytest.fixture(scope="module")
def evidently(tmp_path_factory) -> dict:
    python = os.environ.get("HOGAR_XCHECK_PYTHON")
    assert python, "run these through `make xcheck`, which makes Evidently's environment and names it"
    path = tmp_path_factory.mktemp("xcheck") / "data.npz"
    np.savez(path, **{f"{name}.{side}": sample for name, pair in _data_sets().items()
                      for side, sample in zip(("ref", "cur"), pair)})
    out = subprocess.run([python, str(HERE / "evidently_values.py"), str(path)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.mark.parametrize("name", sorted(_data_sets()))
def test_drift_statistics_agree_with_evidently(evidently, name: str) -> None:
    ref, cur = _data_sets()[name]
    theirs = evidently[name]
    edges = np.asarray(theirs["bins"])
    ref_counts, cur_counts = np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]
    # the same histograms on both sides: Evidently's shares are these counts over the sample size
    np.testing.assert_allclose(theirs["binned"][0], ref_counts / len(ref), atol=1e-12)
    np.testing.assert_allclose(theirs["binned"][1], cur_counts / len(cur), atol=1e-12)
    assert psi(ref_counts, cur_counts) == pytest.approx(theirs["psi"], abs=1e-6)
    assert js_distance(ref_counts, cur_counts) == pytest.approx(theirs["js_base2"], abs=1e-6)
    assert ks_test(ref, cur)[1] == pytest.approx(theirs["ks_pvalue"], abs=1e-6)
    norm = max(float(np.std(ref)), 0.001)
    assert wasserstein(ref, cur) / norm == pytest.approx(theirs["wasserstein_norm"], abs=1e-6)


def test_the_data_sets_span_calm_and_drifted(evidently) -> None:
    """The comparison covers both sides of a threshold, not only near-zero values."""
    values = [evidently[name]["psi"] for name in evidently]
    assert min(values) < 0.05 and max(values) > 0.2
