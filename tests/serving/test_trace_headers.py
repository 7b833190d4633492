"""The data plane writes ``traceparent``/``tracestate`` itself: the same bytes as
OpenTelemetry's W3C propagator (:func:`hogar_nb.observe.trace_headers`) writes."""

from __future__ import annotations

import pytest

from hogar_nb.observe import NOT_SAMPLED, new_ids, sampler_for, trace_headers
from hogar_nb.serving.trace_context import header_pairs
from tests.serving.conftest import make_earg, served

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize("header, state, sampler", [
    (None, None, NOT_SAMPLED), (None, None, sampler_for(1.0)), (CALLER, None, NOT_SAMPLED),
    (CALLER, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", sampler_for(1.0)),
    (CALLER.replace("-01", "-00"), "vendor=x", sampler_for(1.0)), ("garbage", None, NOT_SAMPLED)])
def test_header_pairs_are_what_the_propagator_writes(header, state, sampler) -> None:
    for _ in range(50):  # ids of every length: leading zeros are kept
        ids = new_ids(header, state, sampler)
        want = {k.encode(): v.encode() for k, v in trace_headers(ids).items()}
        assert dict(header_pairs(ids)) == want


def test_untraced_requests_get_new_unsampled_traces_and_callers_traces_continue() -> None:
    earg = make_earg({"src": {"kind": "source"}, "double": {"impl": "tests.serving.impls:double"},
                      "out": {"kind": "sink", "response": True}}, ["src -> double", "double -> out"])
    with served(earg) as (_dep, client):
        seen = set()
        for _ in range(20):
            resp = client.post("/src", json=2)
            assert resp.status_code == 200 and resp.json() == 4
            version, trace, span, flags = resp.headers["traceparent"].split("-")
            assert (version, flags, len(trace), len(span)) == ("00", "00", 32, 16) and "tracestate" not in resp.headers
            seen.add(trace)
        assert len(seen) == 20, "every request starts a trace of its own"
        resp = client.post("/src", json=2, headers={"traceparent": CALLER, "tracestate": "vendor=x"})
        assert resp.headers["traceparent"].split("-")[1] == CALLER.split("-")[1]
        assert resp.headers["traceparent"].endswith("-01") and resp.headers["tracestate"] == "vendor=x"
