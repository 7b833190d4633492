"""Reference files of every supported type, summarised; bad ones get a diagnostic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from hogar_nb.errors import HogarError
from hogar_nb.quality.errors import ReferenceDataError
from hogar_nb.quality.files import file_sha256, load_reference, parquet_available

X = np.random.default_rng(7).normal(size=(300, 3))


def _csv(path: Path) -> Path:
    lines = ["sepal,petal,colour"] + [f"{float(a)!r},{float(b)!r},{'red' if c > 0 else 'blue'}" for a, b, c in X]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_csv_reference_names_features_by_its_header(tmp_path: Path) -> None:
    ref = load_reference("train.csv", base_dir=_csv(tmp_path / "train.csv").parent)
    assert ref.names == ["sepal", "petal", "colour"]
    assert [f.kind for f in ref.features.values()] == ["numeric", "numeric", "categorical"]
    assert ref.features["sepal"].count == 300
    assert ref.features["sepal"].mean == pytest.approx(X[:, 0].mean())
    assert ref.features["colour"].categories == {"red": int((X[:, 2] > 0).sum()), "blue": int((X[:, 2] <= 0).sum())}
    assert ref.sha256 == hashlib.sha256((tmp_path / "train.csv").read_bytes()).hexdigest()
    assert ref.source == "train.csv"


def test_npy_and_npz_references(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", X)
    ref = load_reference(tmp_path / "x.npy")
    assert ref.names == ["x0", "x1", "x2"] and ref.outputs == {}
    np.savez(tmp_path / "x.npz", X=X, feature_names=np.array(["a", "b", "c"]), outputs=(X[:, 0] > 0).astype(int))
    ref = load_reference(tmp_path / "x.npz")
    assert ref.names == ["a", "b", "c"]
    assert ref.outputs["output"].kind == "numeric" and ref.outputs["output"].count == 300
    assert ref.sha256 == file_sha256(tmp_path / "x.npz")


def test_parquet_needs_pyarrow_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    if parquet_available():
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1]}), path)
        assert load_reference(path).names == ["a", "b"]
    else:
        path.write_bytes(b"PAR1")
        with pytest.raises(ReferenceDataError, match="needs pyarrow"):
            load_reference(path)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("train.txt", "1,2\n", "unknown file type '.txt'"),
    ("ragged.csv", "a,b\n1,2\n3\n", "line 3: 1 values; the header names 2 columns"),
    ("empty.csv", "", "is empty"),
    ("header.csv", "a,b\n", "holds no rows"),
    ("bad.npy", "not numpy", "could not be read"),
])
def test_a_bad_reference_is_a_diagnostic(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(HogarError, match=message):
        load_reference(tmp_path / name)


def test_a_missing_reference_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="no such file"):
        load_reference("nowhere.csv", base_dir=tmp_path)
