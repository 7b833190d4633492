"""The editing API keeps the model consistent and re-checkable."""

from __future__ import annotations

import pytest

from hogar_nb import Graph, GraphEditError
from hogar_nb.core.values import Duration


def _chain() -> Graph:
    g = Graph("edited")
    g.add_node("in", "source")
    g.add_node("f", "python", impl="m:f")
    g.add_node("out", "sink")
    g.connect("in", "f")
    g.connect("f", "out")
    return g


def test_built_graph_is_valid_and_exports() -> None:
    g = _chain()
    assert g.check() == []
    assert [n["name"] for n in g.to_earg()["nodes"]] == ["in", "f", "out"]


def test_set_attr_accepts_udgl_text_and_python_values() -> None:
    g = _chain()
    g.set_attr("f", "timeout", "250ms")
    g.set_attr("f", "replicas", 3)
    g.set_attr("f", "recovery", "restart(max = 2)")
    r = g.resolved("f")
    assert (r.timeout_ms, r.replicas, r.recovery["max_restarts"]) == (250.0, 3, 2)
    assert g.node("f").attrs["timeout"] == Duration(250.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: g.set_attr("f", "replica", 2), "python nodes have no attribute `replica`; did you mean `replicas`?"),
        (lambda g: g.set_attr("f", "replicas", 0), "got 0 for `replicas`; expected an integer >= 1 and <= 10000 (node `f`)"),
        (lambda g: g.set_attr("f", "timeout", "250"), "got 250 for `timeout`; expected a duration such as 250ms or 1.5s (node `f`)"),
        (lambda g: g.add_node("f", "python"), "a node named `f` already exists"),
        (lambda g: g.add_node("g", "pyhton"), "unknown kind `pyhton`; did you mean `python`?"),
        (lambda g: g.add_node("2bad", "python"), "got '2bad' for a node name; expected letters, digits and _ not starting with a digit"),
        (lambda g: g.connect("in", "nope"), "no node named `nope`"),
        (lambda g: g.connect("in", "f"), "the edge `in -> f` already exists"),
        (lambda g: g.set_edge("in", "f", colour="red"), "edges have no attribute `colour`; they have `when`, `weight` and `mirror`"),
    ],
)
def test_invalid_edits_are_refused_with_a_clear_message(call, message) -> None:
    g = _chain()
    before = g.to_udgl()
    with pytest.raises(GraphEditError) as info:
        call(g)
    assert str(info.value) == message
    assert g.to_udgl() == before


def test_edits_that_break_structure_are_reported_by_check() -> None:
    g = _chain()
    g.add_node("g", "python", impl="m:g")
    g.connect("f", "g")
    g.connect("g", "f")
    codes = sorted(d.code for d in g.check())
    assert codes == ["E030"]
    assert g.check()[0].message == "cycle: f -> g -> f"
    g.disconnect("g", "f")
    g.connect("g", "out")
    assert [d.code for d in g.check()] == ["E033"]


def test_remove_and_rename_keep_edges_consistent() -> None:
    g = _chain()
    g.rename_node("f", "features")
    assert [(e.src, e.dst) for e in g.edges] == [("in", "features"), ("features", "out")]
    g.remove_node("features")
    assert g.edges == []
    assert {d.code for d in g.check()} == {"E032", "E031"}


def test_templates_apply_when_adding_by_template_name() -> None:
    from hogar_nb import parse_udgl

    g = parse_udgl("template gpu = model { gpu = 1, replicas = 2 }\nsource in\nsink out\nin -> out\n")
    g.add_node("nn", "gpu", impl="nn.onnx")
    g.disconnect("in", "out")
    g.connect("in", "nn")
    g.connect("nn", "out")
    assert (g.resolved("nn").gpu, g.resolved("nn").replicas, g.node("nn").template) == (1, 2, "gpu")
    lines = [" ".join(line.split()) for line in g.to_udgl().splitlines()]
    assert 'gpu nn { impl = "nn.onnx" }' in lines


def test_check_results_follow_edits() -> None:
    g = _chain()
    assert g.ok
    g.unset_attr("f", "impl")
    assert [d.code for d in g.errors] == ["E016"]
    g.set_attr("f", "impl", "m:f")
    assert g.ok


def test_restore_brings_back_a_snapshot_in_the_same_object() -> None:
    g = _chain()
    snapshot = g.copy()
    g.add_node("g", "python", impl="m:g")
    g.connect("f", "g")
    g.set_attr("f", "replicas", 4)
    before = g.revision
    g.restore(snapshot)
    assert g.revision > before
    assert g.to_udgl() == snapshot.to_udgl()
    assert g.check() == [] and g.resolved("f").replicas == 1
    g.set_attr("f", "replicas", 2)  # the snapshot is not shared with the graph
    assert snapshot.resolved("f").replicas == 1


def test_copy_keeps_the_nodes_an_earlier_error_left_incomplete() -> None:
    from hogar_nb.core.graph import Graph

    g = Graph()
    g.incomplete = {"features", ""}
    clone = g.copy()
    assert clone.incomplete == {"features", ""} and clone.incomplete is not g.incomplete
