"""Drive a running ``hogar serve`` with one third-party client, as its users call it.

Runs in the clients' own virtualenv (.venv-clients: tritonclient[http,grpc] and the
kserve SDK, which pin their own protobuf and numpy), never in the project's:

    python scenarios.py CLIENT HTTP_URL GRPC_ADDRESS ROWS_JSON

CLIENT is triton-http, triton-grpc, kserve-rest or kserve-grpc. It prints one JSON
object: what each call answered (values, or the error each raised), which
tests/clients/test_clients.py compares with the model's own predictions.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Callable

import numpy as np


def error_of(fn: Callable[[], Any]) -> str:
    """The message of the error ``fn`` raises (the test asserts it raises one)."""
    try:
        fn()
    except Exception as exc:  # every client has its own exception class
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def triton(module: Any, address: str, rows: np.ndarray, grpc: bool) -> dict[str, Any]:
    client = module.InferenceServerClient(address)
    meta = client.get_model_metadata("pipe.clf", "1", **({"as_json": True} if grpc else {}))
    out: dict[str, Any] = {
        "live": client.is_server_live(), "ready": client.is_server_ready(),
        "extensions": list((client.get_server_metadata(as_json=True) if grpc else client.get_server_metadata())
                           ["extensions"]),
        "model_ready": [client.is_model_ready("pipe"), client.is_model_ready("pipe", "1"),
                        client.is_model_ready("pipe.clf", "1")],
        # HTTP: False (a 404); gRPC: the NOT_FOUND status KServe's server answers too
        "unknown_ready": error_of(lambda: client.is_model_ready("pipe.nope")) if grpc
        else client.is_model_ready("pipe.nope"),
        "clf_metadata": [meta["name"], meta["versions"]],
    }

    def inputs(x: np.ndarray, datatype: str = "FP32", binary: bool = True) -> list[Any]:
        tensor = module.InferInput("x", list(x.shape), datatype)
        if grpc:
            tensor.set_data_from_numpy(x)
        else:
            tensor.set_data_from_numpy(x, binary_data=binary)
        return [tensor]

    f32 = rows.astype(np.float32)
    out["graph_1"] = client.infer("pipe", inputs(f32[:1])).as_numpy("output-0").tolist()
    out["graph_32"] = client.infer("pipe", inputs(f32), request_id="r-32").as_numpy("output-0").tolist()
    clf = client.infer("pipe.clf", inputs(f32 / 10), model_version="1")
    out["clf_32"] = clf.as_numpy("output-0").tolist()
    out["clf_response"] = [clf.get_response(**({"as_json": True} if grpc else {}))[k]
                           for k in ("model_name", "model_version")]
    out["top_fp64"] = client.infer("pipe.top", inputs(rows[:4] / 10, "FP64")).as_numpy("output-0").tolist()
    ints = (rows[:2] * 10).astype(np.int64)
    out["scale_int64"] = client.infer("pipe.scale", inputs(ints, "INT64")).as_numpy("output-0").tolist()
    words = np.array([["héllo"], ["wörld"]], dtype=object)
    echoed = client.infer("pipe.log", inputs(words, "BYTES")).as_numpy("output-0")
    out["log_bytes"] = [w.decode() if isinstance(w, bytes) else w for w in echoed.reshape(-1).tolist()]
    as_json = {"as_json": True} if grpc else {}
    # an untyped python node's output (top, the graph's answer) has no datatype to promise:
    # metadata lists none (the gRPC JSON form drops an empty list); a declared one is listed
    out["untyped_outputs"] = [client.get_model_metadata(m, **as_json).get("outputs", []) for m in ("pipe", "pipe.top")]
    out["scale_metadata"] = [[t["datatype"], [int(d) for d in t["shape"]]]
                             for t in client.get_model_metadata("pipe.scale", **as_json)["outputs"]]
    out["datatypes"] = {}
    for model, x, datatype in (("pipe.scale", ints, "INT64"), ("pipe.top", rows[:4] / 10, "FP64"), ("pipe", f32[:2], "FP32")):
        answer = client.infer(model, inputs(x, datatype))
        out["datatypes"][model] = answer.get_output("output-0")["datatype"] if not grpc else \
            answer.get_output("output-0").datatype
    onx_meta = client.get_model_metadata("pipe.onx", **as_json)
    out["onx_metadata"] = [[t["datatype"], [int(d) for d in t["shape"]]]
                           for t in (onx_meta["inputs"][0], onx_meta["outputs"][0])]
    onx = client.infer("pipe.onx", inputs(f32 / 10))
    out["onx_32"] = onx.as_numpy("output-0").tolist()
    out["onx_datatype"] = onx.get_output("output-0")["datatype"] if not grpc else \
        onx.get_output("output-0").datatype
    if grpc:
        out["gzip"] = client.infer("pipe", inputs(f32[:3]), compression_algorithm="gzip").as_numpy(
            "output-0").tolist()
    else:
        json_mode = client.infer("pipe", inputs(f32[:3], binary=False), request_compression_algorithm="gzip",
                                 outputs=[module.InferRequestedOutput("output-0", binary_data=False)])
        out["gzip"] = json_mode.as_numpy("output-0").tolist()
        out["json_mode_id"] = client.infer("pipe", inputs(f32[:3], binary=False), request_id="j-1").get_response()["id"]
    out["errors"] = {
        "model": error_of(lambda: client.infer("pipe.nope", inputs(f32[:1]))),
        "version": error_of(lambda: client.infer("pipe", inputs(f32[:1]), model_version="9")),
        "output": error_of(lambda: client.infer("pipe", inputs(f32[:1]),
                                                outputs=[module.InferRequestedOutput("probabilities")])),
        "shape": error_of(lambda: client.infer("pipe.clf", inputs(f32[:2, :3]))),
        "datatype": error_of(lambda: client.infer("pipe.clf", inputs(np.array([["a", "b", "c", "d"]],
                                                                               dtype=object), "BYTES"))),
    }
    client.close()
    return out


async def kserve_rest(url: str, rows: np.ndarray) -> dict[str, Any]:
    from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
    from kserve.protocol.infer_type import RequestedOutput

    client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=60))
    f32 = rows.astype(np.float32)

    def request(model: str, x: np.ndarray, datatype: str = "FP32", binary: bool = True, **kw: Any) -> Any:
        tensor = InferInput("x", list(x.shape), datatype)
        tensor.set_data_from_numpy(x, binary_data=binary)
        return InferRequest(model_name=model, infer_inputs=[tensor], **kw)

    out: dict[str, Any] = {
        "live": await client.is_server_live(url), "ready": await client.is_server_ready(url),
        "model_ready": [await client.is_model_ready(url, "pipe"), await client.is_model_ready(url, "pipe.clf")],
    }
    graph = await client.infer(url, request("pipe", f32, request_id="k-32"), model_name="pipe")
    out["graph_32"] = graph.outputs[0].as_numpy().tolist()
    out["graph_id"] = graph.id
    clf = await client.infer(url, request("pipe.clf", f32[:1] / 10), model_name="pipe.clf")
    out["clf_1"] = clf.outputs[0].as_numpy().tolist()
    out["clf_response"] = [clf.model_name, clf.model_version]
    json_mode = await client.infer(url, request("pipe.clf", f32 / 10, binary=False,
                                                request_outputs=[RequestedOutput("output-0")]),
                                   model_name="pipe.clf")
    out["clf_32_json"] = json_mode.outputs[0].as_numpy().tolist()
    errors = {}
    for key, model, x in (("model", "pipe.nope", f32[:1]), ("shape", "pipe.clf", f32[:1, :3])):
        try:
            await client.infer(url, request(model, x), model_name=model)
            errors[key] = "no error"
        except Exception as exc:
            errors[key] = f"{type(exc).__name__}: {exc}"
    out["errors"] = errors
    await client.close()
    return out


async def kserve_grpc(address: str, rows: np.ndarray) -> dict[str, Any]:
    from kserve import InferenceGRPCClient, InferInput, InferRequest

    client = InferenceGRPCClient(address, retries=0, timeout=60)
    f32 = rows.astype(np.float32)

    def request(model: str, x: np.ndarray, datatype: str = "FP32", **kw: Any) -> Any:
        tensor = InferInput("x", list(x.shape), datatype)
        tensor.set_data_from_numpy(x)
        return InferRequest(model_name=model, infer_inputs=[tensor], **kw)

    out: dict[str, Any] = {
        "live": await client.is_server_live(), "ready": await client.is_server_ready(),
        "model_ready": [await client.is_model_ready("pipe"), await client.is_model_ready("pipe.clf")],
    }
    graph = await client.infer(request("pipe", f32, request_id="g-32"))
    out["graph_32"] = graph.outputs[0].as_numpy().tolist()
    out["graph_id"] = graph.id
    clf = await client.infer(request("pipe.clf", f32[:1] / 10))
    out["clf_1"] = clf.outputs[0].as_numpy().tolist()
    out["clf_response"] = [clf.model_name, clf.model_version]
    errors = {}
    for key, model, x in (("model", "pipe.nope", f32[:1]), ("shape", "pipe.clf", f32[:1, :3])):
        try:
            await client.infer(request(model, x))
            errors[key] = "no error"
        except Exception as exc:
            code = exc.code() if hasattr(exc, "code") else None
            errors[key] = f"{code}: {exc.details() if hasattr(exc, 'details') else exc}"
    out["errors"] = errors
    await client.close()
    return out


def main() -> None:
    which, url, address, rows_file = sys.argv[1:5]
    with open(rows_file, encoding="utf-8") as fh:
        rows = np.array(json.load(fh), dtype=np.float64)
    if which == "triton-http":
        import tritonclient.http as module

        result = triton(module, url.removeprefix("http://"), rows, grpc=False)
    elif which == "triton-grpc":
        import tritonclient.grpc as module

        result = triton(module, address, rows, grpc=True)
    elif which == "kserve-rest":
        result = asyncio.run(kserve_rest(url, rows))
    elif which == "kserve-grpc":
        result = asyncio.run(kserve_grpc(address, rows))
    else:
        raise SystemExit(f"unknown client {which!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
