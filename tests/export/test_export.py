"""`hogar export`: Ray Serve configs checked with Ray's own schema, KServe manifests
checked against the KServe CRDs' OpenAPI schemas, diagnostics for what cannot be expressed."""

from __future__ import annotations

import os

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hogar_nb.cli import main
from hogar_nb.export.kserve_schema import validate_manifest

CASES = Path(__file__).resolve().parent.parent / "core" / "cases"
DESIGN = CASES / "valid" / "design_example.udgl"

# Models only, routed every way KServe can: chain, ensemble (concat), split, switch-free.
KSERVE_OK = """\
graph scoring
source ingest { route = "/score" }
model prep  { impl = "s3://models/prep.joblib", cpu = 0.5, memory = 256MiB, timeout = 2s }
model a     { impl = "s3://models/a.onnx", replicas = 2, gpu = 1, batch = 16, batch_wait = 5ms, timeout = 1s }
model b     { impl = "models/b.ubj", timeout = 1s }
ensemble both { combine = concat }
split canary
model c1 { impl = "s3://models/c1.joblib", timeout = 1s }
model c2 { impl = "s3://models/c2.joblib", timeout = 1s }
sink out
ingest -> prep -> [a, b] -> both -> canary
canary -> c1 { weight = 80% }
canary -> c2 { weight = 20% }
c1 -> out
c2 -> out
"""


def _export(tmp_path: Path, text: str, target: str, *extra: str, capsys) -> tuple[int, list[dict], str]:
    src = tmp_path / "g.udgl"
    src.write_text(text)
    out = tmp_path / "out.yaml"
    code = main(["export", str(src), "--to", target, "-o", str(out), *extra])
    err = capsys.readouterr().err
    docs = list(yaml.safe_load_all(out.read_text())) if out.exists() else []
    return code, docs, err


def test_kserve_graph_and_services_validate_against_the_crds(tmp_path, capsys) -> None:
    code, docs, err = _export(tmp_path, KSERVE_OK, "kserve", "--storage-prefix", "s3://bucket/m",
                              "--validate", capsys=capsys)
    assert code == 0, err
    graph, *services = docs
    for doc in docs:
        assert validate_manifest(doc) == []
    assert f"{len(docs)} manifests valid against KServe's CRD schemas" in err  # --validate says it passed
    assert "out.yaml; apply it with `kubectl apply -f" in err  # and what to do next
    assert graph["kind"] == "InferenceGraph" and graph["metadata"]["name"] == "scoring"
    nodes = graph["spec"]["nodes"]
    assert [s.get("serviceName") or s.get("nodeName") for s in nodes["root"]["steps"]] == [
        "scoring-prep", "both", "canary"]
    assert nodes["root"]["steps"][0]["data"] == "$request"
    assert nodes["both"]["routerType"] == "Ensemble"
    assert sorted(s["serviceName"] for s in nodes["both"]["steps"]) == ["scoring-a", "scoring-b"]
    assert nodes["canary"]["routerType"] == "Splitter"
    assert sorted((s["serviceName"], s["weight"]) for s in nodes["canary"]["steps"]) == [
        ("scoring-c1", 80), ("scoring-c2", 20)]
    by_name = {s["metadata"]["name"]: s["spec"]["predictor"] for s in services}
    assert sorted(by_name) == ["scoring-a", "scoring-b", "scoring-c1", "scoring-c2", "scoring-prep"]
    a = by_name["scoring-a"]
    assert a["minReplicas"] == 2 and a["maxReplicas"] == 2
    assert a["batcher"] == {"maxBatchSize": 16, "maxLatency": 5}
    assert a["model"]["modelFormat"] == {"name": "onnx"}
    assert a["model"]["storageUri"] == "s3://models/a.onnx"
    assert a["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    prep = by_name["scoring-prep"]["model"]
    assert prep["resources"]["requests"] == {"cpu": "500m", "memory": "256Mi"}
    assert by_name["scoring-b"]["model"] == {
        "modelFormat": {"name": "xgboost"}, "protocolVersion": "v2", "storageUri": "s3://bucket/m/b",
        "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}}
    assert "W721" in err and "error" not in err


def test_kserve_reports_what_it_cannot_express_at_file_line_col(capsys) -> None:
    code = main(["export", str(DESIGN), "--to", "kserve"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    err = captured.err
    assert f"{DESIGN}:10:22: error[E711]: KServe: node 'features', attribute `impl`: a python node" in err
    assert f"{DESIGN}:13:22: error[E720]: KServe: node 'blend', attribute `combine`: `combine = mean`" in err
    assert f"{DESIGN}:13:38: error[E720]: KServe: node 'blend', attribute `weights`" in err
    assert f"{DESIGN}:14:22: error[E723]: KServe: node 'gate', attribute `impl`" in err
    assert f"{DESIGN}:11:22: error[E715]: KServe: node 'xgb', attribute `impl`: no KServe model format" in err
    assert "cannot express this graph; nothing written" in err.splitlines()[-1]


def test_kserve_schema_check_catches_a_broken_manifest() -> None:
    good = {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "InferenceGraph",
            "metadata": {"name": "g"}, "spec": {"nodes": {"root": {"routerType": "Sequence", "steps": []}}}}
    assert validate_manifest(good) == []
    bad_router = {**good, "spec": {"nodes": {"root": {"routerType": "Chain"}}}}
    assert any("spec.nodes.root.routerType" in p for p in validate_manifest(bad_router))
    unknown = {**good, "spec": {"nodes": {"root": {"routerType": "Sequence", "stepz": []}}}}
    assert any("stepz" in p for p in validate_manifest(unknown))
    assert any("metadata.name" in p for p in validate_manifest({**good, "metadata": {"name": "Bad_Name"}}))


def test_ray_serve_config_is_valid_for_rays_own_schema(tmp_path, capsys) -> None:
    from ray.serve.schema import ServeDeploySchema

    code, docs, err = _export(tmp_path, DESIGN.read_text(), "ray-serve", "--port", "8123", capsys=capsys)
    assert code == 0, err
    (doc,) = docs
    ServeDeploySchema.model_validate(doc)
    (app,) = doc["applications"]
    assert app["import_path"] == "hogar_nb.backends.ray.app:build_app"
    assert app["args"]["routes"] == {"ingest": "/score"}
    assert app["args"]["earg"]["name"] == "fraud_scoring"
    deps = {d["name"]: d for d in app["deployments"]}
    assert sorted(deps) == ["features", "gate", "nn", "review_v2", "xgb"]
    assert deps["xgb"]["num_replicas"] == 4
    assert all("replicas" not in n for n in app["args"]["earg"]["nodes"])  # said once, in deployments
    placement = app["args"]["earg"]["placement"]
    nn_workers = sorted({w for rid, w in placement.items() if rid.startswith("nn/")})
    nn_selector = nn_workers[0] if len(nn_workers) == 1 else f"in({','.join(nn_workers)})"
    assert deps["nn"]["ray_actor_options"] == {  # pinned where the graph's placement put them
        "num_cpus": 1.0, "num_gpus": 1.0, "memory": 4 << 30, "label_selector": {"hogar-worker": nn_selector},
        "fallback_strategy": [{"label_selector": {}}]}
    assert "g.udgl" in err and "warning[W704]" in err and "hogar-worker=worker-0" in err
    assert deps["features"]["user_config"] == {"batch_size": 32, "batch_wait_s": 0.005}
    assert doc["http_options"] == {"host": "127.0.0.1", "port": 8123}
    assert "g.udgl:12:11: warning[W701]: Ray Serve: node 'nn', attribute `memory`" in err


def test_ray_serve_export_refuses_notebook_functions(tmp_path, capsys) -> None:
    text = "source s\npython f { impl = \"my_function\" }\nsink o\ns -> f -> o\n"
    code, docs, err = _export(tmp_path, text, "ray-serve", capsys=capsys)
    assert code == 1 and docs == []
    assert "g.udgl:2:12: error[E701]: Ray Serve: node 'f', attribute `impl`" in err


def test_export_of_an_earg_file_places_diagnostics_on_the_node(tmp_path, capsys) -> None:
    earg = tmp_path / "g.yaml"
    assert main(["compile", str(DESIGN), "-o", str(earg)]) == 0
    capsys.readouterr()
    assert main(["export", str(earg), "--to", "kserve"]) == 1
    lines = earg.read_text().split("\n")
    err = capsys.readouterr().err
    first = next(line for line in err.splitlines() if "node 'features'" in line)
    line_no = int(first.split(":")[1])
    assert "features" in lines[line_no - 1]


def test_export_cli_misuse_and_bad_files(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["export", str(DESIGN), "--to", "docker"])
    assert exc.value.code == 2
    bad = tmp_path / "bad.udgl"
    bad.write_text("source s\nsink o\ns -> nowhere\n")
    assert main(["export", str(bad), "--to", "kserve"]) == 1
    assert f"{bad}:3:6: error[E011]" in capsys.readouterr().err


@given(st.binary(max_size=200))
def test_export_never_crashes_on_garbage(tmp_path_factory, data) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "g.udgl"
    path.write_bytes(data)
    for target in ("kserve", "ray-serve"):
        assert main(["export", str(path), "--to", target, "-o", str(path.with_suffix(".out"))]) in (0, 1)


def test_export_warns_when_replicas_ask_for_more_cpus_than_the_machine_has(tmp_path, capsys) -> None:
    cpus = os.cpu_count()
    text = f'source s\npython f {{ impl = "m:f", cpu = 2, replicas = {cpus} }}\nsink o\ns -> f -> o\n'
    code, docs, err = _export(tmp_path, text, "ray-serve", capsys=capsys)
    assert code == 0 and docs
    assert (f"warning[W705]: Ray Serve: graph, attribute `cpu`: the replicas ask for {2 * cpus} CPUs in all, and this machine "
            f"has {cpus} while the graph declares no `cluster`") in err
    assert "out.yaml; run it with `serve run" in err
    fits = text.replace("cpu = 2", "cpu = 1")
    assert "W705" not in _export(tmp_path, fits, "ray-serve", capsys=capsys)[2]


def test_kserve_model_repository_layout_protocol_and_notebook_params(tmp_path, capsys) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "nn.onnx").write_bytes(b"onnx bytes")
    (tmp_path / "models" / "clf.joblib").write_bytes(b"joblib bytes")
    text = ('source s\nmodel nn { impl = "models/nn.onnx", replicas = $workers }\n'
            'model clf { impl = "models/clf.joblib" }\nsink o\ns -> nn -> clf -> o\n')
    _code, _docs, err = _export(tmp_path, text, "kserve", capsys=capsys)
    assert "error[E023]: parameter `$workers` is not defined" in err  # a notebook's name, not given
    _code, _docs, err = _export(tmp_path, text, "kserve", "--param", "workers=3", capsys=capsys)
    assert "W716" in err and "--model-repository DIR" in err
    repo = tmp_path / "repo"
    code, docs, err = _export(tmp_path, text, "kserve", "--param", "workers=3", "--storage-prefix",
                              "s3://bucket/fraud", "--model-repository", str(repo), "--validate", capsys=capsys)
    assert code == 0, err
    assert "W001" not in err  # `$workers` is the graph's: the value given binds it
    services = {d["metadata"]["name"]: d["spec"]["predictor"] for d in docs if d["kind"] == "InferenceService"}
    assert services["g-nn"]["minReplicas"] == 3
    assert services["g-nn"]["model"]["storageUri"] == "s3://bucket/fraud/nn"  # a directory per model
    assert services["g-clf"]["model"]["storageUri"] == "s3://bucket/fraud/clf"
    assert {s["model"]["protocolVersion"] for s in services.values()} == {"v2"}  # ONNX needs it on KServe
    assert (repo / "nn" / "model.onnx").read_bytes() == b"onnx bytes"
    assert (repo / "clf" / "model.joblib").read_bytes() == b"joblib bytes"


def test_kserve_export_of_a_graph_that_runs_nothing_is_an_error(tmp_path, capsys) -> None:
    code, docs, err = _export(tmp_path, "source s\nsink o\ns -> o\n", "kserve", capsys=capsys)
    assert code == 1 and docs == []
    assert "error[E726]: KServe: node 's': the graph runs nothing" in err


AUTO = {
    "kserve": KSERVE_OK.replace(
        'model b     { impl = "models/b.ubj", timeout = 1s }',
        'model b     { impl = "models/b.ubj", timeout = 1s, replicas = auto(min = 2, max = 6), '
        'target_ongoing = 1.5, scale_up_delay = 500ms, scale_down_delay = 20s }'),
    "ray-serve": DESIGN.read_text().replace(
        'model     xgb      { impl = "models/xgb.json", replicas = 4 }',
        'model     xgb      { impl = "models/xgb.json", replicas = auto(min = 2, max = 6), '
        'target_ongoing = 3, scale_up_delay = 500ms, scale_down_delay = 20s }'),
}


def test_ray_serve_export_writes_the_autoscaling_config(tmp_path, capsys) -> None:
    from ray.serve.schema import ServeDeploySchema

    assert "auto(" in AUTO["ray-serve"]
    code, docs, err = _export(tmp_path, AUTO["ray-serve"], "ray-serve", capsys=capsys)
    assert code == 0, err
    (doc,) = docs
    schema = ServeDeploySchema.model_validate(doc)
    deps = {d["name"]: d for d in doc["applications"][0]["deployments"]}
    assert "num_replicas" not in deps["xgb"]
    assert deps["xgb"]["autoscaling_config"] == {
        "min_replicas": 2, "initial_replicas": 2, "max_replicas": 6, "target_ongoing_requests": 3.0,
        "upscale_delay_s": 0.5, "downscale_delay_s": 20.0}
    assert deps["xgb"]["max_ongoing_requests"] >= 6
    checked = {d.name: d for d in schema.applications[0].deployments}
    assert checked["xgb"].autoscaling_config["upscale_delay_s"] == 0.5
    assert deps["features"]["num_replicas"] == 2


def test_kserve_export_writes_min_max_and_the_concurrency_target(tmp_path, capsys) -> None:
    assert "auto(" in AUTO["kserve"]
    code, docs, err = _export(tmp_path, AUTO["kserve"], "kserve", "--storage-prefix", "s3://bucket/m",
                              "--validate", capsys=capsys)
    assert code == 0, err
    _graph, *services = docs
    for doc in docs:
        assert validate_manifest(doc) == []
    b = next(s for s in services if s["metadata"]["name"] == "scoring-b")
    pred = b["spec"]["predictor"]
    assert (pred["minReplicas"], pred["maxReplicas"], pred["scaleMetric"], pred["scaleTarget"]) == \
        (2, 6, "concurrency", 2)
    assert b["metadata"]["annotations"] == {"autoscaling.knative.dev/scale-down-delay": "20s"}
    assert "warning[W727]: KServe: node 'b', attribute `target_ongoing`" in err
    assert "warning[W727]: KServe: node 'b', attribute `scale_up_delay`" in err
