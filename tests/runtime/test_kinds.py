"""Semantics of every node kind, run end to end on the embedded engine."""

from __future__ import annotations

import asyncio
import json

import pytest

import hogar_nb
from hogar_nb.runtime.errors import DeploymentConfigError, RouteError

from .conftest import chain, make_earg
from .impls import Counter, double, inc


def test_chain_runs_in_order(no_leaks):
    with hogar_nb.run(chain(double, inc, double)) as dep:
        assert dep.call(3) == 14, "expected ((3*2)+1)*2"
        assert [f.result(5) for f in [dep.submit(i) for i in range(50)]] == [(i * 2 + 1) * 2 for i in range(50)]


def test_namespace_and_module_impls(no_leaks):
    def triple(x):
        return x * 3

    doc = chain("triple", "tests.runtime.impls:inc")
    with hogar_nb.run(doc, namespace={"triple": triple}) as dep:
        assert dep.call(2) == 7


def test_missing_impl_is_a_friendly_error():
    with pytest.raises(DeploymentConfigError, match="'nope' is a bare name, which only a notebook"):
        hogar_nb.run(chain("nope"))
    with pytest.raises(DeploymentConfigError, match="no attribute 'missing'"):
        hogar_nb.run(chain("tests.runtime.impls:missing"))


def test_class_impl_instantiated_per_replica(no_leaks):
    with hogar_nb.run(chain(Counter, replicas=3)) as dep:
        owners = {dep.call(i)[1] for i in range(60)}
        assert 1 <= len(owners) <= 3, f"expected at most 3 instances (one per replica), got {len(owners)}"


def test_acall(no_leaks):
    with hogar_nb.run(chain(double)) as dep:
        async def go():
            return await asyncio.gather(*(dep.acall(i) for i in range(10)))
        assert asyncio.run(go()) == [i * 2 for i in range(10)]


def test_astart_starts_at_once_and_refuses_at_once(no_leaks):
    with hogar_nb.run(chain(double)) as dep:
        async def go():
            waits = [dep.astart(i) for i in range(10)]  # every request is under way before any await
            return await asyncio.gather(*waits)
        assert asyncio.run(go()) == [i * 2 for i in range(10)]

        async def unknown():
            return dep.astart(1, source="nowhere")
        with pytest.raises(ValueError, match="'nowhere' is not a source"):
            asyncio.run(unknown())


def _fanout(combine, weights=None):
    nodes = {
        "src": {"kind": "source"},
        "a": {"impl": lambda x: x + 1},
        "b": {"impl": lambda x: x + 3},
        "ens": {"kind": "ensemble", "combine": combine, **({"weights": weights} if weights else {})},
        "side": {"kind": "sink"},
        "out": {"kind": "sink", "response": True},
    }
    return make_earg(nodes, ["src -> a", "src -> b", "a -> ens", "b -> ens", "ens -> out", "src -> side"])


@pytest.mark.parametrize(
    ("combine", "weights", "expected"),
    [("mean", None, 12.0), ("mean", {"a": 3.0, "b": 1.0}, 11.5), ("concat", None, [11, 13])],
)
def test_ensemble_combines_branches(combine, weights, expected, no_leaks):
    with hogar_nb.run(_fanout(combine, weights)) as dep:
        assert dep.call(10) == (expected if isinstance(expected, list) else pytest.approx(expected))
        assert dep.side_outputs("side") == [10], "the side sink keeps its copy of the payload"
        snap = dep.metrics()
        assert snap.node("side").requests == 1 and snap.node("ens").requests == 1


def test_ensemble_vote_first_and_callable(no_leaks):
    nodes = {
        "src": {"kind": "source"},
        "a": {"impl": lambda x: "cat"},
        "b": {"impl": lambda x: "dog"},
        "c": {"impl": lambda x: "cat"},
        "ens": {"kind": "ensemble", "combine": "vote"},
        "out": {"kind": "sink"},
    }
    edges = ["src -> a", "src -> b", "src -> c", "a -> ens", "b -> ens", "c -> ens", "ens -> out"]
    with hogar_nb.run(make_earg(nodes, edges)) as dep:
        assert dep.call(0) == "cat"
    nodes["ens"] = {"kind": "ensemble", "combine": "vote", "weights": {"b": 5.0}}
    with hogar_nb.run(make_earg(nodes, edges)) as dep:
        assert dep.call(0) == "dog", "a weight of 5 for b outvotes a and c"
    nodes["ens"] = {"kind": "ensemble", "combine": "first"}
    with hogar_nb.run(make_earg(nodes, edges)) as dep:
        assert dep.call(0) in ("cat", "dog")
    nodes["ens"] = {"kind": "ensemble", "combine": "join"}
    with hogar_nb.run(make_earg(nodes, edges), namespace={"join": "+".join}) as dep:
        assert dep.call(0) == "cat+dog+cat", "a callable gets inputs ordered by input name"


def _switch_graph():
    nodes = {
        "src": {"kind": "source"},
        "gate": {"kind": "switch", "impl": lambda x: "big" if x > 100 else ("small" if x >= 0 else "neg")},
        "big": {"impl": lambda x: f"big:{x}"},
        "small": {"impl": lambda x: f"small:{x}"},
        "out": {"kind": "sink"},
    }
    edges = [("gate", "big", {"when": "big"}), ("gate", "small", {"when": "small"}),
             "src -> gate", "big -> out", "small -> out"]
    return nodes, edges


def test_switch_routes_by_key_and_reports_no_match(no_leaks):
    nodes, edges = _switch_graph()
    with hogar_nb.run(make_earg(nodes, edges)) as dep:
        assert dep.call(500) == "big:500"
        assert dep.call(5) == "small:5"
        with pytest.raises(RouteError, match="'neg'") as info:
            dep.call(-1)
        assert info.value.cause == "route"
        assert dep.metrics().graph.errors_by_cause == {"route": 1}


def test_switch_catch_all(no_leaks):
    nodes, edges = _switch_graph()
    edges[1] = ("gate", "small", {"when": "*"})
    with hogar_nb.run(make_earg(nodes, edges)) as dep:
        assert dep.call(-1) == "small:-1"


def test_split_by_weight(no_leaks):
    nodes = {
        "src": {"kind": "source"},
        "split": {"kind": "split"},
        "a": {"impl": lambda x: "a"},
        "b": {"impl": lambda x: "b"},
        "out": {"kind": "sink"},
    }
    edges = [("split", "a", {"weight": 0.8}), ("split", "b", {"weight": 0.2}),
             "src -> split", "a -> out", "b -> out"]
    with hogar_nb.run(make_earg(nodes, edges)) as dep:
        results = [f.result(5) for f in [dep.submit(i) for i in range(1000)]]
    share = results.count("a") / len(results)
    assert 0.72 < share < 0.88, f"expected about 80% to a, got {share:.2%}"


def test_several_sources_need_a_name(no_leaks):
    nodes = {"s1": {"kind": "source"}, "s2": {"kind": "source"}, "f": {"impl": double},
             "out": {"kind": "sink"}}
    with hogar_nb.run(make_earg(nodes, ["s1 -> f", "s2 -> f", "f -> out"])) as dep:
        with pytest.raises(ValueError, match="several sources"):
            dep.call(1)
        assert dep.call(1, source="s1") == 2 and dep.call(4, source="s2") == 8


def test_model_json_linear(tmp_path, no_leaks):
    (tmp_path / "lin.json").write_text(json.dumps({"weights": [1.0, 2.0], "bias": 0.5}))
    nodes = {"src": {"kind": "source"}, "m": {"kind": "model", "impl": "lin.json"}, "out": {"kind": "sink"}}
    with hogar_nb.run(make_earg(nodes, ["src -> m", "m -> out"]), base_dir=tmp_path) as dep:
        assert dep.call([1, 1]) == pytest.approx(3.5)


def test_model_unknown_extension_is_friendly(tmp_path):
    (tmp_path / "m.xyz").write_text("x")
    nodes = {"src": {"kind": "source"}, "m": {"kind": "model", "impl": "m.xyz"}, "out": {"kind": "sink"}}
    with pytest.raises(DeploymentConfigError, match=r"unknown file extension '\.xyz'"):
        hogar_nb.run(make_earg(nodes, ["src -> m", "m -> out"]), base_dir=tmp_path)


def test_model_pickle_and_module_attr(tmp_path, no_leaks):
    import pickle

    from hogar_nb.runtime.loaders import LinearModel

    (tmp_path / "m.pkl").write_bytes(pickle.dumps(LinearModel([2.0], 1.0)))
    nodes = {"src": {"kind": "source"}, "m": {"kind": "model", "impl": "m.pkl"},
             "k": {"kind": "model", "impl": "tests.runtime.impls:Counter"}, "out": {"kind": "sink"}}
    with hogar_nb.run(make_earg(nodes, ["src -> m", "m -> k", "k -> out"]), base_dir=tmp_path) as dep:
        value, _owner = dep.call([3])
        assert value == pytest.approx(7.0)
