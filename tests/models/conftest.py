"""Small models trained at test time (iris, synthetic data) and saved in each format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def iris():
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    return x.astype(np.float32), y


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory, iris) -> dict[str, Path]:
    """{name: path} of a classifier and a regressor in every supported format."""
    import joblib
    import xgboost as xgb
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression, Ridge

    folder = tmp_path_factory.mktemp("models")
    x, y = iris
    out: dict[str, Path] = {}
    clf = LogisticRegression(max_iter=500).fit(x, y)
    joblib.dump(clf, folder / "logreg.joblib")
    out["logreg.joblib"] = folder / "logreg.joblib"
    rng = np.random.default_rng(0)
    xr = rng.normal(size=(200, 5)).astype(np.float32)
    yr = xr @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(scale=0.1, size=200)
    ridge = Ridge().fit(xr, yr)
    joblib.dump(ridge, folder / "ridge.pkl")
    out["ridge.pkl"] = folder / "ridge.pkl"
    forest = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(x, y)
    (folder / "forest.onnx").write_bytes(
        to_onnx(forest, x[:1], options={"zipmap": False}).SerializeToString())
    out["forest.onnx"] = folder / "forest.onnx"
    (folder / "forest_zipmap.onnx").write_bytes(to_onnx(forest, x[:1]).SerializeToString())
    out["forest_zipmap.onnx"] = folder / "forest_zipmap.onnx"
    (folder / "ridge.onnx").write_bytes(to_onnx(ridge, xr[:1]).SerializeToString())
    out["ridge.onnx"] = folder / "ridge.onnx"
    booster = xgb.XGBClassifier(n_estimators=6, max_depth=3).fit(x, y)
    booster.save_model(folder / "xgb.ubj")
    out["xgb.ubj"] = folder / "xgb.ubj"
    booster.save_model(folder / "xgb.json")
    out["xgb.json"] = folder / "xgb.json"
    reg = xgb.XGBRegressor(n_estimators=6, max_depth=3).fit(xr, yr)
    reg.save_model(folder / "xgbreg.json")
    out["xgbreg.json"] = folder / "xgbreg.json"
    out["_models"] = {"logreg.joblib": clf, "ridge.pkl": ridge, "forest.onnx": forest,  # type: ignore[assignment]
                      "forest_zipmap.onnx": forest, "ridge.onnx": ridge, "xgb.ubj": booster,
                      "xgb.json": booster, "xgbreg.json": reg}
    out["_data"] = {"iris": x, "synthetic": xr}  # type: ignore[assignment]
    return out
