"""An iris classifier beside a reference file, for graphs that serve it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="module")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    folder = tmp_path_factory.mktemp("iris")
    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1_000).fit(x, y), folder / "iris.joblib")
    header = "sepal_length,sepal_width,petal_length,petal_width"
    (folder / "train.csv").write_text(header + "\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in x)
                                      + "\n")
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    return folder


def iris_traffic(n: int, seed: int, shift: dict[int, float] | None = None) -> np.ndarray:
    """``n`` rows like iris's (bootstrapped, with a little noise); ``shift`` moves a
    column by that many of its standard deviations."""
    from sklearn.datasets import load_iris

    x, _ = load_iris(return_X_y=True)
    rng = np.random.default_rng(seed)
    rows = x[rng.integers(0, len(x), n)] + rng.normal(0, 0.05, (n, x.shape[1]))
    for col, sds in (shift or {}).items():
        rows[:, col] += sds * x[:, col].std()
    return np.round(rows, 3)
