"""The console's own pages traced with opentelemetry-instrumentation-django: a real
console process sends its spans to a real OTLP/HTTP receiver, continuing a caller's
traceparent; without an exporter configured nothing is instrumented."""

from __future__ import annotations

from pathlib import Path

import httpx

from console_processes import console_env, start_console, wait_for
from hogar_nb.console.tracing import instrument
from tests.observe.otlp_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_console_pages_reach_an_otlp_receiver_and_continue_the_callers_trace(tmp_path: Path) -> None:
    receiver = Receiver()
    env = console_env(tmp_path / "data", PYTHONPATH=str(ROOT), OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
                      OTEL_BSP_SCHEDULE_DELAY="100")
    proc, url = start_console(env)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            continued = client.get("/signin/", headers={"traceparent": CALLER})
            fresh = client.get("/signin/")
        assert continued.status_code == fresh.status_code == 200
        caller_trace, caller_span = CALLER.split("-")[1:3]
        wait_for(lambda: len(receiver.spans) >= 2, 30, "the console's two spans")
        by_trace = {s["trace_id"]: s for s in receiver.spans}
        mine = by_trace.pop(caller_trace)
        assert mine["parent_id"] == caller_span and mine["span_kind"] == 2  # OTLP's SPAN_KIND_SERVER
        assert mine["name"] == "GET signin/" and mine["attrs"]["http.route"] == "signin/"
        assert mine["attrs"]["http.status_code"] == 200 and mine["scope"] == "opentelemetry.instrumentation.django"
        (other,) = by_trace.values()  # the request without a traceparent starts its own trace
        assert other["parent_id"] is None and other["trace_id"] != caller_trace
        assert {r["service.name"] for r in receiver.resources} == {"hogar-console"}
    finally:
        assert proc.stop() == 0
        receiver.close()


def test_without_an_exporter_nothing_is_instrumented(monkeypatch) -> None:
    for key in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    assert instrument() is None
