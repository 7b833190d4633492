"""Each runtime answers what the model's own predict/predict_proba answers on the same rows,
with and without batching, as plain JSON-ready values."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import wait

import numpy as np
import pytest

import hogar_nb
from hogar_nb.runtime.errors import InvalidInputError
from tests.runtime.conftest import make_earg

CLASSIFIERS = ["logreg.joblib", "forest.onnx", "forest_zipmap.onnx", "xgb.ubj", "xgb.json"]
REGRESSORS = ["ridge.pkl", "ridge.onnx", "xgbreg.json"]


def _graph(path, method=None, batch=1, replicas=1):
    model = {"kind": "model", "impl": str(path), "replicas": replicas,
             "batch": {"max_size": batch, "max_wait_ms": 5.0 if batch > 1 else 0.0}}
    if method:
        model["method"] = method
    return make_earg({"src": {"kind": "source"}, "m": model, "out": {"kind": "sink"}}, ["src -> m", "m -> out"])


def _rows(artifacts, name):
    data = artifacts["_data"]["synthetic" if name in REGRESSORS else "iris"]
    return data[::7]  # a spread of rows


def _plain(value):
    """Assert a value holds only JSON types (no numpy) and return it."""
    assert json.loads(json.dumps(value)) == value
    return value


@pytest.mark.parametrize("batch", [1, 16])
@pytest.mark.parametrize("name", CLASSIFIERS + REGRESSORS)
def test_predict_matches_the_model(artifacts, name, batch):
    model = artifacts["_models"][name]
    rows = _rows(artifacts, name)
    expected = model.predict(rows)
    with hogar_nb.run(_graph(artifacts[name], batch=batch)) as dep:
        futures = [dep.submit(row.tolist()) for row in rows]
        wait(futures, timeout=60)
        got = [_plain(f.result()) for f in futures]
        whole = _plain(dep.call(rows.tolist()))  # a list of rows is answered with a list
    if name in REGRESSORS:
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(whole, expected, rtol=1e-4, atol=1e-4)
    else:
        assert got == expected.tolist() and whole == expected.tolist()
        assert all(isinstance(v, int) for v in got)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_predict_proba_matches_the_model(artifacts, name):
    model = artifacts["_models"][name]
    rows = _rows(artifacts, name)
    with hogar_nb.run(_graph(artifacts[name], method="predict_proba", batch=8)) as dep:
        got = [_plain(f.result(60)) for f in [dep.submit(r.tolist()) for r in rows]]
    np.testing.assert_allclose(got, model.predict_proba(rows), rtol=1e-4, atol=1e-5)
    assert all(isinstance(p, list) and len(p) == 3 for p in got)


def test_concurrent_batches_answer_each_request_its_own_rows(artifacts, iris):
    """Many clients at once: every answer is the model's answer for that request's rows,
    whatever batch it was stacked into (single rows and multi-row payloads mixed)."""
    model = artifacts["_models"]["forest.onnx"]
    x, _ = iris
    payloads = [x[i].tolist() if i % 3 else x[i:i + 3].tolist() for i in range(len(x) - 3)]
    with hogar_nb.run(_graph(artifacts["forest.onnx"], batch=32, replicas=2)) as dep:
        answers = list(dep.map(payloads, concurrency=64)) if hasattr(dep, "map") else \
            [f.result(60) for f in [dep.submit(p) for p in payloads]]
        sizes = dep.metrics().nodes["m"]
    for i, (payload, answer) in enumerate(zip(payloads, answers)):
        expected = model.predict(np.asarray(payload, dtype=np.float32).reshape(-1, 4)).tolist()
        assert answer == (expected[0] if i % 3 else expected), i
    assert sizes.requests == len(payloads) and sizes.errors == 0


def test_bad_rows_fail_alone_with_invalid_input(artifacts, iris):
    x, _ = iris
    good = [x[i].tolist() for i in range(40)]
    bad = [[1.0, 2.0], "text", [[1, 2, 3, 4], [1, 2]], {"a": 1}, [[[1.0]]], None]
    model = artifacts["_models"]["logreg.joblib"]
    with hogar_nb.run(_graph(artifacts["logreg.joblib"], batch=16)) as dep:
        futures = []
        for i, row in enumerate(good):
            futures.append((True, i, dep.submit(row)))
            if i % 7 == 0:
                futures.append((False, i, dep.submit(bad[(i // 7) % len(bad)])))
        wait([f for _, _, f in futures], timeout=60)
    for ok, i, fut in futures:
        if ok:
            assert fut.result() == model.predict(x[i:i + 1])[0]
        else:
            err = fut.exception()
            assert isinstance(err, InvalidInputError) and err.node == "m" and err.cause == "invalid_input"


def test_missing_extra_names_it(artifacts, tmp_path):
    code = (
        "import sys; sys.modules['onnxruntime'] = None\n"
        "import hogar_nb\n"
        "from tests.runtime.conftest import make_earg\n"
        f"earg = make_earg({{'s': {{'kind': 'source'}}, 'm': {{'kind': 'model', 'impl': {str(artifacts['forest.onnx'])!r}}},"
        " 'o': {'kind': 'sink'}}, ['s -> m', 'm -> o'])\n"
        "try:\n    hogar_nb.run(earg)\nexcept hogar_nb.HogarError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "pip install hogar_nb[models]" in out.stdout, out.stderr


def test_loader_and_method_attributes_in_udgl(artifacts, tmp_path):
    import shutil

    shutil.copy(artifacts["xgb.json"], tmp_path / "booster.model")
    text = ('graph g\nsource s\nmodel m { impl = "booster.model", loader = "xgboost", method = predict_proba }\n'
            'sink o\ns -> m -> o\n')
    graph = hogar_nb.parse_udgl(text)
    row = artifacts["_data"]["iris"][0]
    with hogar_nb.run(graph, base_dir=tmp_path) as dep:
        got = dep.call(row.tolist())
    np.testing.assert_allclose(got, artifacts["_models"]["xgb.json"].predict_proba(row[None])[0], rtol=1e-5)
    bad = hogar_nb.parse_udgl(text.replace('"xgboost"', '"nope"'))
    with pytest.raises(hogar_nb.HogarError, match="unknown loader 'nope'"):
        hogar_nb.run(bad, base_dir=tmp_path)


def test_model_object_from_the_notebook_gets_rows_with_and_without_batch(artifacts, iris):
    """The same 2-D input and the same plain outputs whatever ``batch`` is."""
    seen: list[int] = []

    class Probe:
        n_features_in_ = 4

        def predict(self, rows):
            seen.append(np.asarray(rows).ndim)
            return np.asarray(rows).sum(axis=1)

    x, _ = iris
    for batch in (1, 8):
        graph = hogar_nb.parse_udgl(f"source s\nmodel m {{ impl = probe, batch = {batch} }}\nsink o\ns -> m -> o\n")
        with hogar_nb.run(graph, {"probe": Probe()}) as dep:
            got = dep.call(x[0].tolist())
        assert isinstance(got, float) and got == pytest.approx(float(x[0].sum()))
    assert set(seen) == {2}


def test_register_loader_example(tmp_path):
    from hogar_nb.models import register_loader

    class Scale:
        def __init__(self, factor):
            self.factor = factor

        def predict(self, rows):
            return rows * self.factor

    register_loader("scale", lambda path: Scale(float(path.read_text())), extensions=(".scale",))
    (tmp_path / "x3.scale").write_text("3")
    graph = hogar_nb.parse_udgl('source s\nmodel m { impl = "x3.scale" }\nsink o\ns -> m -> o\n')
    with hogar_nb.run(graph, base_dir=tmp_path) as dep:
        assert dep.call([1, 2]) == [3.0, 6.0]
        assert dep.call([[1], [2]]) == [[3.0], [6.0]]


def test_process_replicas_run_the_same_batched_runtime(artifacts, iris):
    x, _ = iris
    model = artifacts["_models"]["logreg.joblib"]
    graph = _graph(artifacts["logreg.joblib"], method="predict_proba", batch=8)
    graph["nodes"][1]["isolation"] = "process"
    with hogar_nb.run(graph) as dep:
        futures = [dep.submit(row.tolist()) for row in x[:20]] + [dep.submit("not a row")]
        wait(futures, timeout=120)
    np.testing.assert_allclose([f.result() for f in futures[:20]], model.predict_proba(x[:20]), rtol=1e-5, atol=1e-9)
    assert futures[-1].exception().cause == "invalid_input"
