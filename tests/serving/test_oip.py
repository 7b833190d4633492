"""Open Inference Protocol v2 over real HTTP: metadata, health and infer."""

from __future__ import annotations

import pytest

from tests.serving.conftest import chain, impl, make_earg, served


@pytest.fixture(scope="module")
def doubler():
    with served(chain(impl("double_rows"), batch={"max_size": 8, "max_wait_ms": 2.0})) as pair:
        yield pair


def test_server_and_model_metadata(doubler):
    dep, client = doubler
    assert client.get("/v2").json()["name"] == "hogar"
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200
    meta = client.get(f"/v2/models/{dep.name}").json()
    assert meta["name"] == dep.name and meta["inputs"][0]["name"] == "src"
    assert client.get(f"/v2/models/{dep.name}/ready").json() == {"name": dep.name, "ready": True}


def test_unknown_model_is_404_in_the_protocol_shape(doubler):
    _dep, client = doubler
    for resp in (client.get("/v2/models/nope"), client.get("/v2/models/nope/ready"),
                 client.post("/v2/models/nope/infer", json={"inputs": []})):
        assert resp.status_code == 404
        assert isinstance(resp.json()["error"], str) and "nope" in resp.json()["error"]


def test_infer_rows_are_a_batch_and_come_back_in_order(doubler):
    dep, client = doubler
    body = {"id": "r1", "inputs": [{"name": "x", "shape": [5, 1], "datatype": "INT64",
                                    "data": [1, 2, 3, 4, 5]}]}
    resp = client.post(f"/v2/models/{dep.name}/infer", json=body)
    assert resp.status_code == 200
    out = resp.json()
    assert out["model_name"] == dep.name and out["id"] == "r1"
    assert out["outputs"] == [{"name": "output-0", "shape": [5, 1], "datatype": "INT64",
                               "data": [2, 4, 6, 8, 10]}]
    assert dep.metrics().nodes["n0"].requests == 1  # the tensor is one payload; the batched impl got its rows


def test_a_tensor_is_one_payload_unless_its_way_routes():
    nodes = {"src": {"kind": "source"}, "f": {"impl": impl("ident")}, "g": {"impl": impl("ident")},
             "out": {"kind": "sink", "response": True}}
    body = {"inputs": [{"name": "x", "shape": [64, 2], "datatype": "INT64", "data": list(range(128))}]}
    with served(make_earg(nodes, ["src -> f", "f -> g", "g -> out"])) as (dep, client):
        out = client.post(f"/v2/models/{dep.name}/infer", json=body).json()["outputs"][0]
        assert out["shape"] == [64, 2] and out["data"] == list(range(128))
        snap = dep.metrics()
        assert (snap.graph.requests, snap.nodes["f"].requests, snap.nodes["g"].requests) == (1, 1, 1)
    nodes = {"src": {"kind": "source"}, "gate": {"kind": "switch", "impl": impl("gate_by_sign")},
             "f": {"impl": impl("ident")}, "g": {"impl": impl("double_row")}, "out": {"kind": "sink", "response": True}}
    edges = [("gate", "f", {"when": "pos"}), ("gate", "g", {"when": "neg"}), "src -> gate", "f -> out", "g -> out"]
    with served(make_earg(nodes, edges)) as (dep, client):
        body = {"inputs": [{"name": "x", "shape": [3, 1], "datatype": "INT64", "data": [1, -2, 3]}]}
        out = client.post(f"/v2/models/{dep.name}/infer", json=body).json()["outputs"][0]
        assert out["data"] == [1, -4, 3], "each row went its own way"
        assert dep.metrics().graph.requests == 3


def test_infer_scalar_rows():
    with served(chain(impl("double"))) as (dep, client):
        body = {"inputs": [{"name": "x", "shape": [], "datatype": "FP64", "data": [2.5]}]}
        out = client.post(f"/v2/models/{dep.name}/infer", json=body).json()
        assert out["outputs"] == [{"name": "output-0", "shape": [], "datatype": "FP64", "data": [5.0]}]


def test_infer_matrix_is_rows_and_nested_data_is_accepted():
    with served(chain(impl("ident"))) as (dep, client):
        for data in ([1, 2, 3, 4, 5, 6], [[1, 2, 3], [4, 5, 6]]):
            body = {"inputs": [{"name": "x", "shape": [2, 3], "datatype": "INT32", "data": data}]}
            out = client.post(f"/v2/models/{dep.name}/infer", json=body).json()
            assert out["outputs"] == [{"name": "output-0", "shape": [2, 3], "datatype": "INT64",
                                       "data": [1, 2, 3, 4, 5, 6]}]


def test_several_inputs_make_one_dict_payload_and_dict_results_several_outputs():
    with served(chain(impl("ident"))) as (dep, client):
        body = {"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 2]},
                           {"name": "b", "shape": [1], "datatype": "BYTES", "data": ["x"]}]}
        out = client.post(f"/v2/models/{dep.name}/infer", json=body).json()
        assert out["outputs"] == [
            {"name": "a", "shape": [2], "datatype": "FP64", "data": [1.0, 2.0]},
            {"name": "b", "shape": [1], "datatype": "BYTES", "data": ["x"]}]


@pytest.mark.parametrize("body, needle", [
    ({}, "inputs"),
    ([], "JSON object"),
    ({"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]}, "needs 3 values"),
    ({"inputs": [{"name": "x", "shape": [2], "datatype": "FP99", "data": [1, 2]}]}, "datatype"),
    ({"inputs": [{"name": "x", "shape": [-1], "datatype": "FP32", "data": [1]}]}, "shape"),
    ({"inputs": [{"name": "x", "shape": [2], "datatype": "INT32", "data": [1, "a"]}]}, "not a INT32"),
    ({"inputs": [{"name": "x", "shape": [1], "datatype": "BOOL", "data": [1]}]}, "BOOL"),
    ({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]}, "name"),
    ({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32"}]}, "data"),
    ({"inputs": [{"name": "x", "shape": [0, 2], "datatype": "FP32", "data": []}]}, "no rows"),
    ({"inputs": [{"name": "x", "shape": [100000, 100000, 100], "datatype": "FP32", "data": []}]}, "elements"),
    ({"inputs": [1]}, "object"),
    ({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": {"source": "q"}},
     "not a source"),
])
def test_bad_infer_requests_are_400(body, needle):
    with served(chain(impl("ident"))) as (dep, client):
        resp = client.post(f"/v2/models/{dep.name}/infer", json=body)
        assert resp.status_code == 400, resp.text
        assert needle in resp.json()["error"]


def test_not_ready_when_a_node_has_no_live_replica():
    from tests.serving.conftest import wait_for

    earg = chain(impl("ident"), impl("ident"), recovery={"policy": "none", "max_restarts": 0, "backoff_ms": 10.0})
    with served(earg) as (dep, client):
        dep.inject_fault("n0", "crash")
        client.post("/src", json=1)
        wait_for(lambda: dep.metrics().nodes["n0"].replicas_alive == 0, 10, "the replica to die")
        assert client.get("/v2/health/ready").status_code == 503
        assert client.get(f"/v2/models/{dep.name}/ready").json()["ready"] is False
        assert client.get(f"/v2/models/{dep.name}.n0/ready").json() == {"name": f"{dep.name}.n0", "ready": False}
        assert client.get(f"/v2/models/{dep.name}.n1/versions/1/ready").json()["ready"] is True
        assert client.post("/v2/repository/index").json() == [
            {"name": dep.name, "version": "1", "state": "UNAVAILABLE"},
            {"name": f"{dep.name}.n0", "version": "1", "state": "UNAVAILABLE"},
            {"name": f"{dep.name}.n1", "version": "1", "state": "READY"}]
        body = {"inputs": [{"name": "x", "shape": [2], "datatype": "INT64", "data": [1, 2]}]}
        resp = client.post(f"/v2/models/{dep.name}.n1/infer", json=body)
        assert resp.status_code == 200 and resp.json()["outputs"][0]["data"] == [1, 2]
        resp = client.post(f"/v2/models/{dep.name}.n0/infer", json=body)
        assert resp.status_code == 503 and "n0" in resp.json()["error"]
        paths = {r["path"] for r in client.get("/").json()["routes"]}
        assert {f"/v2/models/{dep.name}.n0/infer", f"/v2/models/{dep.name}.n1"} <= paths
        assert client.get("/v2/health/live").status_code == 200


def test_several_sources_need_the_source_parameter():
    earg = make_earg({"a": {"kind": "source"}, "b": {"kind": "source"}, "f": {"impl": impl("double")},
                      "out": {"kind": "sink"}}, ["a -> f", "b -> f", "f -> out"], name="two")
    with served(earg) as (_dep, client):
        one = {"inputs": [{"name": "x", "shape": [], "datatype": "FP64", "data": [1]}]}
        assert client.post("/v2/models/two/infer", json=one).status_code == 400
        one["parameters"] = {"source": "b"}
        assert client.post("/v2/models/two/infer", json=one).json()["outputs"][0]["data"] == [2.0]


@pytest.fixture
def uvicorn_errors():
    """Records uvicorn's error log (where an exception escaping the app is logged)."""
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("data, shape, needle", [
    (_nested(1000), "[1]", "deeper than its shape [1]"),
    (_nested(1020), "[1, 1]", "deeper than its shape [1, 1]"),
    (_nested(3), "[1, 1]", "deeper than its shape"),
    (_nested(5000), "[1]", "not valid JSON"),
    ("[1]", "[" + ", ".join(["1"] * 1000) + "]", "1000 dimensions; at most 32"),
])
def test_data_nested_deep_or_shapes_with_many_dimensions_are_400(uvicorn_errors, data, shape, needle):
    with served(chain(impl("ident"))) as (dep, client):
        body = '{"inputs": [{"name": "x", "shape": %s, "datatype": "INT64", "data": %s}]}' % (shape, data)
        resp = client.post(f"/v2/models/{dep.name}/infer", content=body)
        assert resp.status_code == 400, resp.text
        assert needle in resp.json()["error"]
        ok = {"inputs": [{"name": "x", "shape": [2, 1], "datatype": "INT64", "data": [[1], [2]]}]}
        assert client.post(f"/v2/models/{dep.name}/infer", json=ok).json()["outputs"][0]["data"] == [1, 2]
    assert uvicorn_errors == []


def test_answers_nested_2000_deep_are_a_tensor_or_a_json_500(uvicorn_errors):
    body = {"inputs": [{"name": "x", "shape": [1], "datatype": "INT64", "data": [1]}]}
    with served(chain(impl("nest"))) as (dep, client):
        [out] = client.post(f"/v2/models/{dep.name}/infer", json=body).json()["outputs"]
        assert out["shape"] == [1] * 2001 and out["data"] == [1]
    with served(chain(impl("nest_ragged"))) as (dep, client):
        resp = client.post(f"/v2/models/{dep.name}/infer", json=body)
        assert resp.status_code == 500 and "no JSON form" in resp.json()["error"]
    assert uvicorn_errors == []


def _rows(n: int) -> dict:
    return {"inputs": [{"name": "x", "shape": [n, 1], "datatype": "INT64", "data": [[i] for i in range(n)]}]}


def test_rows_per_request_are_bounded_by_default():
    with served(chain(impl("ident"), replicas=2)) as (dep, client):
        resp = client.post(f"/v2/models/{dep.name}/infer", json=_rows(1025))
        assert resp.status_code == 413
        assert "has 1025 rows" in resp.json()["error"] and "at most 1024 rows" in resp.json()["error"]
        assert "--max-rows" in resp.json()["error"]
        [out] = client.post(f"/v2/models/{dep.name}/infer", json=_rows(1024)).json()["outputs"]
        assert out["shape"] == [1024, 1] and out["data"] == list(range(1024))
        assert dep.metrics().graph.requests == 1, "the refused request never reached the graph; a tensor is one"
