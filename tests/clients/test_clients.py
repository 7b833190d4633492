"""The Open Inference Protocol as third-party clients speak it, each in its default mode:
tritonclient over HTTP (binary tensors) and gRPC, the kserve SDK's REST and gRPC
clients, against a real ``hogar serve --grpc-port`` serving a scikit-learn model in a
3-node graph and each of its nodes by itself.

The clients run as subprocesses in their own virtualenv (``make test`` creates
.venv-clients; ``$HOGAR_CLIENTS_PYTHON`` names another interpreter), since they pin a
protobuf and numpy of their own; tests/clients/scenarios.py is what they run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).with_name("scenarios.py")

GRAPH = """\
graph pipe
source src
python scale { impl = "tests.serving.impls:tenth", output = float64[n, 4] }
model  clf   { impl = "clf.joblib", method = predict_proba }
python top   { impl = "tests.serving.impls:argmax" }
python log   { impl = "tests.serving.impls:ident" }
model  onx   { impl = "clf.onnx", method = predict_proba }
sink out { response = true }
sink side
sink side2
src -> scale -> clf -> top -> out
clf -> log -> side
scale -> onx -> side2
"""


def clients_python() -> str:
    """The clients' interpreter; a clear failure (not a skip) when it is missing."""
    python = os.environ.get("HOGAR_CLIENTS_PYTHON") or str(ROOT / ".venv-clients" / "bin" / "python")
    if not Path(python).exists():
        pytest.fail(f"the client tests run tritonclient and the kserve SDK from {python}, which does not "
                    "exist: `make clients` creates it (make test does too)", pytrace=False)
    return python


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``hogar serve pipe.udgl --port 0 --grpc-port 0``; yields (http url, grpc address,
    classifier, rows file, rows); stopped with SIGTERM, which must exit 0."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X / 10, y)
    where = tmp_path_factory.mktemp("clients")
    joblib.dump(clf, where / "clf.joblib")
    from skl2onnx import to_onnx

    onnx_model = to_onnx(clf, (X[:1] / 10).astype(np.float32), options={id(clf): {"zipmap": False}})
    (where / "clf.onnx").write_bytes(onnx_model.SerializeToString())
    (where / "pipe.udgl").write_text(GRAPH)
    rows = X[::5][:32]
    (where / "rows.json").write_text(json.dumps(rows.tolist()))
    proc = subprocess.Popen([sys.executable, "-m", "hogar_nb", "serve", str(where / "pipe.udgl"), "--port", "0",
                             "--grpc-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=where)
    try:
        http_line, grpc_line = proc.stdout.readline(), proc.stdout.readline()
        assert http_line.startswith("serving pipe on http://127.0.0.1:"), http_line + proc.stderr.read()
        assert grpc_line.startswith("serving pipe over gRPC on 127.0.0.1:"), grpc_line
        yield http_line.split()[-1], grpc_line.split()[-1], clf, where / "rows.json", rows
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err


def run_client(which: str, served) -> dict:
    url, address, _clf, rows_file, _rows = served
    done = subprocess.run([clients_python(), str(SCENARIOS), which, url, address, str(rows_file)],
                          capture_output=True, text=True, timeout=300, env={
                              k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("which", ["triton-http", "triton-grpc"])
def test_tritonclient_default_mode(served, which):
    _url, _address, clf, _rows_file, rows = served
    got = run_client(which, served)
    f32 = rows.astype(np.float32)
    assert got["live"] and got["ready"] and "binary_tensor_data" in got["extensions"]
    assert got["model_ready"] == [True, True, True]
    assert got["unknown_ready"] is False if which == "triton-http" else \
        got["unknown_ready"].startswith("InferenceServerException: [StatusCode.NOT_FOUND] model 'pipe.nope' not found")
    assert got["clf_metadata"] == ["pipe.clf", ["1"]]
    want_top = clf.predict_proba(f32 / 10).argmax(axis=1).tolist()
    assert got["graph_1"] == want_top[:1] and got["graph_32"] == want_top
    np.testing.assert_allclose(got["clf_32"], clf.predict_proba(f32 / 10), rtol=1e-5)
    assert got["clf_response"] == ["pipe.clf", "1"]
    assert got["top_fp64"] == (rows[:4] / 10).argmax(axis=1).tolist()
    np.testing.assert_allclose(got["scale_int64"], (rows[:2] * 10).astype(np.int64) / 10)
    assert got["log_bytes"] == ["héllo", "wörld"]
    # a float32 ONNX model: metadata and infer both say FP32, as its signature does
    assert got["onx_metadata"] == [["FP32", [-1, 4]], ["FP32", [-1, 3]]]
    assert got["onx_datatype"] == "FP32"
    # a python node's output: listed with the type it declares, which infer answers even
    # for INT64 input; an untyped one (argmax) is not listed, and infer answers its INT64
    assert got["scale_metadata"] == [["FP64", [-1, 4]]]
    assert got["untyped_outputs"] == [[], []]
    assert got["datatypes"] == {"pipe.scale": "FP64", "pipe.top": "INT64", "pipe": "INT64"}
    np.testing.assert_allclose(got["onx_32"], clf.predict_proba(f32 / 10), rtol=1e-4, atol=1e-6)
    assert got["gzip"] == want_top[:3]
    if which == "triton-http":
        assert got["json_mode_id"] == "j-1"
    errors = got["errors"]
    assert "model 'pipe.nope' not found" in errors["model"]
    assert "has no version '9'" in errors["version"]
    assert "has no output 'probabilities'" in errors["output"]
    assert "node 'clf' rejected the input: the model expects 4 features per row, got 3" in errors["shape"]
    assert "node 'clf'" in errors["datatype"]
    if which == "triton-grpc":
        assert errors["model"].startswith("InferenceServerException: [StatusCode.NOT_FOUND]")
        assert "[StatusCode.INVALID_ARGUMENT]" in errors["shape"]


@pytest.mark.parametrize("which", ["kserve-rest", "kserve-grpc"])
def test_kserve_sdk_default_mode(served, which):
    _url, _address, clf, _rows_file, rows = served
    got = run_client(which, served)
    f32 = rows.astype(np.float32)
    assert got["live"] and got["ready"] and got["model_ready"] == [True, True]
    assert got["graph_32"] == clf.predict_proba(f32 / 10).argmax(axis=1).tolist()
    assert got["graph_id"] == ("k-32" if which == "kserve-rest" else "g-32")
    np.testing.assert_allclose(got["clf_1"], clf.predict_proba(f32[:1] / 10), rtol=1e-5)
    # the SDK's REST reader (InferResponse.from_bytes) keeps no model_version
    assert got["clf_response"] == ["pipe.clf", "1" if which == "kserve-grpc" else None]
    if which == "kserve-rest":
        np.testing.assert_allclose(got["clf_32_json"], clf.predict_proba(f32 / 10), rtol=1e-5)
        assert "404 Not Found" in got["errors"]["model"] and "model 'pipe.nope' not found" in got["errors"]["model"]
        assert "422" in got["errors"]["shape"] and "node 'clf' rejected the input" in got["errors"]["shape"]
    else:
        assert got["errors"]["model"].startswith("StatusCode.NOT_FOUND: model 'pipe.nope' not found")
        assert got["errors"]["shape"].startswith("StatusCode.INVALID_ARGUMENT: node 'clf' rejected the input")


def test_schemathesis_finds_no_server_error_and_no_response_off_the_protocols_schema(served, tmp_path):
    """The protocol's OpenAPI file (tests/clients/spec) against the served graph: valid and
    invalid requests of every operation, a fixed seed and few examples here (``make fuzz``
    sets HOGAR_SCHEMATHESIS_EXAMPLES higher and draws a fresh seed)."""
    url = served[0]
    spec = Path(__file__).with_name("spec")
    examples = os.environ.get("HOGAR_SCHEMATHESIS_EXAMPLES", "20")
    seed = [] if os.environ.get("HOGAR_SCHEMATHESIS_SEED") == "random" else ["--seed", "20"]
    schemathesis = Path(clients_python()).with_name("schemathesis")
    done = subprocess.run([str(schemathesis), "--config-file", str(spec / "schemathesis.toml"), "run",
                           str(spec / "open_inference_rest.yaml"), "--url", url, "--workers", "1",
                           "--checks", "not_a_server_error,response_schema_conformance", "--mode", "all",
                           "--max-examples", examples, *seed],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-6000:]
    tail = done.stdout[done.stdout.rindex("Test cases:"):]
    generated = int(tail.split()[2])
    assert generated >= 6 and f"{generated} generated, {generated} passed" in tail, tail
