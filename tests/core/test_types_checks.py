"""Type checks over a corpus of graphs built from real models trained at test time:
every mismatch kind is reported once, naming both ends and both types; valid graphs
get no diagnostic at all; pickles are read only when asked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typed_models import build_models, trap_pickle

from hogar_nb.core.types import check_types, infer_types, node_types
from hogar_nb.core.udgl import compile_udgl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    return build_models(tmp_path_factory.mktemp("typed-models"))


def _graph(text: str, folder: Path):
    graph, diags = compile_udgl(text, base_dir=folder)
    assert graph is not None, diags
    return graph, diags


VALID = {
    "scaler_then_classifier": """
source ingest { input = float32[n, 4] }
model scale { impl = "scaler.joblib", method = transform }
model clf { impl = "clf.joblib", method = predict_proba }
sink out
ingest -> scale -> clf -> out
""",
    "mean_of_probabilities": """
source ingest { input = float32[n, 4] }
model lr { impl = "clf.onnx", method = predict_proba }
model xg { impl = "xgb.json", method = predict_proba }
ensemble blend { combine = mean }
sink out
ingest -> [lr, xg] -> blend -> out
""",
    "concat_then_declared_width": """
source ingest { input = float32[n, 4] }
model lr { impl = "clf_plain.onnx", method = predict_proba }
model xg { impl = "xgb.ubj", method = predict_proba }
ensemble wide { combine = concat }
python post { impl = "m:f", input = float32[n, 6], output = float32[n] }
sink out
ingest -> [lr, xg] -> wide -> post -> out
""",
    "vote_on_labels": """
source ingest { input = float32[n, 4] }
model a { impl = "clf.onnx" }
model b { impl = "xgb.json" }
model c { impl = "clf.joblib" }
ensemble votes { combine = vote }
sink out
ingest -> [a, b, c] -> votes -> out
""",
    "switch_arms_agree": """
source ingest { input = float32[n, 3] }
switch gate { impl = "m:route" }
model forest { impl = "forest3.onnx" }
model ridge { impl = "ridge3.pkl" }
sink out
ingest -> gate
gate -> forest { when = "a" }
gate -> ridge { when = "b" }
[forest, ridge] -> out
""",
    "untyped_python_stops_quietly": """
source ingest { input = float32[n, 4] }
python anything { impl = "m:f" }
model reg { impl = "xgbreg.json" }
sink out
ingest -> anything -> reg -> out
""",
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_graphs_get_no_diagnostic_at_all(models: Path, name: str) -> None:
    graph, diags = _graph(VALID[name], models)
    assert diags == []
    assert check_types(graph, load_models=True) == []


# (text, load_models, [(code, consumer, producer, words in the message, words in the hint)])
MISMATCHES = {
    "feature_count": ("""
source ingest { input = float32[n, 4] }
model forest { impl = "forest3.onnx" }
sink out
ingest -> forest -> out
""", False, [("E081", "forest", "ingest", "`forest` expects float32[n, 3] but `ingest` produces float32[n, 4]",
              "takes 3 columns")]),
    "feature_count_pickled": ("""
source ingest { input = float32[n, 4] }
model ridge { impl = "ridge3.pkl" }
sink out
ingest -> ridge -> out
""", True, [("E081", "ridge", "ingest", "`ridge` expects number[n, 3] but `ingest` produces float32[n, 4]", None)]),
    "labels_instead_of_probabilities": ("""
source ingest { input = float32[n, 4] }
model clf { impl = "clf.onnx" }
python post { impl = "m:f", input = float32[n, 3] }
sink out
ingest -> clf -> post -> out
""", False, [("E081", "post", "clf", "`post` expects float32[n, 3] but `clf` produces int64[n]",
              "did you mean method = predict_proba on `clf`")]),
    "datatype": ("""
source ingest { input = bytes[n, 4] }
model clf { impl = "clf.onnx" }
sink out
ingest -> clf -> out
""", False, [("E081", "clf", "ingest", "`clf` expects float32[n, 4] but `ingest` produces bytes[n, 4]", None)]),
    "ensemble_members": ("""
source ingest { input = float32[n, 4] }
model lr { impl = "clf.onnx", method = predict_proba }
model reg { impl = "xgbreg.json" }
ensemble blend { combine = mean }
sink out
ingest -> [lr, reg] -> blend -> out
""", False, [("E083", "blend", "reg", "gets float32[n, 3] from `lr` but float32[n] from `reg`", None)]),
    "switch_arms": ("""
source ingest { input = float32[n, 4] }
switch gate { impl = "m:route" }
model lr { impl = "clf.onnx", method = predict_proba }
model xg { impl = "xgb.json" }
sink out
ingest -> gate
gate -> lr { when = "a" }
gate -> xg { when = "b" }
[lr, xg] -> out
""", False, [("E082", "out", "xg", "`out` receives float32[n, 3] from `lr` but int64[n] from `xg`", None)]),
    "concat_widths": ("""
source ingest { input = float32[n, 4] }
model lr { impl = "clf.onnx", method = predict_proba }
model xg { impl = "xgb.json", method = predict_proba }
ensemble wide { combine = concat }
python post { impl = "m:f", input = float32[n, 5] }
sink out
ingest -> [lr, xg] -> wide -> post -> out
""", False, [("E081", "post", "wide", "`post` expects float32[n, 5] but `wide` produces float32[n, 6]", None)]),
    "concat_ranks": ("""
source ingest { input = float32[n, 4] }
model lr { impl = "clf.onnx", method = predict_proba }
model xg { impl = "xgb.json" }
ensemble wide { combine = concat }
sink out
ingest -> [lr, xg] -> wide -> out
""", False, [("E084", "wide", "xg", "cannot join float32[n, 3] from `lr` and int64[n] from `xg`", "last axis")]),
    "vote_on_probabilities": ("""
source ingest { input = float32[n, 4] }
model a { impl = "clf.onnx" }
model b { impl = "xgb.json", method = predict_proba }
ensemble votes { combine = vote }
sink out
ingest -> [a, b] -> votes -> out
""", False, [("E085", "votes", "b", "votes on labels but `b` produces float32[n, 3]",
              "did you mean method = predict on `b`")]),
    "declared_against_artifact": ("""
source ingest
model clf { impl = "clf.onnx", input = float32[n, 5] }
sink out
ingest -> clf -> out
""", False, [("E086", "clf", None, "declared to take float32[n, 5] but its model takes float32[n, 4]", None)]),
}


@pytest.mark.parametrize("name", sorted(MISMATCHES))
def test_each_mismatch_is_one_diagnostic_naming_both_ends(models: Path, name: str) -> None:
    text, load_models, expected = MISMATCHES[name]
    graph, diags = _graph(text, models)
    found = check_types(graph, load_models=True) if load_models else [d for d in diags if d.code.startswith("E08")]
    assert [d.code for d in found] == [e[0] for e in expected]
    for d, (_code, consumer, producer, words, hint) in zip(found, expected):
        assert d.node == consumer and words in d.message
        if producer is not None:
            assert d.edge == (producer, consumer) and f"`{producer}`" in d.message
            assert d.line is not None  # at the edge, in the text
        if hint is not None:
            assert hint in (d.hint or "")
    if load_models:
        assert not [d for d in diags if d.code.startswith("E08")]  # a pickle is read only when asked


def test_node_types_table_from_the_graph_and_from_its_earg(models: Path) -> None:
    graph, _ = _graph(VALID["mean_of_probabilities"], models)
    table = node_types(graph)
    assert {n: (str(t.input), str(t.output), t.origin) for n, t in table.items()} == {
        "ingest": ("float32[n, 4]", "float32[n, 4]", "declared"),
        "lr": ("float32[n, 4]", "float32[n, 3]", "onnx"),
        "xg": ("number[n, 4]", "float32[n, 3]", "xgboost"),
        "blend": ("float32[n, 3]", "float32[n, 3]", None),
        "out": ("float32[n, 3]", "float32[n, 3]", None),
    }
    doc = graph.to_earg()
    assert doc["nodes"][1]["types"] == {"input": "float32[n, 4]", "output": "float32[n, 3]", "origin": "onnx"}
    assert node_types(doc) == table  # the recorded types, read back
    assert infer_types(doc, models).nodes == table  # or inferred again from the document


def test_the_earg_schema_describes_the_recorded_types(models: Path) -> None:
    import jsonschema

    from hogar_nb.core.earg import earg_schema

    doc = _graph(VALID["concat_then_declared_width"], models)[0].to_earg()
    jsonschema.validate(doc, earg_schema())
    node = earg_schema()["$defs"]["node"]["properties"]
    assert {"input", "output", "types"} <= set(node)


def test_lint_never_reads_a_pickle_and_check_reads_it_when_asked(models: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pickle-was-read"
    trap = trap_pickle(tmp_path / "trap.joblib", marker)
    text = f'source ingest {{ input = float32[n, 4] }}\nmodel m {{ impl = "{trap}" }}\nsink out\ningest -> m -> out\n'
    from hogar_nb.jupyter.server.service import lint

    assert lint(text)["errors"] == 0
    graph, _ = _graph(text, tmp_path)
    graph.analyze()
    graph.to_earg()
    assert not marker.exists()
    (tmp_path / "g.udgl").write_text(text)
    run = subprocess.run([sys.executable, "-m", "hogar_nb", "check", str(tmp_path / "g.udgl")],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0 and not marker.exists(), run.stderr
    subprocess.run([sys.executable, "-m", "hogar_nb", "check", "--load-models", str(tmp_path / "g.udgl")],
                   capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert marker.exists()


def test_check_load_models_reports_what_only_a_pickle_reveals(models: Path, tmp_path: Path) -> None:
    path = tmp_path / "g.udgl"
    path.write_text(MISMATCHES["feature_count_pickled"][0].replace('"ridge3.pkl"', f'"{models / "ridge3.pkl"}"'))
    plain = subprocess.run([sys.executable, "-m", "hogar_nb", "check", str(path)],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert plain.returncode == 0, plain.stderr
    loaded = subprocess.run([sys.executable, "-m", "hogar_nb", "check", "--load-models", str(path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert loaded.returncode == 1
    assert "error[E081]: `ridge` expects number[n, 3] but `ingest` produces float32[n, 4]" in loaded.stderr


def test_the_check_before_start_reads_pickles_and_refuses_a_mismatch(models: Path) -> None:
    from hogar_nb import run
    from hogar_nb.runtime.errors import DeploymentConfigError

    graph, diags = _graph(MISMATCHES["feature_count_pickled"][0], models)
    assert diags == []
    with pytest.raises(DeploymentConfigError, match=r"E081.*`ridge` expects number\[n, 3\]"):
        run(graph, base_dir=models)


def test_analyze_lists_each_edge_type(models: Path) -> None:
    graph, _ = _graph(VALID["concat_then_declared_width"], models)
    analysis = graph.analyze()
    assert ("wide", "post", "float32[n, 6]") in analysis.edge_types
    assert "lr -> wide" in analysis.summary() and "float32[n, 6]" in analysis.summary()


def test_annotations_survive_udgl_to_earg_to_udgl(models: Path) -> None:
    from hogar_nb.core.earg import dump_earg, loads_earg

    graph, _ = _graph(VALID["concat_then_declared_width"], models)
    again = loads_earg(dump_earg(graph))
    text = again.to_udgl()
    assert "input = float32[n, 6], output = float32[n]" in text
    back, diags = _graph(text, models)
    assert diags == [] and back.to_earg() == graph.to_earg()


def test_a_typed_graph_with_a_transform_runs(models: Path) -> None:
    from hogar_nb import run

    graph, _ = _graph(VALID["scaler_then_classifier"], models)
    with run(graph, base_dir=models) as dep:
        probs = dep.call([5.1, 3.5, 1.4, 0.2], timeout=60)
        assert len(probs) == 3 and abs(sum(probs) - 1) < 1e-6 and probs[0] > 0.5


def test_a_type_may_be_a_param_and_the_caller_may_set_it(models: Path) -> None:
    text = ('param row = float32[n, 4]\nsource ingest { input = $row }\nmodel clf { impl = "clf.onnx" }\n'
            "sink out\ningest -> clf -> out\n")
    graph, diags = _graph(text, models)
    assert diags == [] and graph.to_earg()["params"] == {"row": "float32[n, 4]"}
    graph, diags = compile_udgl(text, params={"row": "float32[n, 3]"}, base_dir=models)
    assert [d.message for d in diags] == ["`clf` expects float32[n, 4] but `ingest` produces float32[n, 3]"]
