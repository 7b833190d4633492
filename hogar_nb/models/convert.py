"""Rows in (payloads to a 2-D array) and values out (numpy to plain JSON-ready Python)."""

from __future__ import annotations

from typing import Any

from .errors import ModelInputError

__all__ = ["as_rows", "jsonable"]

_NUMERIC = "biuf"  # bool, int, unsigned, float


def as_rows(np: Any, payload: Any, n_features: int | None) -> tuple[Any, bool]:
    """``(matrix, single)``: a row of numbers is a 1-row matrix (``single``), a list of
    rows is itself; anything else is a ModelInputError naming what was expected."""
    try:
        arr = np.asarray(payload)
    except (ValueError, TypeError) as exc:
        raise ModelInputError(f"expected a row of numbers or a list of rows: {exc}") from None
    if arr.dtype.kind not in _NUMERIC:
        raise ModelInputError(
            "expected a row of numbers or a list of rows of the same length, got "
            + ("ragged or mixed values" if arr.dtype.kind == "O" else f"{arr.dtype.kind!r} values"))
    if arr.ndim == 1:
        arr, single = arr.reshape(1, -1), True
    elif arr.ndim == 2:
        single = False
    else:
        raise ModelInputError(f"expected a row of numbers or a list of rows, got {arr.ndim} dimensions")
    if n_features is not None and arr.shape[1] != n_features:
        raise ModelInputError(f"the model expects {n_features} features per row, got {arr.shape[1]}")
    return arr, single


def jsonable(value: Any) -> Any:
    """Numpy arrays, scalars and nested containers as plain lists, numbers and strings."""
    tolist = getattr(value, "tolist", None)
    if tolist is not None and not isinstance(value, (list, tuple, dict, str, bytes)):
        return tolist()  # ndarray -> nested lists; numpy scalar -> Python scalar
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (str, int, float, bool)) else k: jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
