"""The same graph on the embedded engine and on Ray Serve: same answers, same error causes."""

from __future__ import annotations

import pytest

import hogar_nb
from hogar_nb.runtime.errors import NodeError, RequestError, RequestTimeoutError, RouteError

from .graphs import conformance_graph


@pytest.fixture(scope="module", params=["embedded", "ray"])
def dep(request, tmp_path_factory):
    graph, base = conformance_graph(tmp_path_factory.mktemp("conformance"))
    if request.param == "ray":
        request.getfixturevalue("local_ray")
        deployment = hogar_nb.run(graph, base_dir=base, backend="ray")
    else:
        deployment = hogar_nb.run(graph, base_dir=base)
    yield deployment
    deployment.stop()


def test_chain(dep) -> None:
    assert [dep.call(x, source="chain_in") for x in (0, 3, -5)] == [1, 7, -9]


def test_fan_out_with_a_model_and_a_weighted_ensemble(dep) -> None:
    # lin: 1*1 + 2*2 + 0.5 = 5.5 (weight 0.25); tot: 3.0 (weight 0.75)
    assert dep.call([1, 2], source="fan_in") == pytest.approx(0.25 * 5.5 + 0.75 * 3.0)


def test_switch(dep) -> None:
    assert dep.call(5, source="switch_in") == 5
    assert dep.call(150, source="switch_in") == -150
    with pytest.raises(RouteError) as err:
        dep.call(-1, source="switch_in")
    assert err.value.cause == "route" and err.value.node == "gate"
    assert "matches none of its edges" in str(err.value)


def test_split_sends_each_request_one_way_by_weight(dep) -> None:
    results = [f.result(timeout=60) for f in [dep.submit(i, source="split_in") for i in range(200)]]
    assert all(r == i or r == {"tagged": i} for i, r in enumerate(results))
    tagged = sum(isinstance(r, dict) for r in results)
    assert 50 < tagged < 150


def test_batching_answers_each_item_and_forms_batches(dep) -> None:
    futures = [dep.submit(i, source="batch_in") for i in range(64)]
    outs = [f.result(timeout=60) for f in futures]
    assert [o["y"] for o in outs] == [2 * i for i in range(64)]
    assert max(o["batch"] for o in outs) > 1
    assert all(o["batch"] <= 8 for o in outs)


def test_failing_impl_is_an_error_after_its_retries(dep) -> None:
    assert dep.call(4, source="fail_in") == 4
    with pytest.raises(NodeError) as err:
        dep.call(-4, source="fail_in")
    assert err.value.cause == "error" and err.value.node == "boom"
    assert "after 2 attempts (retries = 1)" in str(err.value)
    assert isinstance(err.value.__cause__, ValueError)


SEEN: dict[str, str] = {}  # the embedded engine's answer, which the Ray backend must match


def test_a_model_rejecting_its_input_fails_that_request_alike(dep) -> None:
    with pytest.raises(RequestError) as err:
        dep.call([1, 2, 3], source="fan_in")
    assert err.value.node == "lin" and err.value.cause in ("invalid_input", "error")
    assert SEEN.setdefault("model_input", err.value.cause) == err.value.cause


def test_node_timeout_and_caller_deadline(dep) -> None:
    assert dep.call(0.01, source="slow_in") == 0.01
    with pytest.raises(RequestTimeoutError) as err:
        dep.call(1.0, source="slow_in")
    assert err.value.cause == "timeout" and err.value.node == "nap"
    with pytest.raises(RequestTimeoutError):
        dep.call(0.25, source="slow_in", timeout=0.1)


def test_metrics_count_what_happened(dep) -> None:
    before = dep.metrics()
    for x in range(10):
        dep.call(x, source="chain_in")
    with pytest.raises(NodeError):
        dep.call(-1, source="fail_in")
    snap = dep.metrics()
    assert snap.node("a").ok - before.node("a").ok == 10
    assert snap.node("b").ok - before.node("b").ok == 10
    boom = snap.node("boom")
    assert boom.errors_by_cause.get("error", 0) - before.node("boom").errors_by_cause.get("error", 0) == 1
    assert snap.graph.requests - before.graph.requests == 11
    assert snap.node("a").replicas == 2 and snap.node("a").replicas_alive == 2
    assert snap.node("a").p50_ms is not None


def test_acall_and_load(dep) -> None:
    import asyncio

    async def many():
        return await asyncio.gather(*(dep.acall(x, source="chain_in") for x in range(20)))

    assert asyncio.run(many()) == [2 * x + 1 for x in range(20)]
    report = dep.load(100, 1.0, 3, source="chain_in")
    assert report.lost == 0 and report.errors == {} and report.ok == report.sent > 50
    assert set(report.results_sample) == {7}
