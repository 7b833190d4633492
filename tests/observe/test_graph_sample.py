"""The graph's own default rate, `graph NAME { trace_sample = ... }`: tracing starts
with the deployment at that rate, unless `--trace-sample` or OTEL_TRACES_SAMPLER says."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

import hogar_nb
from hogar_nb.runtime.walk import RequestContext

from tests.runtime.conftest import wait_for

from .test_otlp_export import _serve, _stop
from .traced import FOUR, expected

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def sampled_at(rate: str) -> str:
    """FOUR whose header names a default trace sample rate."""
    lines = FOUR.splitlines()
    head = [i for i, line in enumerate(lines) if line.startswith("graph ")]
    assert head, "FOUR names its graph"
    lines[head[0]] = f"{lines[head[0]]} {{ trace_sample = {rate} }}"
    return "\n".join(lines) + "\n"


def test_the_graph_rate_traces_from_the_first_request(no_leaks) -> None:
    graph = hogar_nb.parse_udgl(sampled_at("100%"))
    assert graph.to_earg()["trace_sample"] == 1.0
    with hogar_nb.run(graph) as dep:
        assert dep.tracing is not None and dep.tracing.sample == 1.0
        assert [dep.call(x) for x in range(50)] == [expected(x)[0] for x in range(50)]
        wait_for(lambda: dep.tracing.store.added == 50, what="every request traced")


def test_a_zero_rate_traces_only_what_callers_sampled(no_leaks) -> None:
    with hogar_nb.run(hogar_nb.parse_udgl(sampled_at("0%"))) as dep:
        assert dep.tracing.sample == 0.0
        assert [dep.call(x) for x in range(20)] == [expected(x)[0] for x in range(20)]
        assert dep.call(3, context=RequestContext("asked", traceparent=CALLER)) == expected(3)[0]
        wait_for(lambda: dep.tracing.store.added == 1, what="the caller's trace")
        (only,) = dep.traces()
        assert only["request_id"] == "asked" and only["trace_id"] == CALLER.split("-")[1]


def test_otel_traces_sampler_overrides_the_graph_rate(no_leaks, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    with hogar_nb.run(hogar_nb.parse_udgl(sampled_at("100%"))) as dep:
        assert dep.tracing is not None and dep.tracing.sample is None
        futures = [dep.submit(x) for x in range(30)]
        assert [f.result(10) for f in futures] == [expected(x)[0] for x in range(30)]
        assert not any(f.context.attrs["trace"].sampled for f in futures)
        assert dep.tracing.store.added == 0 and dep.tracing.stats()["open"] == 0


@pytest.mark.parametrize(("flag", "sample", "kept"), [((), 0.5, None), (("--trace-sample", "1"), 1.0, 40)])
def test_hogar_serve_takes_the_graph_rate_unless_told(tmp_path: Path, flag: tuple, sample: float,
                                                      kept: int | None) -> None:
    proc, url = _serve(tmp_path, {}, *flag, text=sampled_at("50%"))
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            answers = [client.post("/score", content=json.dumps(x)) for x in range(40)]
            assert all(r.status_code == 200 and r.json() == expected(x)[0] for x, r in enumerate(answers))
            sampled = sum(r.headers["traceparent"].endswith("-01") for r in answers)
            listed = client.get("/hogar/v1/traces", params={"limit": 100}).json()
            assert listed["tracing"] is True and listed["sample"] == sample
            if kept is not None:
                assert sampled == kept
            wait_for(lambda: client.get("/hogar/v1/traces", params={"limit": 100}).json()["stats"]["added"]
                     == sampled, 30, "every sampled request in the store")
    finally:
        assert _stop(proc) == 0
