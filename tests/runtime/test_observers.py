"""Result observers and the deployment's EARG document (used by the monitor)."""

from __future__ import annotations

import hogar_nb

from .conftest import chain


def double(x):
    return 2 * x


def test_observers_see_every_response_until_removed(no_leaks) -> None:
    seen: list[int] = []
    with hogar_nb.run(chain(double)) as dep:
        remove = dep.add_result_observer(seen.append)
        assert [dep.call(i) for i in range(5)] == [0, 2, 4, 6, 8]
        remove()
        dep.call(100)
    assert seen == [0, 2, 4, 6, 8]


def test_a_failing_observer_is_dropped_and_requests_still_succeed(no_leaks) -> None:
    calls: list[int] = []

    def bad(value):
        calls.append(value)
        raise RuntimeError("observer bug")

    with hogar_nb.run(chain(double)) as dep:
        dep.add_result_observer(bad)
        assert dep.call(1) == 2
        assert dep.call(2) == 4
    assert calls == [2]


def test_deployment_exposes_a_copy_of_its_earg(no_leaks) -> None:
    graph = hogar_nb.parse_udgl(
        "graph tiny\nsource s\npython f { impl = double, replicas = 2 }\nsink out\ns -> f -> out\n",
        namespace={"double": double},
    )
    with hogar_nb.run(graph) as dep:
        earg = dep.earg
        assert earg == graph.to_earg()
        earg["nodes"].clear()
        assert dep.earg["nodes"][1]["replicas"] == 2
