"""Model nodes' reference files: where they are, whether they can be read, their hash.

A model node's ``reference = "train.csv"`` is relative to the graph file, like its
``impl``. The EARG document records the path and, where the file is found, its
sha256, so a document says which data its drift was measured against.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["REFERENCE_SUFFIXES", "reference_paths", "reference_problem", "with_reference_hashes"]

REFERENCE_SUFFIXES = (".csv", ".npy", ".npz", ".parquet")


def reference_paths(doc: Mapping[str, Any]) -> dict[str, str]:
    """``{node: path}`` of every model node with a reference in an EARG document."""
    out = {}
    for node in doc.get("nodes") or []:
        ref = (node.get("quality") or {}).get("reference")
        if ref:
            out[node["name"]] = ref["path"]
    return out


def _full(path: str, base_dir: str | Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else Path(base_dir) / p


def reference_problem(path: str, base_dir: str | Path) -> str | None:
    """Why the reference at ``path`` could not be read, or None."""
    full = _full(path, base_dir)
    suffix = full.suffix.lower()
    if suffix not in REFERENCE_SUFFIXES:
        return (f"reference {path!r}: unknown file type {full.suffix or '(none)'!r}; expected one of "
                f"{', '.join(REFERENCE_SUFFIXES)}")
    if suffix == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        return f"reference {path!r}: reading .parquet needs pyarrow (pip install pyarrow), or use .csv, .npy or .npz"
    if not full.is_file():
        return f"reference {path!r}: no such file {str(full)!r}"
    return None


def with_reference_hashes(doc: Mapping[str, Any], base_dir: str | Path) -> dict[str, Any]:
    """``doc`` with ``quality.reference.sha256`` of each model node filled (None where
    the file is not found); the nodes that change are new dicts, ``doc`` is untouched."""
    nodes = []
    for node in doc.get("nodes") or []:
        quality = node.get("quality") or {}
        ref = quality.get("reference")
        if ref:
            full = _full(ref["path"], base_dir)
            digest = None
            if full.is_file():
                with open(full, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
            node = {**node, "quality": {**quality, "reference": {**ref, "sha256": digest}}}
        nodes.append(node)
    return {**doc, "nodes": nodes} if "nodes" in doc else dict(doc)
