"""Tensor types: a datatype and a shape whose dimensions may be symbols.

``float32[n, 20]`` is a batch of rows of 20 floats, ``int64[n]`` a batch of labels,
``bytes[n]`` a batch of strings, ``float32`` one number and ``json`` any JSON value
(untyped: it matches everything and says nothing). A dimension is a number, a symbol
(``n``, the batch, shared along the graph) or ``_`` (unknown).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Union

from ...errors import HogarError

__all__ = [
    "DTYPES",
    "Dim",
    "JSON",
    "NUMERIC",
    "TensorType",
    "TypeSyntaxError",
    "Unifier",
    "parse_type",
]

#: ``number`` is any numeric datatype: what scikit-learn and XGBoost take (they convert)
NUMERIC = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "number")
DTYPES = (*NUMERIC, "bytes", "json")
UNKNOWN = "_"
MAX_RANK = 16

Dim = Union[int, str]  # a size, a symbol, or "_"

_TYPE = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)\s*(?:\[(.*)\])?\s*\Z", re.S)
_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class TypeSyntaxError(HogarError, ValueError):
    """A type written wrongly (``float32[n, 2``, ``floot32[n]``)."""


@dataclass(frozen=True, slots=True)
class TensorType:
    """``(datatype, shape)``; ``json`` has no shape and matches any type."""

    dtype: str
    shape: tuple[Dim, ...] = ()

    @property
    def untyped(self) -> bool:
        return self.dtype == "json"

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_labels(self) -> bool:
        """A batch of one value per row (what ``predict`` of a classifier gives)."""
        return self.rank == 1

    def with_last(self, dim: Dim) -> "TensorType":
        return TensorType(self.dtype, (*self.shape[:-1], dim))

    def __str__(self) -> str:
        if self.untyped or not self.shape:
            return self.dtype
        return f"{self.dtype}[{', '.join(str(d) for d in self.shape)}]"

    def to_oip(self) -> dict[str, Any]:
        """The OIP v2 tensor metadata: ``{"datatype": "FP32", "shape": [-1, 20]}``."""
        return {"datatype": OIP_DATATYPES.get(self.dtype, "BYTES"),
                "shape": [d if isinstance(d, int) else -1 for d in self.shape]}


JSON = TensorType("json")

OIP_DATATYPES = {
    "bool": "BOOL", "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
    "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32", "uint64": "UINT64",
    "float16": "FP16", "float32": "FP32", "float64": "FP64", "number": "FP64", "bytes": "BYTES",
}


def parse_type(text: str) -> TensorType:
    """``"float32[n, 20]"`` -> ``TensorType("float32", ("n", 20))``; TypeSyntaxError if wrong."""
    if not isinstance(text, str) or len(text) > 400:
        raise TypeSyntaxError(f"got {text!r} for a type; expected e.g. float32[n, 20]")
    return _parse(text)


@functools.lru_cache(maxsize=1024)  # a graph writes the same few types many times
def _parse(text: str) -> TensorType:
    from ..diagnostics import did_you_mean

    if len(text) > 400:
        raise TypeSyntaxError(f"got {text!r} for a type; expected e.g. float32[n, 20]")
    m = _TYPE.match(text)
    if m is None:
        raise TypeSyntaxError(f"`{text.strip()}` is not a type; write a datatype and a shape such as float32[n, 20]")
    dtype, dims = m.group(1), m.group(2)
    if dtype not in DTYPES:
        hint = did_you_mean(dtype, DTYPES)
        raise TypeSyntaxError(f"unknown datatype `{dtype}`" + (f"; {hint}" if hint else
                              "; datatypes are " + ", ".join(DTYPES)))
    if dims is None:
        return TensorType(dtype)
    if dtype == "json":
        raise TypeSyntaxError("`json` takes no shape: it stands for any value")
    shape: list[Dim] = []
    for part in dims.split(",") if dims.strip() else []:
        part = part.strip()
        if part.isdigit():
            shape.append(int(part))
        elif part in (UNKNOWN, "?"):
            shape.append(UNKNOWN)
        elif _SYMBOL.match(part):
            shape.append(part)
        else:
            raise TypeSyntaxError(f"`{part}` is not a dimension of `{text.strip()}`; "
                                  "a dimension is a size (20), a symbol (n) or _ (unknown)")
    if len(shape) > MAX_RANK:
        raise TypeSyntaxError(f"`{text.strip()}` has more than {MAX_RANK} dimensions")
    return TensorType(dtype, tuple(shape))


def _family(dtype: str) -> str:
    if dtype.startswith("float"):
        return "float"
    if dtype.startswith(("int", "uint")):
        return "int"
    return dtype


def dtype_fits(expected: str, produced: str) -> bool:
    """Whether values of datatype ``produced`` may go where ``expected`` is asked.

    Values travel between nodes as numbers, so precision is the consumer's to choose:
    floats of any width fit each other, integers and booleans fit floats, booleans fit
    integers; floats do not fit integers, and text (``bytes``) fits only text.
    """
    if expected == produced or "json" in (expected, produced):
        return True
    if "number" in (expected, produced):
        return expected in NUMERIC and produced in NUMERIC
    want, got = _family(expected), _family(produced)
    return want == got or (want == "float" and got in ("int", "bool")) or (want == "int" and got == "bool")


class Unifier:
    """Symbols bound along a graph: ``n`` is the same batch everywhere it appears."""

    def __init__(self) -> None:
        self.bound: dict[str, Dim] = {}

    def resolve(self, d: Dim) -> Dim:
        seen = 0
        while isinstance(d, str) and d in self.bound and seen < 64:
            d, seen = self.bound[d], seen + 1
        return d

    def dim(self, a: Dim, b: Dim) -> bool:
        a, b = self.resolve(a), self.resolve(b)
        if a == b or UNKNOWN in (a, b):
            return True
        if isinstance(a, str):
            self.bound[a] = b
            return True
        if isinstance(b, str):
            self.bound[b] = a
            return True
        return False

    def fits(self, expected: TensorType, produced: TensorType) -> bool:
        """Whether ``produced`` goes where ``expected`` is asked (binding symbols)."""
        if expected.untyped or produced.untyped:
            return True
        if not dtype_fits(expected.dtype, produced.dtype) or expected.rank != produced.rank:
            return False
        trial = dict(self.bound)
        if all(self.dim(a, b) for a, b in zip(expected.shape, produced.shape)):
            return True
        self.bound = trial
        return False

    def show(self, t: TensorType) -> TensorType:
        """``t`` with its bound symbols replaced by what they stand for."""
        if t.untyped or not self.bound:
            return t
        return TensorType(t.dtype, tuple(self.resolve(d) for d in t.shape))
