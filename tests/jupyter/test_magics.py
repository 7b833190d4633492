"""``%%udgl`` and ``%hogar`` driven through a real IPython shell."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from hogar_nb.core.diagnostics import render_text
from hogar_nb.core.graph import Graph
from hogar_nb.core.udgl import compile_udgl
from hogar_nb.jupyter.graph_view import GraphView

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

GOOD = """\
graph demo "a small graph"
param n = 2
source in
python f { impl = double, replicas = $n }
sink out
in -> f -> out
"""

BAD = """\
source in
python f { impl = double, replicas = 0 }
sink out
in -> f -> outt
"""


def double(x):
    return 2 * x


def _widgets(outputs):
    from ipywidgets.widgets.widget import _instances  # every live widget by model id

    return [_instances[o[WIDGET_MIME]["model_id"]] for o in outputs if WIDGET_MIME in o]


def _html(outputs) -> str:
    return "\n".join(o.get("text/html", "") for o in outputs)


def test_importing_the_package_or_jupyter_layer_does_not_import_ipython() -> None:
    code = "import hogar_nb, hogar_nb.jupyter, sys; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_load_ext_registers_the_magics(ip) -> None:
    magics = ip.magics_manager.magics
    assert "udgl" in magics["cell"]
    assert "hogar" in magics["line"]


def test_good_cell_binds_the_graph_and_shows_view_and_summary(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    outputs, _, _ = run_udgl("g", GOOD)
    g = ip.user_ns["g"]
    assert isinstance(g, Graph)
    assert set(g.nodes) == {"in", "f", "out"}
    assert g.resolved("f").replicas == 2
    (view,) = _widgets(outputs)
    assert isinstance(view, GraphView) and view.graph is g


def test_good_cell_shows_the_analysis_summary(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    outputs, _, _ = run_udgl("g", GOOD)
    summary = next(o for o in outputs if "hogar-analysis" in o.get("text/html", ""))
    assert summary["text/plain"] == ip.user_ns["g"].analyze().summary()


def test_name_defaults_to_the_header_then_graph(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    run_udgl("", GOOD)
    assert isinstance(ip.user_ns["demo"], Graph)
    run_udgl("--quiet", "source a\nsink b\na -> b\n")
    assert set(ip.user_ns["graph"].nodes) == {"a", "b"}


def test_notebook_variables_fill_dollar_names_and_bare_impls(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    ip.user_ns["workers"] = 4
    run_udgl("g -q", "source in\npython f { impl = double, replicas = $workers }\nsink out\nin -> f -> out\n")
    assert ip.user_ns["g"].resolved("f").replicas == 4


def test_param_option_overrides_the_text(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    run_udgl("g -q --param n=5", GOOD)
    assert ip.user_ns["g"].resolved("f").replicas == 5


@pytest.mark.parametrize(("option", "loader"), [("--out {p}.yaml", yaml.safe_load),
                                                 ("--out {p}.json", json.loads),
                                                 ("--out {p}.txt --format json", json.loads)])
def test_out_writes_the_earg_file(ip, run_udgl, tmp_path, option, loader) -> None:
    ip.user_ns["double"] = double
    target = option.format(p=tmp_path / "g").split()[1]
    run_udgl("g -q " + option.format(p=tmp_path / "g"), GOOD)
    doc = loader(open(target).read())
    assert doc["name"] == "demo"
    assert [n["name"] for n in doc["nodes"]] == ["in", "f", "out"]


def test_errors_show_a_diagnostics_box_and_keep_the_old_binding(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    run_udgl("g -q", GOOD)
    good = ip.user_ns["g"]
    outputs, stdout, stderr = run_udgl("g", BAD)
    assert ip.user_ns["g"] is good
    assert "Traceback" not in stdout + stderr
    box = next(o for o in outputs if "hogar-diagnostics" in o.get("text/html", ""))
    # line 1 is the %%udgl line, as in the cell editor
    _, diags = compile_udgl("\n" + BAD, namespace=ip.user_ns)
    assert box["text/plain"] == render_text(diags, "\n" + BAD, "<cell>")
    assert "line 3, column 27" in box["text/html"]
    assert "   3 | python f { impl = double, replicas = 0 }" in box["text/plain"]
    assert "replicas = 0" in box["text/html"] and "^^^^" in box["text/html"]
    assert "did you mean `out`?" in box["text/html"]


def test_semantic_errors_are_marked_on_the_canvas(ip, run_udgl) -> None:
    outputs, _, _ = run_udgl("cyc", "source in\npython a { impl = \"m:a\" }\npython b { impl = \"m:b\" }\n"
                                    "sink out\nin -> a -> b -> a\nb -> out\n")
    assert "cyc" not in ip.user_ns
    (view,) = _widgets(outputs)
    shown = view.canvas.snapshot()  # what the canvas widget holds (and sends the page)
    classes = {el["data"]["id"]: el["classes"] for el in shown if "source" not in el["data"]}
    edge_classes = {(el["data"]["source"], el["data"]["target"]): el["classes"] for el in shown
                    if "source" in el["data"]}
    assert any("diag-error" in c for c in [*classes.values(), *edge_classes.values()])
    assert "diag-error" not in classes["in"]
    assert view.graph.name == "cyc"  # titled after its cell, as a good cell's view is
    assert "<b>cyc</b>" in view._header_html()


def test_syntax_errors_show_only_the_box(ip, run_udgl) -> None:
    outputs, _, _ = run_udgl("g", "source in {\nsink out\n")
    assert not _widgets(outputs)
    assert "hogar-diagnostics" in _html(outputs)


@pytest.mark.parametrize(("line", "expected"), [
    ("g --outt x.yaml", "did you mean `--out`?"),
    ("g --format xml", "invalid choice"),
    ("class", "Python identifier"),
    ("g --param nonsense", "expected NAME=VALUE"),
])
def test_bad_magic_arguments_are_usage_errors(ip, line, expected) -> None:
    with pytest.raises(UsageError, match=expected):
        ip.run_cell_magic("udgl", line, GOOD)


def test_graph_objects_display_as_the_view_once_loaded(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    run_udgl("g -q", GOOD)
    bundle, _ = ip.display_formatter.format(ip.user_ns["g"])
    assert WIDGET_MIME in bundle
    assert bundle["text/plain"].startswith("<Graph 'demo'")
    with capture_output() as cap:
        ip.run_cell("display(g)")
    assert WIDGET_MIME in cap.outputs[0].data
    ip.run_line_magic("unload_ext", "hogar_nb")
    try:
        assert WIDGET_MIME not in ip.display_formatter.format(ip.user_ns["g"])[0]
    finally:
        ip.run_line_magic("load_ext", "hogar_nb")


def test_clicking_a_node_shows_its_resolved_attributes(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    outputs, _, _ = run_udgl("g", GOOD)
    (view,) = _widgets(outputs)
    # the message the canvas's page script sends for a click on node f
    view.canvas._handle_custom_msg({"event": "tap", "target": "node", "data": {"id": "f", "label": "f"},
                                    "position": {"x": 10.0, "y": 20.0}}, [])
    html = view.details.value
    assert 'data-node="f"' in html
    for key, value in (("replicas", "2"), ("cpu", "1"), ("timeout", "30s"), ("recovery", "restart")):
        assert re.search(f">{re.escape(key)} =</span> <code>{re.escape(value)}</code>", html), key


def test_run_binds_a_deployment_and_hogar_magics_manage_it(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    run_udgl("g --run -q", GOOD)
    dep = ip.user_ns["g_dep"]
    assert dep.call(21) == 42
    run_udgl("g --run -q", GOOD)  # re-running the cell replaces the deployment
    assert not dep.running and ip.user_ns["g_dep"].running
    with capture_output() as cap:
        ip.run_line_magic("hogar", "status")
    text = cap.outputs[0].data["text/plain"]
    assert "g_dep: graph 'demo', running" in text and "requests" in text
    with capture_output() as cap:
        ip.run_line_magic("hogar", "stop g")
    assert "stopped g_dep" in cap.stdout
    assert not ip.user_ns["g_dep"].running


def test_hogar_line_magic_suggests_commands_and_names(ip) -> None:
    with pytest.raises(UsageError, match="did you mean `status`"):
        ip.run_line_magic("hogar", "stauts")
    with pytest.raises(UsageError, match="no deployment named 'nope'"):
        ip.run_line_magic("hogar", "stop nope")


def test_monitor_option_runs_and_shows_the_live_dashboard(ip, run_udgl) -> None:
    from hogar_nb.jupyter.monitor import Dashboard

    ip.user_ns["double"] = double
    outputs, _, _ = run_udgl("g --monitor", GOOD)
    dep = ip.user_ns["g_dep"]
    try:
        assert dep.running and dep.call(4) == 8
        dashboards = [w for w in _widgets(outputs) if isinstance(w, Dashboard)]
        assert len(dashboards) == 1
    finally:
        for w in _widgets(outputs):
            if isinstance(w, Dashboard):
                w.close()
        dep.stop()


def test_an_unnamed_graph_takes_its_variable_name(ip, run_udgl) -> None:
    ip.user_ns["double"] = double
    run_udgl("ctr --run --quiet", "source in\npython f { impl = double }\nsink out\nin -> f -> out\n")
    graph, dep = ip.user_ns["ctr"], ip.user_ns["ctr_dep"]
    try:
        assert graph.name == "ctr" and dep.name == "ctr"
        assert not graph.to_udgl().startswith("graph")  # no header that was not written
        assert graph.to_earg()["name"] == "ctr"
    finally:
        dep.stop()
    run_udgl("other --quiet", GOOD)
    assert ip.user_ns["other"].name == "demo"  # a header's name is kept


def test_the_summary_lists_edge_types_from_a_notebook_model(ip, run_udgl) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    ip.user_ns["iris_clf"] = LogisticRegression(max_iter=300).fit(x, y)
    cell = ("source ingest { input = float32[n, 4] }\nmodel m { impl = iris_clf, method = predict_proba }\n"
            "sink out\ningest -> m -> out\n")
    outputs, _, _ = run_udgl("typed", cell)
    summary = next(o for o in outputs if "hogar-analysis" in o.get("text/html", ""))["text/plain"]
    assert re.search(r"ingest -> m\s+float32\[n, 4\]", summary)
    assert re.search(r"m -> out\s+float64\[n, 3\]", summary)
    outputs, _, _ = run_udgl("typed", cell.replace("float32[n, 4]", "float32[n, 5]"))
    text = "\n".join(o.get("text/plain", "") for o in outputs)
    assert "E081" in text and "`m` expects number[n, 4] but `ingest` produces float32[n, 5]" in text


def test_types_label_the_drawing_on_demand(ip, run_udgl) -> None:
    cell = ("source ingest { input = float32[n, 4] }\npython f { impl = \"m:f\", input = float32[n, 4], "
            "output = int64[n] }\nsink out\ningest -> f -> out\n")
    plain, _, _ = run_udgl("g -q", cell)
    outputs, _, _ = run_udgl("g --types", cell)
    (view,) = _widgets(outputs)
    labels = {el["data"]["id"]: el["data"]["label"] for el in view.canvas.snapshot() if "source" in el["data"]}
    assert labels == {"ingest->f": "float32[n, 4]", "f->out": "int64[n]"}
    (untyped,) = _widgets(run_udgl("g", cell)[0])
    assert {el["data"]["label"] for el in untyped.canvas.snapshot() if "source" in el["data"]} == {""}
    assert "int64[n]" in untyped._edge_html("f", "out")  # a click shows it anyway
    assert "takes <code>float32[n, 4]</code>" in untyped._node_html("f")


def test_a_subgraph_is_drawn_as_a_box_around_its_nodes(ip, run_udgl, tmp_path) -> None:
    (tmp_path / "blocks").mkdir()
    (tmp_path / "blocks" / "prep.udgl").write_text(
        'source raw\npython clean { impl = "m:f" }\npython scale { impl = "m:g" }\nsink done\n'
        "raw -> clean -> scale -> done\n")
    import os

    before = os.getcwd()
    os.chdir(tmp_path)  # a cell's relative paths are the kernel's working directory's
    try:
        outputs, _, _ = run_udgl("g", 'use prep = "blocks/prep.udgl"\nsource s\nprep p\nsink out\ns -> p -> out\n')
    finally:
        os.chdir(before)
    (view,) = _widgets(outputs)
    nodes = {el["data"]["id"]: el for el in view.canvas.snapshot() if "source" not in el["data"]}
    assert nodes["use:p"]["data"]["label"] == "p (blocks/prep.udgl)" and "subgraph" in nodes["use:p"]["classes"]
    assert nodes["p.clean"]["data"]["parent"] == nodes["p.scale"]["data"]["parent"] == "use:p"
    assert "parent" not in nodes["s"]["data"]
