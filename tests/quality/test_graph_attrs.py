"""A model node's quality attributes: UDGL, EARG (with the reference's hash) and the
check before start."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

import hogar_nb
from hogar_nb.errors import UDGLError

GRAPH = """graph iris
source a
model clf {{ impl = "m.joblib", reference = "{ref}", drift_window = 500, drift_metric = ks,
             drift_threshold = 0.01, feedback = true, feedback_horizon = 2h, task = classification }}
sink b
a -> clf -> b
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    import joblib

    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=500).fit(x, y), tmp_path / "m.joblib")
    (tmp_path / "train.csv").write_text("a,b,c,d\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n")
    return tmp_path


def test_the_attributes_round_trip_through_earg() -> None:
    graph = hogar_nb.parse_udgl(GRAPH.format(ref="train.csv"))
    doc = graph.to_earg()
    assert doc["nodes"][1]["quality"] == {
        "reference": {"path": "train.csv"}, "drift_window": 500, "drift_metric": "ks", "drift_threshold": 0.01,
        "feedback": True, "feedback_horizon_ms": 7_200_000.0, "task": "classification"}
    text = hogar_nb.dump_earg(graph)
    assert hogar_nb.dump_earg(hogar_nb.loads_earg(text)) == text
    assert hogar_nb.dump_earg(hogar_nb.parse_udgl(hogar_nb.loads_earg(text).to_udgl())) == text


def test_bad_values_are_diagnostics() -> None:
    with pytest.raises(UDGLError) as err:
        hogar_nb.parse_udgl('source a\nmodel m { impl = "x.onnx", drift_metric = kss, drift_window = 3 }\n'
                            'python p { impl = "a:b", reference = "r.csv" }\nsink b\na -> m -> p -> b\n')
    text = str(err.value.diagnostics)
    assert "did you mean `ks`" in "\n".join(d.hint or "" for d in err.value.diagnostics)
    assert "drift_window" in text and "reference" in text


def test_compile_records_the_reference_hash(folder: Path) -> None:
    (folder / "g.udgl").write_text(GRAPH.format(ref="train.csv"))
    out = subprocess.run([sys.executable, "-m", "hogar_nb", "compile", "g.udgl", "--format", "json"], cwd=folder,
                         capture_output=True, text=True, check=True).stdout
    doc = hogar_nb.loads_earg(out).to_earg()  # the schema accepts it
    assert doc["nodes"][1]["quality"]["reference"]["path"] == "train.csv"
    expected = hashlib.sha256((folder / "train.csv").read_bytes()).hexdigest()
    assert f'"sha256": "{expected}"' in out


def test_a_deployment_records_the_hash_and_check_names_a_bad_reference(folder: Path) -> None:
    graph = hogar_nb.parse_udgl(GRAPH.format(ref="train.csv"))
    with hogar_nb.run(graph, base_dir=folder) as dep:
        ref = dep.earg["nodes"][1]["quality"]["reference"]
        assert ref["sha256"] == hashlib.sha256((folder / "train.csv").read_bytes()).hexdigest()
    for name, message in [("missing.csv", "no such file"), ("train.xlsx", "unknown file type '.xlsx'")]:
        (folder / "g.udgl").write_text(GRAPH.format(ref=name))
        res = subprocess.run([sys.executable, "-m", "hogar_nb", "check", "--strict", "g.udgl"], cwd=folder,
                             capture_output=True, text=True)
        assert res.returncode == 1 and message in res.stderr and "Traceback" not in res.stderr
