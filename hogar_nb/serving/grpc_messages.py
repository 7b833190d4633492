"""The Open Inference Protocol's gRPC messages, and their JSON form.

``grpc_spec/open_inference_grpc.proto`` is the protocol's own definition (KServe's
open-inference-protocol, Apache-2.0). It is compiled once into the FileDescriptorSet
beside it (``grpc_spec/README.md`` says how), and google.protobuf builds the message
classes from that at run time: no generated code has to match the installed
protobuf's version, and grpcio-tools (which pins protobuf) is not a dependency.

Requests become the JSON form :class:`~.models.ModelRepository` answers (inputs with
flat ``data``), from ``raw_input_contents`` (the binary layout of
:mod:`.binary_tensors`) or from the typed ``contents``; responses go back the same way
the request came.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from .binary_tensors import decode_tensor, encode_tensor
from .responses import HTTPError

__all__ = ["SERVICE", "messages", "metadata_message", "request_body", "response_message"]

SERVICE = "inference.GRPCInferenceService"
_SPEC = Path(__file__).with_name("grpc_spec") / "open_inference_grpc.binpb"
_CONTENTS = {"BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
             "INT64": "int64_contents", "UINT8": "uint_contents", "UINT16": "uint_contents",
             "UINT32": "uint_contents", "UINT64": "uint64_contents", "FP32": "fp32_contents",
             "FP64": "fp64_contents", "BYTES": "bytes_contents"}


@functools.cache
def messages() -> dict[str, Any]:
    """The protocol's message classes by full name (``"inference.ModelInferRequest"``...)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    files = descriptor_pb2.FileDescriptorSet.FromString(_SPEC.read_bytes()).file
    pool = descriptor_pool.DescriptorPool()
    for proto in files:
        pool.Add(proto)
    return dict(message_factory.GetMessageClassesForFiles([f.name for f in files], pool))


def _bad(message: str) -> HTTPError:
    return HTTPError(400, "bad_request", message)


def _parameters(params: Any) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        which = value.WhichOneof("parameter_choice")
        if which is not None:
            out[key] = getattr(value, which)
    return out


def _typed(tensor: Any) -> list[Any]:
    field = _CONTENTS.get(tensor.datatype)
    if field is None:
        if tensor.datatype in ("FP16", "BF16"):
            raise _bad(f"input {tensor.name!r}: {tensor.datatype} has no typed contents; send it in "
                       "raw_input_contents")
        return []  # the datatype is reported by the tensor's check
    values = list(getattr(tensor.contents, field))
    if field != "bytes_contents":
        return values
    try:
        return [v.decode("utf-8") for v in values]
    except UnicodeDecodeError:
        raise _bad(f"input {tensor.name!r}: a BYTES element is not UTF-8 text") from None


def request_body(request: Any) -> dict[str, Any]:
    """The JSON form of a ModelInferRequest (400 for contents that do not fit)."""
    raw = list(request.raw_input_contents)
    if raw and len(raw) != len(request.inputs):
        raise _bad(f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} inputs; "
                   "send one per input, in input order")
    inputs = []
    for i, tensor in enumerate(request.inputs):
        shape = list(tensor.shape)
        if raw:
            if tensor.HasField("contents"):
                raise _bad(f"input {tensor.name!r} has contents, but the request sends raw_input_contents: "
                           "send every input one way")
            if tensor.datatype not in _CONTENTS and tensor.datatype != "FP16":
                data: list[Any] = []  # the datatype is reported by the tensor's check
            else:
                data = decode_tensor(tensor.name, tensor.datatype, shape, raw[i])
        else:
            data = _typed(tensor)
        inputs.append({"name": tensor.name, "datatype": tensor.datatype, "shape": shape, "data": data,
                       "parameters": _parameters(tensor.parameters)})
    body: dict[str, Any] = {"inputs": inputs, "parameters": _parameters(request.parameters)}
    if request.id:
        body["id"] = request.id
    if request.outputs:
        body["outputs"] = [{"name": out.name} for out in request.outputs]
    return body


def response_message(response: dict[str, Any], raw: bool) -> Any:
    """A ModelInferResponse of :meth:`~.models.ModelRepository.infer`'s answer, its data in
    ``raw_output_contents`` (``raw``) or in typed contents. ValueError, TypeError or
    struct.error when a value does not fit its datatype."""
    msg = messages()["inference.ModelInferResponse"](
        model_name=response["model_name"], model_version=response["model_version"], id=response["id"] or "")
    for out in response["outputs"]:
        tensor = msg.outputs.add(name=out["name"], datatype=out["datatype"], shape=out["shape"])
        if raw:
            msg.raw_output_contents.append(encode_tensor(out["datatype"], out["data"]))
        elif out["datatype"] == "BYTES":
            tensor.contents.bytes_contents.extend(v.encode("utf-8") for v in out["data"])
        else:
            getattr(tensor.contents, _CONTENTS[out["datatype"]]).extend(out["data"])
    return msg


def metadata_message(meta: dict[str, Any]) -> Any:
    """A ModelMetadataResponse of :meth:`~.models.ModelRepository.metadata`'s answer."""
    msg = messages()["inference.ModelMetadataResponse"](
        name=meta["name"], versions=meta["versions"], platform=meta["platform"])
    for key in ("inputs", "outputs"):
        for t in meta[key]:
            getattr(msg, key).add(name=t["name"], datatype=t["datatype"], shape=t["shape"])
    return msg
