"""A tensor's rows as one payload (runtime.rows.Rows): one request through the graph, run
once per row by a plain impl and in one call by a batched one, in thread and process
replicas alike; a row that fails fails the tensor."""

from __future__ import annotations

import pytest

import hogar_nb
from hogar_nb.runtime.errors import NodeError
from hogar_nb.runtime.rows import Rows, call

from .conftest import make_earg


def test_call_runs_rows_per_row_or_as_one_batch_and_regroups() -> None:
    calls: list[list] = []

    def batched(xs: list) -> list:
        calls.append(list(xs))
        return [ValueError(f"bad {x}") if x == -1 else x * 2 for x in xs]

    batched.__hogar_batch__ = True  # type: ignore[attr-defined]
    out = call(batched, [Rows([1, 2]), 3, Rows([4])], False)
    assert out == [[2, 4], 6, [8]] and [type(o) for o in out] == [Rows, int, Rows]
    assert calls == [[1, 2, 3, 4]], "one call for every row of the batch"
    failed = call(batched, [Rows([1, -1]), 5], True)
    assert isinstance(failed[0], ValueError) and failed[1] == 10, "a failed row fails its tensor alone"
    assert call(lambda x: x + 1, [Rows([1, 2])], False) == [Rows([2, 3])]
    assert call(lambda x: x + 1, [1], False) == [2]


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_tensor_walks_the_graph_as_one_request(isolation: str) -> None:
    nodes = {"src": {"kind": "source"},
             "each": {"impl": "tests.runtime.impls:double", "isolation": isolation},
             "batch": {"impl": "tests.runtime.impls:batch_double", "isolation": isolation,
                       "batch": {"max_size": 4, "max_wait_ms": 1.0}},
             "out": {"kind": "sink", "response": True}}
    with hogar_nb.run(make_earg(nodes, ["src -> each", "each -> batch", "batch -> out"])) as dep:
        got = dep.call(Rows(range(10)))
        assert got == [4 * i for i in range(10)] and type(got) is Rows
        snap = dep.metrics()
        assert (snap.graph.requests, snap.node("each").requests, snap.node("batch").requests) == (1, 1, 1)
        with pytest.raises(NodeError) as err:
            dep.call(Rows([1, None, 3]), node="each")
        assert err.value.node == "each"
        assert dep.call(Rows([5]), node="batch") == [10]
