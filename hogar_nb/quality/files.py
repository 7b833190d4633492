"""Reference files: ``.csv``, ``.npy``, ``.npz`` and (with pyarrow) ``.parquet``.

A file is read once, summarised into a :class:`~.reference.Reference` and dropped.
Columns are the features: a CSV's header names them, a ``.npy`` matrix's columns are
``x0, x1, ...``; a ``.npz`` holds the matrix as ``X`` (or its only array), optional
``feature_names`` and optional model ``outputs`` for the same rows.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ReferenceDataError
from .reference import Reference, output_columns

__all__ = ["REFERENCE_SUFFIXES", "file_sha256", "load_reference", "parquet_available"]

REFERENCE_SUFFIXES = (".csv", ".npy", ".npz", ".parquet")


def parquet_available() -> bool:
    """Whether pyarrow is installed (``.parquet`` references need it)."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def file_sha256(path: Path) -> str:
    """The hex sha256 of the file's content, read in chunks."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def load_reference(path: str | Path, base_dir: str | Path | None = None, **summary: Any) -> Reference:
    """Read and summarise the reference at ``path`` (relative to ``base_dir``, the graph
    file's folder, like a model's ``impl``). ``summary``: ``bins``, ``sample_size``."""
    full = Path(path)
    if not full.is_absolute() and base_dir is not None:
        full = Path(base_dir) / full
    suffix = full.suffix.lower()
    if suffix not in REFERENCE_SUFFIXES:
        raise ReferenceDataError(f"reference {str(path)!r}: unknown file type {full.suffix or '(none)'!r}; "
                              f"expected one of {', '.join(REFERENCE_SUFFIXES)}")
    if suffix == ".parquet" and not parquet_available():
        raise ReferenceDataError(f"reference {str(path)!r}: reading .parquet needs pyarrow "
                              "(pip install pyarrow), or give a .csv, .npy or .npz file")
    if not full.is_file():
        raise ReferenceDataError(f"reference {str(path)!r}: no such file {str(full)!r}")
    try:
        columns, outputs = _READERS[suffix](full)
    except ReferenceDataError:
        raise
    except Exception as exc:  # a damaged file: numpy, csv or pyarrow says why
        raise ReferenceDataError(f"reference {str(path)!r} could not be read: {type(exc).__name__}: {exc}") from None
    if not columns or not any(len(v) for v in columns.values()):
        raise ReferenceDataError(f"reference {str(path)!r} holds no rows")
    return Reference.from_columns(columns, outputs, str(path), file_sha256(full), **summary)


Columns = dict[str, list[Any]]


def _csv(path: Path) -> tuple[Columns, Columns | None]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ReferenceDataError(f"reference {path.name!r} is empty")
        columns: Columns = {name.strip() or f"x{i}": [] for i, name in enumerate(header)}
        names = list(columns)
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(names):
                raise ReferenceDataError(f"reference {path.name!r} line {line}: {len(row)} values; "
                                      f"the header names {len(names)} columns")
            for name, cell in zip(names, row):
                columns[name].append(_cell(cell))
    return columns, None


def _cell(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _matrix_columns(arr: np.ndarray, names: list[str] | None) -> Columns:
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ReferenceDataError(f"expected a 1-D or 2-D array of rows; got shape {arr.shape}")
    return {(names[i] if names and i < len(names) else f"x{i}"): arr[:, i].tolist() for i in range(arr.shape[1])}


def _npy(path: Path) -> tuple[Columns, Columns | None]:
    return _matrix_columns(np.load(path, allow_pickle=False), None), None


def _npz(path: Path) -> tuple[Columns, Columns | None]:
    with np.load(path, allow_pickle=False) as data:
        keys = list(data.keys())
        key = "X" if "X" in keys else (keys[0] if len(keys) == 1 else None)
        if key is None:
            raise ReferenceDataError(f"reference {path.name!r}: name the input matrix X (arrays: {', '.join(keys)})")
        names = [str(n) for n in data["feature_names"]] if "feature_names" in keys else None
        columns = _matrix_columns(data[key], names)
        outputs = output_columns(data["outputs"].tolist()) if "outputs" in keys else None
    return columns, outputs


def _parquet(path: Path) -> tuple[Columns, Columns | None]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return {name: table.column(name).to_pylist() for name in table.column_names}, None


_READERS = {".csv": _csv, ".npy": _npy, ".npz": _npz, ".parquet": _parquet}

