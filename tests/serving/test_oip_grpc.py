"""The Open Inference Protocol over gRPC, against the real service on 127.0.0.1: the
protocol's messages built from the vendored descriptor, typed and raw contents, errors
as status codes, a storm of good and bad calls, and ``hogar serve --grpc-port``
draining on SIGTERM. (Third-party clients drive it in tests/clients.)"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import threading
from collections import Counter, deque
from pathlib import Path
from typing import Any

import grpc
import pytest

import hogar_nb
from hogar_nb.errors import HogarError
from hogar_nb.serving.grpc_messages import SERVICE, messages
from hogar_nb.serving.grpc_server import GRPCServer
from hogar_nb.serving.options import ServeOptions
from tests.serving.conftest import chain, impl, make_earg, wait_for

ROOT = Path(__file__).resolve().parents[2]
M = messages()


class Client:
    """The protocol's six calls on a channel, with the protocol's own messages."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.insecure_channel(address)

    def stub(self, method: str) -> Any:
        return self.channel.unary_unary(f"/{SERVICE}/{method}",
                                        request_serializer=M[f"inference.{method}Request"].SerializeToString,
                                        response_deserializer=M[f"inference.{method}Response"].FromString)

    def __call__(self, method: str, request: Any = None, **fields: Any) -> Any:
        message = request if request is not None else M[f"inference.{method}Request"](**fields)
        return self.stub(method)(message, timeout=30)

    def close(self) -> None:
        self.channel.close()


def infer_request(model: str, *tensors: dict, raw: list[bytes] | None = None, **fields: Any) -> Any:
    req = M["inference.ModelInferRequest"](model_name=model, **fields)
    for t in tensors:
        tensor = req.inputs.add(name=t["name"], datatype=t["datatype"], shape=t["shape"])
        for field, values in t.get("contents", {}).items():
            getattr(tensor.contents, field).extend(values)
    req.raw_input_contents.extend(raw or [])
    return req


def code_of(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code(), err.value.details()


@pytest.fixture(scope="module")
def pipe():
    """src -> scale (python: a row's values / 10) -> total (python: a row's sum), as ``pipe``,
    with its gRPC service; yields (deployment, client)."""
    earg = make_earg({"src": {"kind": "source"}, "scale": {"impl": "tests.serving.impls:tenth"},
                      "total": {"impl": "tests.serving.impls:shape_checked"},
                      "out": {"kind": "sink", "response": True}},
                     ["src -> scale", "scale -> total", "total -> out"])
    earg["name"] = "pipe"
    dep = hogar_nb.run(earg)
    server = GRPCServer(dep, options=ServeOptions(max_rows=64, max_body=1_000_000)).start()
    client = Client(server.address)
    try:
        yield dep, client
    finally:
        client.close()
        server.stop(1.0)
        dep.stop()


def test_health_metadata_and_readiness_of_the_graph_and_its_nodes(pipe):
    _dep, client = pipe
    assert client("ServerLive").live and client("ServerReady").ready
    meta = client("ServerMetadata")
    assert meta.name == "hogar" and "binary_tensor_data" in meta.extensions
    assert client("ModelReady", name="pipe").ready and client("ModelReady", name="pipe.scale", version="1").ready
    model = client("ModelMetadata", name="pipe.total", version="1")
    assert (model.name, list(model.versions), model.platform) == ("pipe.total", ["1"], "hogar")
    # an untyped python node promises no output datatype: none is listed (its FP64 answer
    # is in test_typed_contents_in_and_out)
    assert list(model.outputs) == [] and [t.datatype for t in model.inputs] == ["FP64"]
    assert code_of(lambda: client("ModelReady", name="nope")) == (
        grpc.StatusCode.NOT_FOUND, "model 'nope' not found; this server has models ['pipe', 'pipe.scale', "
                                   "'pipe.total']")
    code, message = code_of(lambda: client("ModelMetadata", name="pipe", version="2"))
    assert code == grpc.StatusCode.NOT_FOUND and "has no version '2'" in message


def test_typed_contents_in_and_out(pipe):
    _dep, client = pipe
    rows = [[float(i), float(i + 1)] for i in range(32)]
    for n in (1, 32):
        flat = [v for row in rows[:n] for v in row]
        out = client("ModelInfer", infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [n, 2],
                                                          "contents": {"fp64_contents": flat}}, id=f"r{n}"))
        assert (out.model_name, out.model_version, out.id) == ("pipe", "1", f"r{n}")
        (tensor,) = out.outputs
        assert (tensor.name, tensor.datatype, list(tensor.shape)) == ("output-0", "FP64", [n])
        assert list(tensor.contents.fp64_contents) == pytest.approx([sum(r) / 10 for r in rows[:n]])
        assert not out.raw_output_contents
    one_row = infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [1, 2],
                                     "contents": {"fp64_contents": [1, 2]}})
    _answer, call = client.stub("ModelInfer").with_call(one_row, metadata=(("x-request-id", "grpc-rid-1"),),
                                                        timeout=30)
    assert ("x-request-id", "grpc-rid-1") in tuple(call.trailing_metadata())
    out = client("ModelInfer", infer_request("pipe.scale", {"name": "x", "datatype": "INT64", "shape": [2],
                                                             "contents": {"int64_contents": [10, 30]}}))
    assert list(out.outputs[0].contents.fp64_contents) == [1.0, 3.0]
    out = client("ModelInfer", infer_request("pipe.total", {"name": "x", "datatype": "INT32", "shape": [2],
                                                             "contents": {"int_contents": [4, 5]}}))
    assert (out.outputs[0].datatype, list(out.outputs[0].contents.int64_contents)) == ("INT64", [9])


def test_raw_contents_in_and_out(pipe):
    _dep, client = pipe
    out = client("ModelInfer", infer_request("pipe", {"name": "x", "datatype": "FP32", "shape": [2, 2]},
                                             raw=[struct.pack("<4f", 10, 20, 30, 40)]))
    assert list(out.outputs[0].shape) == [2] and not out.outputs[0].HasField("contents")
    assert struct.unpack("<2d", out.raw_output_contents[0]) == pytest.approx((3.0, 7.0))
    code, message = code_of(lambda: client("ModelInfer", infer_request(
        "pipe.total", {"name": "x", "datatype": "BYTES", "shape": [1]}, raw=[struct.pack("<I", 2) + b"ab"])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "expected a list of 2 numbers" in message


BAD = [
    (infer_request("pipe", {"name": "x", "datatype": "FP32", "shape": [1, 2], "contents": {"fp32_contents": [1]}},
                   raw=[b"\0" * 8]), grpc.StatusCode.INVALID_ARGUMENT, "send every input one way"),
    (infer_request("pipe", {"name": "x", "datatype": "FP32", "shape": [1, 2]}, raw=[b"\0" * 8, b""]),
     grpc.StatusCode.INVALID_ARGUMENT, "raw_input_contents has 2 entries for 1 inputs"),
    (infer_request("pipe", {"name": "x", "datatype": "FP32", "shape": [1, 2]}, raw=[b"\0" * 7]),
     grpc.StatusCode.INVALID_ARGUMENT, "is 2 x 4 = 8 bytes"),
    (infer_request("pipe", {"name": "x", "datatype": "FP16", "shape": [1]}),
     grpc.StatusCode.INVALID_ARGUMENT, "FP16 has no typed contents"),
    (infer_request("pipe", {"name": "x", "datatype": "FP99", "shape": [1]}),
     grpc.StatusCode.INVALID_ARGUMENT, "datatype 'FP99' is not one of"),
    (infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [3], "contents": {"fp64_contents": [1]}}),
     grpc.StatusCode.INVALID_ARGUMENT, "needs 3 values"),
    (infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [1, 3],
                            "contents": {"fp64_contents": [1, 2, 3]}}),
     grpc.StatusCode.INVALID_ARGUMENT, "node 'total' rejected the input: expected a list of 2 numbers"),
    (infer_request("pipe", {"name": "x", "datatype": "BYTES", "shape": [1],
                            "contents": {"bytes_contents": [b"\xff"]}}),
     grpc.StatusCode.INVALID_ARGUMENT, "not UTF-8"),
    (infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [65, 2],
                            "contents": {"fp64_contents": [0.0] * 130}}),
     grpc.StatusCode.RESOURCE_EXHAUSTED, "at most 64 rows"),
    (infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [1, 2], "contents": {"fp64_contents": [1, 2]}},
                   outputs=[M["inference.ModelInferRequest"].InferRequestedOutputTensor(name="probs")]),
     grpc.StatusCode.INVALID_ARGUMENT, "has no output 'probs'"),
    (infer_request("pipe.nope", {"name": "x", "datatype": "FP64", "shape": [1], "contents": {"fp64_contents": [1]}}),
     grpc.StatusCode.NOT_FOUND, "model 'pipe.nope' not found"),
    (infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [1], "contents": {"fp64_contents": [1]}},
                   model_version="3"), grpc.StatusCode.NOT_FOUND, "has no version '3'"),
    (infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [250_000],
                            "contents": {"fp64_contents": [0.0] * 250_000}}),
     grpc.StatusCode.RESOURCE_EXHAUSTED, "larger than max"),
]


@pytest.mark.parametrize("request_, code, words", BAD)
def test_bad_calls_are_status_codes_with_a_message(pipe, request_, code, words):
    _dep, client = pipe
    got, message = code_of(lambda: client("ModelInfer", request_))
    assert got == code and words in message, message


def test_a_failing_node_is_internal_and_the_deadline_counts():
    earg = chain(impl("double"), impl("slow"))
    with hogar_nb.run(earg) as dep:
        server = GRPCServer(dep).start()
        client = Client(server.address)
        try:
            words = M["inference.ModelInferRequest"](model_name=dep.name)
            words.inputs.add(name="x", datatype="BYTES", shape=[1]).contents.bytes_contents.append(b"a")
            code, message = code_of(lambda: client("ModelInfer", words))
            assert code == grpc.StatusCode.INTERNAL
            assert message.startswith("node 'n0' raised TypeError('double needs a number, got list')")
            one = infer_request(dep.name, {"name": "x", "datatype": "FP64", "shape": [],
                                           "contents": {"fp64_contents": [1.0]}})
            with pytest.raises(grpc.RpcError) as err:
                client.stub("ModelInfer")(one, timeout=0.01)  # the node alone sleeps 50 ms
            assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert list(client("ModelInfer", one).outputs[0].contents.fp64_contents) == [2.0]
            words = struct.pack("<I", 2) + "é".encode() + struct.pack("<I", 3) + b"cde"
            out = client("ModelInfer", infer_request(f"{dep.name}.n1", {"name": "x", "datatype": "BYTES",
                                                                        "shape": [2]}, raw=[words]))
            assert (out.outputs[0].datatype, list(out.outputs[0].shape)) == ("BYTES", [2])
            assert out.raw_output_contents == [words]
        finally:
            client.close()
            server.stop(1.0)


def test_a_storm_of_good_and_bad_calls_is_answered_call_by_call(pipe):
    dep, client = pipe
    infer = client.stub("ModelInfer")
    good = infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [4, 2],
                                  "contents": {"fp64_contents": [1, 2, 3, 4, 5, 6, 7, 8]}})
    bad = [b[0] for b in BAD[:8]]
    outcome: Counter[str] = Counter()
    window: deque[tuple[bool, Any]] = deque()

    def settle() -> None:
        is_bad, fut = window.popleft()
        try:
            answer = fut.result()
        except grpc.RpcError as err:
            outcome["bad" if is_bad and err.code() == grpc.StatusCode.INVALID_ARGUMENT else str(err.code())] += 1
        else:
            ok = list(answer.outputs[0].contents.fp64_contents) == pytest.approx([0.3, 0.7, 1.1, 1.5])
            outcome["good" if ok and not is_bad else "wrong"] += 1

    for i in range(4000):  # 128 calls (512 rows) in flight at most: within the nodes' queues
        if len(window) == 128:
            settle()
        window.append((i % 5 == 0, infer.future(bad[i % len(bad)] if i % 5 == 0 else good, timeout=120)))
    while window:
        settle()
    assert outcome == {"good": 3200, "bad": 800}
    assert client("ServerReady").ready and dep.metrics().node("scale").replicas_alive == 1


def test_a_burst_past_the_queues_is_shed_call_by_call(pipe):
    dep, client = pipe
    infer = client.stub("ModelInfer")
    rows = infer_request("pipe", {"name": "x", "datatype": "FP64", "shape": [8, 2],
                                  "contents": {"fp64_contents": [1.0] * 16}})
    calls = [infer.future(rows, timeout=120) for _ in range(2000)]  # 16,000 rows at once
    outcome: Counter[str] = Counter()
    for fut in calls:
        try:
            answer = fut.result()
        except grpc.RpcError as err:
            outcome[str(err.code())] += 1
            assert err.code() != grpc.StatusCode.UNAVAILABLE or "queue" in err.details(), err.details()
        else:
            outcome["ok" if list(answer.outputs[0].contents.fp64_contents) == [0.2] * 8 else "wrong"] += 1
    assert set(outcome) <= {"ok", "StatusCode.UNAVAILABLE"} and sum(outcome.values()) == 2000, outcome
    assert outcome["ok"] > 0
    assert client("ServerReady").ready and dep.metrics().node("scale").replicas_alive == 1


GRAPH = """\
graph sleepy
source api
python work { impl = "tests.serving.impls:slow_for", replicas = 4 }
sink out { response = true }
api -> work -> out
"""


def test_hogar_serve_grpc_port_answers_and_drains_on_sigterm(tmp_path):
    (tmp_path / "sleepy.udgl").write_text(GRAPH)
    proc = subprocess.Popen([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "sleepy.udgl"),
                             "--port", "0", "--grpc-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    try:
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert first.startswith("serving sleepy on http://127.0.0.1:"), first + proc.stderr.read()
        assert second.startswith("serving sleepy over gRPC on 127.0.0.1:"), second
        client = Client(second.split()[-1])
        one = infer_request("sleepy", {"name": "x", "datatype": "FP64", "shape": [],
                                       "contents": {"fp64_contents": [1.0]}})
        assert client("ModelReady", name="sleepy.work").ready
        answers: list[Any] = []
        calls = [threading.Thread(target=lambda: answers.append(client("ModelInfer", one))) for _ in range(4)]
        for t in calls:
            t.start()
        wait_for(lambda: in_flight(first.split()[-1]) == 4, 30, "the calls to reach the graph")
        proc.send_signal(signal.SIGTERM)
        for t in calls:
            t.join(30)
        assert [list(a.outputs[0].contents.fp64_contents) for a in answers] == [[1.0]] * 4
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "Traceback" not in err, err
        code, _ = code_of(lambda: client.stub("ServerLive")(M["inference.ServerLiveRequest"](), timeout=2))
        assert code == grpc.StatusCode.UNAVAILABLE
        client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def in_flight(url: str) -> int:
    import httpx

    return httpx.get(url + "/hogar/v1/status").json()["graph"]["in_flight"]


def test_a_taken_port_is_a_clear_error():
    with hogar_nb.run(chain(impl("ident"))) as dep:
        first = GRPCServer(dep).start()
        try:
            with pytest.raises(HogarError, match=f"cannot listen for gRPC on 127.0.0.1:{first.port}"):
                GRPCServer(dep, port=first.port).start()
        finally:
            first.stop(1.0)
