"""The Open Inference Protocol as its clients speak it: tritonclient's HTTP client in its
default mode (binary tensors both ways) and in JSON mode, versioned paths, compression,
requested outputs, and malformed binary bodies — against a scikit-learn model served
over real HTTP."""

from __future__ import annotations

import gzip
import json
import struct
import zlib

import numpy as np
import pytest

from tests.serving.conftest import make_earg, served

import tritonclient.http as httpclient  # noqa: E402
from tritonclient.utils import InferenceServerException  # noqa: E402


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory):
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    path = tmp_path_factory.mktemp("iris") / "iris.joblib"
    joblib.dump(model, path)
    earg = make_earg({"src": {"kind": "source"},
                      "clf": {"kind": "model", "impl": str(path), "method": "predict_proba"},
                      "out": {"kind": "sink", "response": True}}, ["src -> clf", "clf -> out"])
    earg["name"] = "iris"
    with served(earg) as (dep, client):
        yield model, X, dep, client


def _client(client) -> httpclient.InferenceServerClient:
    return httpclient.InferenceServerClient(str(client.base_url).removeprefix("http://").rstrip("/"))


def _inputs(rows: np.ndarray, binary: bool = True) -> list[httpclient.InferInput]:
    x = httpclient.InferInput("x", list(rows.shape), "FP32")
    x.set_data_from_numpy(rows.astype(np.float32), binary_data=binary)
    return [x]


def test_tritonclient_default_mode_sends_and_reads_binary_tensors(iris_model):
    model, X, _dep, client = iris_model
    triton_client = _client(client)
    assert triton_client.is_server_live() and triton_client.is_server_ready()
    assert triton_client.is_model_ready("iris") and triton_client.is_model_ready("iris", "1")
    assert "binary_tensor_data" in triton_client.get_server_metadata()["extensions"]
    for rows in (X[:1], X[:32]):
        result = triton_client.infer("iris", _inputs(rows))  # binary in, binary out: the defaults
        got = result.as_numpy("output-0")
        assert got.shape == (len(rows), 3)
        np.testing.assert_allclose(got, model.predict_proba(rows.astype(np.float32)), rtol=1e-5)
        assert result.get_response()["model_version"] == "1"


def test_tritonclient_json_mode_versions_compression_and_request_ids(iris_model):
    model, X, _dep, client = iris_model
    triton_client = _client(client)
    rows = X[10:14]
    want = model.predict_proba(rows.astype(np.float32))
    out = httpclient.InferRequestedOutput("output-0", binary_data=False)
    for compression in (None, "gzip", "deflate"):
        result = triton_client.infer("iris", _inputs(rows, binary=False), model_version="1", outputs=[out],
                                     request_id=f"req-{compression}", request_compression_algorithm=compression)
        np.testing.assert_allclose(result.as_numpy("output-0"), want, rtol=1e-5)
        assert result.get_response()["id"] == f"req-{compression}"
    with pytest.raises(InferenceServerException, match="no version '7'"):
        triton_client.infer("iris", _inputs(rows), model_version="7")
    with pytest.raises(InferenceServerException, match="has no output 'probabilities'"):
        triton_client.infer("iris", _inputs(rows), outputs=[httpclient.InferRequestedOutput("probabilities")])
    with pytest.raises(InferenceServerException, match="not found"):
        triton_client.infer("nope", _inputs(rows))


def test_versioned_paths_and_the_v2_root_answer(iris_model):
    _model, _X, _dep, client = iris_model
    assert client.get("/v2/").json()["name"] == "hogar"
    meta = client.get("/v2/models/iris/versions/1").json()
    assert meta["name"] == "iris" and meta["versions"] == ["1"]
    assert client.get("/v2/models/iris/versions/1/ready").json()["ready"] is True
    assert client.get("/v2/models/iris/versions/2/ready").status_code == 404


def _binary_request(client, header: dict, data: bytes, length: str | None = None, **headers):
    head = json.dumps(header).encode()
    return client.post("/v2/models/iris/infer", content=head + data, headers={
        "inference-header-content-length": length if length is not None else str(len(head)), **headers})


def test_malformed_binary_bodies_are_400_with_a_clear_message(iris_model):
    _model, _X, _dep, client = iris_model
    row = struct.pack("<4f", 5.1, 3.5, 1.4, 0.2)

    def header(size, shape=(1, 4), dtype="FP32"):
        return {"inputs": [{"name": "x", "shape": list(shape), "datatype": dtype,
                            "parameters": {"binary_data_size": size}}]}

    ok = _binary_request(client, header(16), row)
    assert ok.status_code == 200, ok.text
    cases = [
        (_binary_request(client, header(16), row, length="-3"), "Inference-Header-Content-Length is -3"),
        (_binary_request(client, header(16), row, length="many"), "must be a number of bytes"),
        (_binary_request(client, header(16), row, length="99999"), "the body has"),
        (_binary_request(client, header(32), row), "runs past the end of the body"),
        (_binary_request(client, header(-1), row), "non-negative integer"),
        (_binary_request(client, header(12), row[:12]), "shape [1, 4] of FP32 is 4 x 4 = 16 bytes"),
        (_binary_request(client, header(16, shape=(2, 4)), row), "32 bytes"),
        (_binary_request(client, header(16), row + b"tail"), "4 bytes of binary data after the inputs"),
        (_binary_request(client, header(6, shape=(2,), dtype="BYTES"), b"\x09\x00\x00\x00ab"),
         "runs past binary_data_size"),
    ]
    for resp, words in cases:
        assert resp.status_code == 400, resp.text
        assert words in resp.json()["error"], resp.json()


def test_compressed_bodies_are_bounded_by_max_body(tmp_path):
    earg = make_earg({"src": {"kind": "source"}, "f": {"impl": "tests.serving.impls:ident"},
                      "out": {"kind": "sink", "response": True}}, ["src -> f", "f -> out"])
    with served(earg, max_body=10_000) as (dep, client):
        body = json.dumps({"inputs": [{"name": "x", "shape": [3], "datatype": "INT64", "data": [1, 2, 3]}]})
        resp = client.post(f"/v2/models/{dep.name}/infer", content=gzip.compress(body.encode()),
                           headers={"content-encoding": "gzip"})
        assert resp.status_code == 200 and resp.json()["outputs"][0]["data"] == [1, 2, 3]
        bomb = gzip.compress(b" " * 5_000_000)  # 5 KB that decompresses to 5 MB
        assert len(bomb) < 10_000
        resp = client.post(f"/v2/models/{dep.name}/infer", content=bomb, headers={"content-encoding": "gzip"})
        assert resp.status_code == 413 and "decompresses to more than 10000 bytes" in resp.json()["error"]
        resp = client.post(f"/v2/models/{dep.name}/infer", content=b"plain", headers={"content-encoding": "br"})
        assert resp.status_code == 415


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """scale (python: x / 10) -> clf (LogisticRegression) -> top (python: argmax), served as ``pipe``."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=500).fit(X / 10, y)
    where = tmp_path_factory.mktemp("pipe")
    joblib.dump(clf, where / "clf.joblib")
    earg = make_earg({"src": {"kind": "source"},
                      "scale": {"impl": "tests.serving.impls:tenth"},
                      "clf": {"kind": "model", "impl": str(where / "clf.joblib"), "method": "predict_proba"},
                      "top": {"impl": "tests.serving.impls:argmax"},
                      "out": {"kind": "sink", "response": True}},
                     ["src -> scale", "scale -> clf", "clf -> top", "top -> out"])
    earg["name"] = "pipe"
    with served(earg) as (dep, client):
        yield clf, X, dep, client


def test_every_node_is_a_model_of_its_own(pipeline):
    clf, X, dep, client = pipeline
    triton_client = _client(client)
    index = triton_client.get_model_repository_index()
    assert sorted(m["name"] for m in index) == ["pipe", "pipe.clf", "pipe.scale", "pipe.top"]
    assert all(m["state"] == "READY" and m["version"] == "1" for m in index)
    meta = triton_client.get_model_metadata("pipe.clf", "1")
    assert meta["name"] == "pipe.clf" and meta["versions"] == ["1"]
    # the types the model's signature gives (hogar_nb.core.types): 4 features in, 3 probabilities out
    assert meta["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]
    assert meta["outputs"] == [{"name": "output-0", "datatype": "FP64", "shape": [-1, 3]}]
    assert triton_client.is_model_ready("pipe.clf") and triton_client.is_model_ready("pipe.top", "1")
    rows = X[:32].astype(np.float32)
    scaled = rows / 10
    before = dep.metrics()
    result = triton_client.infer("pipe.clf", _inputs(scaled))  # binary both ways
    np.testing.assert_allclose(result.as_numpy("output-0"), clf.predict_proba(scaled.astype(np.float32)),
                               rtol=1e-5)
    assert result.get_response()["model_name"] == "pipe.clf"
    after = dep.metrics()
    assert after.node("clf").requests - before.node("clf").requests == 1, "32 rows, one tensor, one request"
    assert after.node("scale").requests == before.node("scale").requests, "the node ran alone"
    result = triton_client.infer("pipe.scale", _inputs(rows, binary=False), model_version="1")
    np.testing.assert_allclose(result.as_numpy("output-0"), scaled, rtol=1e-5)
    whole = triton_client.infer("pipe", _inputs(rows)).as_numpy("output-0")
    assert whole.tolist() == clf.predict_proba(scaled).argmax(axis=1).tolist()
    with pytest.raises(InferenceServerException, match="model 'pipe.nope' not found"):
        triton_client.infer("pipe.nope", _inputs(rows))
    with pytest.raises(InferenceServerException, match="no version '2'"):
        triton_client.get_model_metadata("pipe.top", "2")
    wrong = httpclient.InferInput("x", [1, 3], "FP32")
    wrong.set_data_from_numpy(rows[:1, :3])
    with pytest.raises(InferenceServerException, match="clf"):
        triton_client.infer("pipe.clf", [wrong])


def test_large_responses_are_gzip_compressed_for_clients_that_accept_it(iris_model):
    """tritonclient asks for a gzip response (Accept-Encoding) and reads it, binary and
    JSON; over raw HTTP the same answer carries Content-Encoding: gzip, a small one
    (a single row) and one the client does not ask to compress do not."""
    model, X, _dep, client = iris_model
    triton_client = _client(client)
    want = model.predict_proba(X.astype(np.float32))
    json_out = httpclient.InferRequestedOutput("output-0", binary_data=False)
    for outputs in (None, [json_out]):
        result = triton_client.infer("iris", _inputs(X), outputs=outputs, response_compression_algorithm="gzip")
        np.testing.assert_allclose(result.as_numpy("output-0"), want, rtol=1e-5)
    body = json.dumps({"inputs": [{"name": "x", "shape": list(X.shape), "datatype": "FP64",
                                   "data": X.ravel().tolist()}]})
    with client.stream("POST", "/v2/models/iris/infer", content=body, headers={"accept-encoding": "gzip"}) as resp:
        raw = b"".join(resp.iter_raw())
    assert resp.status_code == 200 and resp.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in resp.headers["vary"].lower()
    answer = json.loads(gzip.decompress(raw))
    np.testing.assert_allclose(np.array(answer["outputs"][0]["data"]).reshape(-1, 3), want, rtol=1e-5)
    assert len(raw) < len(json.dumps(answer)) / 2
    plain = client.post("/v2/models/iris/infer", content=body, headers={"accept-encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.json()["outputs"] == answer["outputs"]
    one = json.dumps({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": X[0].tolist()}]})
    small = client.post("/v2/models/iris/infer", content=one, headers={"accept-encoding": "gzip"})
    assert small.status_code == 200 and "content-encoding" not in small.headers


def test_the_json_routes_read_compressed_bodies_and_compress_large_answers():
    earg = make_earg({"src": {"kind": "source"}, "f": {"impl": "tests.serving.impls:ident"},
                      "out": {"kind": "sink", "response": True}}, ["src -> f", "f -> out"])
    with served(earg, max_body=100_000) as (_dep, client):
        big = list(range(5000))
        for encoding, data in (("gzip", gzip.compress(json.dumps(big).encode())),
                               ("deflate", zlib.compress(json.dumps(big).encode()))):
            with client.stream("POST", "/src", content=data, headers={
                    "content-encoding": encoding, "accept-encoding": "gzip"}) as resp:
                raw = b"".join(resp.iter_raw())
            assert resp.status_code == 200 and resp.headers["content-encoding"] == "gzip"
            assert json.loads(gzip.decompress(raw)) == big and len(raw) < len(json.dumps(big)) / 2
        small = client.post("/src", json=[1, 2], headers={"accept-encoding": "gzip"})
        assert small.json() == [1, 2] and "content-encoding" not in small.headers
        plain = client.post("/src", json=big, headers={"accept-encoding": "identity"})
        assert plain.json() == big and "content-encoding" not in plain.headers
        bomb = gzip.compress(b" " * 5_000_000)
        resp = client.post("/src", content=bomb, headers={"content-encoding": "gzip"})
        assert resp.status_code == 413 and "decompresses to more than 100000 bytes" in resp.json()["error"]["message"]
        resp = client.post("/src", content=b"not gzip", headers={"content-encoding": "gzip"})
        assert resp.status_code == 400 and "not valid gzip data" in resp.json()["error"]["message"]
        resp = client.post("/src", content=b"[1]", headers={"content-encoding": "br"})
        assert resp.status_code == 415 and "not supported" in resp.json()["error"]["message"]
