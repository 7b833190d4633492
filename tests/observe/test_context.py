"""W3C Trace Context: a caller's trace continued, a new one started, the header written back."""

from __future__ import annotations

import pickle

import pytest
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from hogar_nb.observe import NOT_SAMPLED, TraceIds, new_ids, sampler_for, trace_headers, traceparent
from hogar_nb.observe.sampling import env_sampler, TracingWarning

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_a_callers_trace_is_continued_with_a_root_span_of_our_own() -> None:
    ids = new_ids(CALLER, "congo=t61rcWkgMzE", NOT_SAMPLED)
    assert ids.trace_hex == "0af7651916cd43dd8448eb211c80319c"
    assert ids.parent_id == 0xB7AD6B7169203331 and ids.span_id not in (0, ids.parent_id)
    assert ids.sampled  # the caller sampled it: recorded even with tracing off
    assert trace_headers(ids) == {"traceparent": f"00-{ids.trace_hex}-{ids.span_hex}-01",
                                  "tracestate": "congo=t61rcWkgMzE"}


def test_an_unsampled_caller_stays_unsampled_whatever_the_rate() -> None:
    ids = new_ids(CALLER[:-2] + "00", None, sampler_for(1.0))
    assert not ids.sampled and traceparent(ids).endswith("-00")


@pytest.mark.parametrize("header", [None, "", "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                                    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
                                    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                    "00-0AF7651916CD43DD8448EB211C80319Cxx-b7ad6b7169203331-01"])
def test_a_missing_or_invalid_header_starts_a_new_trace(header: str | None) -> None:
    ids = new_ids(header, "congo=t61rcWkgMzE", sampler_for(1.0))
    assert ids.trace_hex != "0af7651916cd43dd8448eb211c80319c" and ids.parent_id == 0
    assert ids.sampled and ids.tracestate is None
    assert traceparent(ids) == f"00-{ids.trace_hex}-{ids.span_hex}-01"


def test_the_rate_samples_about_its_share_of_new_traces() -> None:
    sampler = sampler_for(0.1)
    share = sum(new_ids(None, None, sampler).sampled for _ in range(20_000)) / 20_000
    assert 0.08 < share < 0.12
    assert not any(new_ids(None, None, sampler_for(0.0)).sampled for _ in range(1000))


@pytest.mark.parametrize("rate", [0.0, 0.01, 0.5, 1.0])
def test_a_new_trace_is_decided_as_the_sdk_ratio_sampler_decides(rate: float) -> None:
    sdk = TraceIdRatioBased(rate)
    for _ in range(5000):
        ids = new_ids(None, None, sampler_for(rate))
        assert ids.sampled == sdk.should_sample(None, ids.trace_id, "request").decision.is_sampled()
        assert ids.parent_id == 0 and ids.tracestate is None
    assert not any(new_ids(None, None, NOT_SAMPLED).sampled for _ in range(1000))


def test_ids_cross_a_process_boundary() -> None:
    ids = new_ids(CALLER, "a=b", NOT_SAMPLED)
    back = pickle.loads(pickle.dumps(ids))
    assert isinstance(back, TraceIds) and back == ids and back.tracestate == "a=b"


def test_the_standard_sampler_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    assert env_sampler() is None
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    assert not new_ids(None, None, env_sampler()).sampled
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "1")
    assert new_ids(None, None, env_sampler()).sampled
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "lots")
    with pytest.warns(TracingWarning, match="OTEL_TRACES_SAMPLER_ARG"):
        assert new_ids(None, None, env_sampler()).sampled
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "sometimes")
    with pytest.warns(TracingWarning, match="'sometimes'"):
        assert env_sampler() is not None
