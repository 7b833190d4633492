"""What users see when things go wrong: the first errors of a run, problems found
before starting (named by node, with advice for a shell or a notebook), suspended
nodes in reports and dashboards, and a word about GPUs."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import hogar_nb
from hogar_nb.runtime.cli import report_table
from hogar_nb.runtime.errors import DeploymentConfigError, GPUWarning

from .conftest import chain, make_earg, wait_for
from .impls import double
from .test_cli import _parser

ROOT = Path(__file__).resolve().parents[2]

FAILING = """graph failing
source in
python parse { impl = "tests.runtime.impls:fail_on_negative" }
sink out
in -> parse -> out
"""


def test_hogar_run_prints_the_first_distinct_errors(tmp_path, capsys, no_leaks):
    path = tmp_path / "failing.udgl"
    path.write_text(FAILING)
    args = _parser().parse_args(["run", str(path), "--rate", "300", "--duration", "0.3", "--payload", "-4"])
    assert args.func(args) == 1
    out = capsys.readouterr().out
    assert "first errors:" in out
    assert "NodeError at node 'parse': node 'parse' raised ValueError('negative input -4') " \
           "after 1 attempt (retries = 0)" in out
    assert out.count("NodeError at node") == 1, "the same error is listed once"


def test_load_report_keeps_the_first_distinct_errors(no_leaks):
    with hogar_nb.run(chain("tests.runtime.impls:fail_on_negative")) as dep:
        report = dep.load(500, 0.3, payload=lambda i: -(i % 3) - 1, progress=False, seed=1)
    assert report.sent == report.ok + sum(report.errors.values()) + report.lost
    kinds = {(kind, node) for kind, _message, node in report.first_errors}
    assert kinds == {("NodeError", "n0")} and len(report.first_errors) == 3
    assert sorted(m.split("raised ")[1].split(")")[0] for _k, m, _n in report.first_errors) == \
        ["ValueError('negative input -1'", "ValueError('negative input -2'", "ValueError('negative input -3'"]


def test_a_bare_name_under_hogar_run_gets_shell_advice(tmp_path):
    path = tmp_path / "bare.udgl"
    path.write_text("source s\npython a { impl = clean }\nmodel m { impl = clf }\nsink t\ns -> a -> m -> t\n")
    out = subprocess.run([sys.executable, "-m", "hogar_nb", "run", str(path), "--duration", "0"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "node 'a': impl 'clean' is a bare name" in out.stderr
    assert "node 'm': impl 'clf' is a bare name" in out.stderr, "every problem, named by node"
    assert "module:attr" in out.stderr and "notebook" not in out.stderr.replace("only a notebook", "")


def test_every_node_that_cannot_start_is_named_before_anything_starts(no_leaks):
    doc = make_earg({"s": {"kind": "source"}, "a": {"impl": "nope"}, "b": {"impl": "tests.nope:f"},
                     "t": {"kind": "sink"}}, ["s -> a", "a -> b", "b -> t"])
    with pytest.raises(DeploymentConfigError) as info:
        hogar_nb.run(doc, namespace={})
    assert [node for node, _m in info.value.problems] == ["a", "b"]
    assert "is not in the namespace given to run()" in str(info.value)


class Model:
    def predict(self, rows):
        return [10 * sum(row) for row in rows]


def test_a_model_node_runs_a_model_object_from_the_notebook(no_leaks):
    clf = Model()
    graph = hogar_nb.parse_udgl("source s\nmodel m { impl = clf }\nsink t\ns -> m -> t\n",
                                namespace={"clf": clf})
    with hogar_nb.run(graph, namespace={"clf": clf}) as dep:
        assert dep.call([1, 3], timeout=5) == 40


def test_gpu_replicas_get_one_warning(no_leaks):
    doc = chain(double, resources={"cpu": 1, "gpu": 1, "memory_bytes": 0})
    doc["name"] = "gpu_graph"
    with pytest.warns(GPUWarning, match=r"node 'n0' asks for GPUs.*does not place replicas on GPUs"):
        hogar_nb.run(doc).stop()
    with warnings.catch_warnings():
        warnings.simplefilter("error", GPUWarning)
        hogar_nb.run(doc).stop()  # said once is enough


def test_suspended_nodes_show_in_reports_and_health(no_leaks):
    from hogar_nb.core.health import HealthRules, NodeInfo, NodeTotals, assess

    doc = chain(double, recovery={"policy": "restart", "max_restarts": 0, "backoff_ms": 60_000.0})
    with hogar_nb.run(doc) as dep:
        dep.inject_fault("n0", "crash", rate=1.0)
        assert dep.submit(1).exception(5).cause == "crash"
        wait_for(lambda: dep.metrics().node("n0").state == "suspended", what="suspension")
        snap = dep.metrics()
        assert not snap.node("n0").healthy
        assert "SUSPENDED" in next(line for line in report_table(snap).splitlines() if line.startswith("n0"))
        suspend = [e for e in dep.events if e.action == "suspend"]
        assert len(suspend) == 1 and "next try in" in suspend[0].detail
    health = assess(NodeInfo("n0", "python", 1, 30_000.0), NodeTotals(state="suspended"), None, 1.0,
                    HealthRules())
    assert health.level == "suspended"
