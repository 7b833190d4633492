"""Small real models trained at test time, saved in every format type inference reads."""

from __future__ import annotations

import pickle
from pathlib import Path


def build_models(folder: Path) -> Path:
    """Iris classifiers (scikit-learn, ONNX with and without ZipMap, XGBoost JSON and
    UBJ), regressors on 3 features (scikit-learn, ONNX, XGBoost) and a scaler."""
    import joblib
    import numpy as np
    import xgboost as xgb
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    clf = LogisticRegression(max_iter=300).fit(x, y)
    joblib.dump(clf, folder / "clf.joblib")
    (folder / "clf.onnx").write_bytes(to_onnx(clf, x[:1]).SerializeToString())
    (folder / "clf_plain.onnx").write_bytes(to_onnx(clf, x[:1], options={"zipmap": False}).SerializeToString())
    joblib.dump(StandardScaler().fit(x), folder / "scaler.joblib")
    x3 = x[:, :3]
    joblib.dump(Ridge().fit(x3, y), folder / "ridge3.pkl")
    forest = RandomForestRegressor(n_estimators=4, max_depth=3, random_state=0).fit(x3, y)
    (folder / "forest3.onnx").write_bytes(to_onnx(forest, x3[:1]).SerializeToString())
    booster = xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(x, y)
    booster.save_model(folder / "xgb.json")
    booster.save_model(folder / "xgb.ubj")
    xgb.XGBRegressor(n_estimators=3, max_depth=2).fit(x, y).save_model(folder / "xgbreg.json")
    return folder


class _Trap:
    """Unpickling it creates ``marker``: proof that a pickle was read."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def trap_pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps(_Trap(marker)))
    return path
