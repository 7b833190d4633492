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


ALERTS = """graph iris
source a
model clf { impl = "m.joblib", reference = "train.csv", feedback = true }
sink b
a -> clf -> b
alert drifted { when = drift_share(clf) > 0.3, for = 5m }
alert slow { when = latency_p99(graph) > 250ms, severity = critical, webhook = "http://127.0.0.1:9/hook" }
alert wrong { when = quality(clf, accuracy) < 90% }
"""


def test_alert_rules_round_trip_through_earg() -> None:
    graph = hogar_nb.parse_udgl(ALERTS)
    assert graph.check() == []
    doc = graph.to_earg()
    assert doc["alerts"] == [
        {"name": "drifted", "when": {"measure": "drift_share", "args": ["clf"], "op": ">", "value": 0.3},
         "for_ms": 300_000.0, "severity": "warning"},
        {"name": "slow", "when": {"measure": "latency_p99", "args": ["graph"], "op": ">", "value": 250.0},
         "for_ms": 0.0, "severity": "critical", "webhook": "http://127.0.0.1:9/hook"},
        {"name": "wrong", "when": {"measure": "quality", "args": ["clf", "accuracy"], "op": "<", "value": 0.9},
         "for_ms": 0.0, "severity": "warning"}]
    text = hogar_nb.dump_earg(graph)
    again = hogar_nb.loads_earg(text)
    assert hogar_nb.dump_earg(again) == text
    assert "alert drifted { when = drift_share(clf) > 0.3, for = 5m }" in again.to_udgl()
    assert hogar_nb.dump_earg(hogar_nb.parse_udgl(again.to_udgl())) == text


@pytest.mark.parametrize(("rule", "message"), [
    ("alert x { when = drift_shar(clf) > 0.3 }", "unknown measure `drift_shar`"),
    ("alert x { when = drift_share(b) > 0.3 }", "needs a model node; `b` is a sink node"),
    ("alert x { when = drift_share(nope) > 0.3 }", "names `nope`, which is not a node"),
    ("alert x { when = drift_share(clf) > 0.3, fore = 5m }", "unknown attribute `fore`"),
    ("alert x { when = latency_p99(clf) > 3 }", "compared with a duration"),
    ("alert x { for = 5m }", "alert `x` needs `when`"),
    ("alert x { when = 3 }", "must be a condition"),
    ("alert x { when = quality(clf, acc) < 0.9 }", "unknown quality metric `acc`"),
    ("alert x { when = error_rate(clf) > 1%, webhook = \"ftp://x\" }", "http:// or https:// URL"),
    ("alert x { when = drift_share(clf) > drift_share(clf) > 1 }", "compared with another comparison"),
])
def test_a_bad_rule_is_an_error_at_its_place(rule: str, message: str) -> None:
    text = 'source a\nmodel clf { impl = "m.joblib", reference = "t.csv", feedback = true }\nsink b\na -> clf -> b\n'
    with pytest.raises(UDGLError) as err:
        hogar_nb.parse_udgl(text + rule + "\n")
    assert any(message in d.message and d.line == 5 for d in err.value.diagnostics), \
        [d.message for d in err.value.diagnostics]


def test_a_rule_on_what_the_node_does_not_keep_is_a_warning() -> None:
    graph = hogar_nb.parse_udgl('source a\nmodel clf { impl = "m.joblib" }\nsink b\na -> clf -> b\n'
                                "alert x { when = drift_share(clf) > 0.3 }\n"
                                "alert y { when = quality(clf, accuracy) < 0.9 }\n")
    warnings = [d for d in graph.check() if d.code == "W050"]
    assert [d.severity for d in warnings] == ["warning", "warning"]
    assert "has a reference" in warnings[0].message and "feedback = true" in warnings[1].message
