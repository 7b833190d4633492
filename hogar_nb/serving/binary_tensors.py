"""The Open Inference Protocol's binary tensor data extension, both directions.

tritonclient and the kserve SDK send tensors this way by default: the body is a JSON
header of ``Inference-Header-Content-Length`` bytes followed by the raw data of each
input that says ``"parameters": {"binary_data_size": N}``, in input order. Numbers
are little-endian in row-major order; a BYTES element is a 4-byte little-endian
length then that many bytes. Outputs are answered the same way when the request asks
(``"binary_data_output": true`` in its parameters, or ``"binary_data": true`` on a
requested output). Decoding uses :mod:`struct` so that the HTTP front needs no numpy.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import orjson

from .responses import HTTPError, dumps

__all__ = ["HEADER_LENGTH", "decode_inputs", "decode_tensor", "encode_outputs", "encode_tensor", "split_body",
           "wants_binary"]

HEADER_LENGTH = "inference-header-content-length"
_FORMATS = {"BOOL": "?", "INT8": "b", "INT16": "h", "INT32": "i", "INT64": "q", "UINT8": "B",
            "UINT16": "H", "UINT32": "I", "UINT64": "Q", "FP16": "e", "FP32": "f", "FP64": "d"}


def _bad(message: str) -> HTTPError:
    return HTTPError(400, "bad_request", message)


def split_body(body: bytes, header_length: str) -> tuple[Any, bytes]:
    """The JSON header (parsed) and the binary data after it."""
    try:
        size = int(header_length.strip())
    except ValueError:
        raise _bad(f"Inference-Header-Content-Length must be a number of bytes, got {header_length[:40]!r}") from None
    if size < 0 or size > len(body):
        raise _bad(f"Inference-Header-Content-Length is {size}, but the body has {len(body)} bytes")
    try:
        header = orjson.loads(body[:size])
    except orjson.JSONDecodeError as exc:
        raise _bad(f"the JSON header of the request ({size} bytes) is not valid JSON: {exc}") from None
    return header, body[size:]


def _size_of(tensor: Any) -> int | None:
    params = tensor.get("parameters") if isinstance(tensor, dict) else None
    if not isinstance(params, dict) or "binary_data_size" not in params:
        return None
    size = params["binary_data_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _bad(f"input {tensor.get('name')!r}: binary_data_size must be a non-negative integer, got {size!r}")
    return size


def decode_tensor(name: str, dtype: Any, shape: Any, raw: bytes) -> list[Any]:
    """The flat elements of one tensor's raw bytes, checked against its shape (400 if not)."""
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise _bad(f"input {name!r}: \"shape\" must be a list of non-negative integers, got {shape!r}")
    count = math.prod(shape) if shape else 1
    if dtype == "BYTES":
        out, at = [], 0
        while at < len(raw):
            if at + 4 > len(raw):
                raise _bad(f"input {name!r}: BYTES data ends inside an element's 4-byte length")
            (length,) = struct.unpack_from("<I", raw, at)
            at += 4
            if at + length > len(raw):
                raise _bad(f"input {name!r}: a BYTES element of {length} bytes runs past binary_data_size")
            try:
                out.append(raw[at:at + length].decode("utf-8"))
            except UnicodeDecodeError:
                raise _bad(f"input {name!r}: a BYTES element is not UTF-8 text") from None
            at += length
        if len(out) != count:
            raise _bad(f"input {name!r}: shape {shape} needs {count} BYTES elements, the data has {len(out)}")
        return out
    fmt = _FORMATS.get(dtype) if isinstance(dtype, str) else None
    if fmt is None:
        raise _bad(f"input {name!r}: datatype {dtype!r} is not one of {', '.join(sorted([*_FORMATS, 'BYTES']))}")
    width = struct.calcsize(fmt)
    if len(raw) != count * width:
        raise _bad(f"input {name!r}: binary_data_size is {len(raw)} bytes, but shape {shape} of {dtype} "
                   f"is {count} x {width} = {count * width} bytes")
    return list(struct.unpack(f"<{count}{fmt}", raw))


def decode_inputs(header: Any, data: bytes) -> Any:
    """``header`` with each binary input's ``data`` filled in as a flat list."""
    inputs = header.get("inputs") if isinstance(header, dict) else None
    if not isinstance(inputs, list):
        raise _bad("an infer request is a JSON object with \"inputs\"")
    at = 0
    for tensor in inputs:
        size = _size_of(tensor)
        if size is None:
            continue
        if at + size > len(data):
            raise _bad(f"input {tensor.get('name')!r}: binary_data_size {size} runs past the end of the "
                       f"body ({len(data) - at} bytes left)")
        tensor["data"] = decode_tensor(tensor.get("name"), tensor.get("datatype"), tensor.get("shape"),
                                 data[at:at + size])
        del tensor["parameters"]["binary_data_size"]
        at += size
    if at != len(data):
        raise _bad(f"{len(data) - at} bytes of binary data after the inputs belong to no input")
    return header


def wants_binary(request: Any) -> tuple[bool, dict[str, bool]]:
    """(every output in binary?, binary per requested output name)."""
    params = request.get("parameters") if isinstance(request, dict) else None
    everything = bool(params.get("binary_data_output")) if isinstance(params, dict) else False
    per_output: dict[str, bool] = {}
    for out in (request.get("outputs") or []) if isinstance(request, dict) else []:
        if isinstance(out, dict) and isinstance(out.get("name"), str):
            out_params = out.get("parameters")
            per_output[out["name"]] = bool(out_params.get("binary_data", everything)) \
                if isinstance(out_params, dict) else everything
    return everything, per_output


def encode_tensor(dtype: str, flat: list[Any]) -> bytes:
    """The raw bytes of flat elements (struct.error for a value out of the datatype's range)."""
    if dtype == "BYTES":
        parts = []
        for v in flat:
            b = v.encode("utf-8") if isinstance(v, str) else bytes(v)
            parts.append(struct.pack("<I", len(b)) + b)
        return b"".join(parts)
    return struct.pack(f"<{len(flat)}{_FORMATS[dtype]}", *flat)


def encode_outputs(response: dict[str, Any], binary: set[str]) -> tuple[bytes, int | None]:
    """The response body, and its JSON header's length when some outputs are binary."""
    raws = []
    for out in response["outputs"]:
        if out["name"] in binary:
            raw = encode_tensor(out["datatype"], out.pop("data"))
            out.setdefault("parameters", {})["binary_data_size"] = len(raw)
            raws.append(raw)
    head = dumps(response)
    if not raws:
        return head, None
    return head + b"".join(raws), len(head)
