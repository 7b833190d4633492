"""Open Inference Protocol v2 tensors <-> plain JSON values (no numpy needed)."""

from __future__ import annotations

import math
from typing import Any

from .responses import HTTPError

__all__ = ["DATATYPES", "describe", "reshape", "tensor_head", "tensor_value"]

_INTS = {"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}
_FLOATS = {"FP16", "FP32", "FP64"}
DATATYPES = _INTS | _FLOATS | {"BOOL", "BYTES"}
MAX_ELEMENTS = 10_000_000
MAX_DIMENSIONS = 32


def _bad(message: str) -> HTTPError:
    return HTTPError(400, "bad_request", message)


def _flatten(data: Any, out: list[Any], max_depth: int | None = None) -> int:
    """Append the scalars of nested lists to ``out`` in row-major order; returns how
    deep the lists nest (without recursion: any depth is safe). With ``max_depth``,
    stops and returns ``max_depth + 1`` as soon as the lists nest deeper."""
    if not isinstance(data, list):
        out.append(data)
        return 0
    deepest = 1
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                if len(stack) > deepest:
                    deepest = len(stack)
                    if max_depth is not None and deepest > max_depth:
                        return deepest
                break
            out.append(item)
        else:
            stack.pop()
    return deepest


def _check_element(dtype: str, value: Any, name: str) -> Any:
    if dtype == "BOOL":
        if isinstance(value, bool):
            return value
    elif dtype in _INTS:
        if isinstance(value, int) and not isinstance(value, bool):
            if dtype.startswith("UINT") and value < 0:
                raise _bad(f"input {name!r}: {value} is negative for datatype {dtype}")
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif dtype in _FLOATS:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif dtype == "BYTES":
        if isinstance(value, str):
            return value
    raise _bad(f"input {name!r}: {value!r} is not a {dtype} value")


def reshape(flat: list[Any], shape: list[int]) -> Any:
    """Nested lists of ``shape`` from row-major ``flat`` (a scalar for shape [])."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0] if shape[0] else 0
    return [reshape(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def tensor_head(tensor: Any, index: int) -> tuple[str, list[int], str]:
    """(name, shape, datatype) of one request input, checked, before its data is read."""
    if not isinstance(tensor, dict):
        raise _bad(f"inputs[{index}] must be an object with name, shape, datatype and data")
    name = tensor.get("name")
    if not isinstance(name, str) or not name:
        raise _bad(f"inputs[{index}] needs a \"name\" string")
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                              for d in shape):
        raise _bad(f"input {name!r}: \"shape\" must be a list of non-negative integers, got {shape!r}")
    if len(shape) > MAX_DIMENSIONS:
        raise _bad(f"input {name!r}: shape has {len(shape)} dimensions; at most {MAX_DIMENSIONS}")
    dtype = tensor.get("datatype")
    if dtype not in DATATYPES:
        raise _bad(f"input {name!r}: datatype {dtype!r} is not one of {', '.join(sorted(DATATYPES))}")
    if "data" not in tensor:
        raise _bad(f"input {name!r} has no \"data\"")
    size = math.prod(shape) if shape else 1
    if size > MAX_ELEMENTS:
        raise _bad(f"input {name!r}: shape {shape} has {size} elements; at most {MAX_ELEMENTS}")
    return name, shape, dtype


def tensor_value(tensor: Any, index: int) -> tuple[str, list[int], Any]:
    """(name, shape, nested value) of one request input, checked against its shape and datatype."""
    name, shape, dtype = tensor_head(tensor, index)
    size = math.prod(shape) if shape else 1
    flat: list[Any] = []
    dims = max(len(shape), 1)
    if _flatten(tensor["data"], flat, dims) > dims:
        raise _bad(f"input {name!r}: \"data\" nests lists deeper than its shape {shape} "
                   f"({dims} level{'s' * (dims != 1)} at most); send it flat or nested as the shape")
    if len(flat) != size:
        raise _bad(f"input {name!r}: shape {shape} needs {size} values, \"data\" has {len(flat)}")
    return name, shape, reshape(_checked(dtype, flat, name), shape)


def _checked(dtype: str, flat: list[Any], name: str) -> list[Any]:
    """``flat`` as values of ``dtype`` (floats for FP*, ints for INT*); 400 naming the
    first value that is not one. The common case (every value of the expected type)
    costs one pass over the types, not a call per value."""
    types = set(map(type, flat))
    if dtype in _FLOATS:
        if types <= {float}:
            return flat
        if types <= {float, int}:
            return list(map(float, flat))
    elif dtype in _INTS:
        if types <= {int} and (not flat or not dtype.startswith("UINT") or min(flat) >= 0):
            return flat
    elif types <= {_ELEMENT[dtype]}:
        return flat
    return [_check_element(dtype, v, name) for v in flat]


_ELEMENT = {"BOOL": bool, "BYTES": str}


def _shape_of(value: Any) -> list[int] | None:
    """The rectangular shape of nested lists, or None if ragged (level by level, so
    any depth is safe)."""
    shape: list[int] = []
    level = [value]
    while True:
        lists = sum(isinstance(v, list) for v in level)
        if lists == 0:
            return shape
        if lists != len(level):
            return None
        size = len(level[0])
        if any(len(v) != size for v in level):
            return None
        shape.append(size)
        if size == 0:
            return shape
        level = [item for v in level for item in v]


def _datatype(flat: list[Any]) -> str | None:
    if not flat:
        return "FP64"
    types = set(map(type, flat))
    if types <= {bool}:
        return "BOOL"
    if all(issubclass(t, int) and not issubclass(t, bool) for t in types):
        return "INT64"
    if all(issubclass(t, (int, float)) and not issubclass(t, bool) for t in types):
        return "FP64"
    if all(issubclass(t, str) for t in types):
        return "BYTES"
    return None


def describe(name: str, value: Any) -> dict[str, Any]:
    """An output tensor for a JSON value: numbers and strings as themselves, anything
    else (ragged lists, objects) as BYTES holding JSON text."""
    shape = _shape_of(value)
    flat: list[Any] = []
    if shape is not None:
        _flatten(value, flat)
        dtype = _datatype(flat)
        if dtype is not None:
            return {"name": name, "shape": shape, "datatype": dtype, "data": flat}
    from .responses import dumps

    rows = value if isinstance(value, list) else [value]
    data = [dumps(v).decode() if not isinstance(v, str) else v for v in rows]
    return {"name": name, "shape": [len(data)], "datatype": "BYTES", "data": data}
