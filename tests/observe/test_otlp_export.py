"""`hogar serve` exports traces to an OTLP/HTTP receiver configured the standard way;
a bad configuration is one warning and requests are served as usual."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import hogar_nb
from hogar_nb.observe import TracingWarning

from tests.runtime.conftest import wait_for

from .otlp_receiver import Receiver
from .traced import FOUR, by_trace, check_four, expected

ROOT = Path(__file__).resolve().parents[2]
CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _serve(tmp_path: Path, env: dict[str, str], *args: str, text: str = FOUR) -> tuple[subprocess.Popen, str]:
    (tmp_path / "four.udgl").write_text(text)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    proc = subprocess.Popen([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "four.udgl"), "--port", "0",
                             *args], stdout=subprocess.PIPE, stderr=open(tmp_path / "serve.log", "w"), text=True,
                            env={**clean, "PYTHONPATH": str(ROOT), **env}, cwd=tmp_path)
    line = proc.stdout.readline()
    if not line.startswith("serving "):
        proc.kill()
        raise AssertionError(f"hogar serve did not start: {line!r} {(tmp_path / 'serve.log').read_text()}")
    return proc, line.split()[-1]


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_hogar_serve_sends_every_trace_to_an_otlp_receiver(tmp_path: Path, receiver: Receiver) -> None:
    proc, url = _serve(tmp_path, {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
                                  "OTEL_SERVICE_NAME": "scoring", "OTEL_BSP_SCHEDULE_DELAY": "200"},
                       "--trace-sample", "100%")
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            def send(x: int) -> tuple[int, httpx.Response]:
                headers = {"traceparent": CALLER} if x == 0 else {}
                return x, client.post("/score", content=json.dumps(x), headers=headers)

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(send, range(1000)))
    finally:
        assert _stop(proc) == 0
    assert all(r.status_code == 200 and r.json() == expected(x)[0] for x, r in answers)
    traces = by_trace(receiver.spans)  # the stop flushed what was left
    assert len(traces) == 1000
    for x, resp in answers:
        trace_id = resp.headers["traceparent"].split("-")[1]
        check_four(traces[trace_id], x, resp.headers["traceparent"], resp.headers["x-request-id"],
                   caller=CALLER if x == 0 else None)
    assert CALLER.split("-")[1] in traces
    assert {r["service.name"] for r in receiver.resources} == {"scoring"}
    assert {s["scope"] for s in receiver.spans} == {"hogar_nb.observe"}


def test_an_unreachable_collector_loses_traces_not_requests(tmp_path: Path) -> None:
    dead = Receiver()
    dead.close()  # a port nobody listens on any more
    # no --trace-sample: an endpoint in the environment turns tracing on (parentbased_always_on)
    proc, url = _serve(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": dead.url, "OTEL_BSP_SCHEDULE_DELAY": "50",
                                  "OTEL_EXPORTER_OTLP_TIMEOUT": "1"})
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            answers = [client.post("/score", json=x) for x in range(300)]
            assert all(r.status_code == 200 and r.json() == expected(x)[0] for x, r in enumerate(answers))
            wait_for(lambda: len(client.get("/hogar/v1/traces", params={"limit": 1000}).json()["traces"]) == 300,
                     30, "the store to keep every trace all the same")
    finally:
        assert _stop(proc) == 0


def test_without_a_rate_or_the_environment_hogar_serve_does_not_trace(tmp_path: Path) -> None:
    proc, url = _serve(tmp_path, {})
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            resp = client.post("/score", json=2)
            assert resp.status_code == 200 and resp.headers["traceparent"].endswith("-00")
            assert client.get("/hogar/v1/traces").json() == {"tracing": False, "traces": []}
            resp = client.post("/score", json=2, headers={"traceparent": CALLER})
            assert resp.headers["traceparent"].split("-")[1] == CALLER.split("-")[1]  # passed on all the same
    finally:
        assert _stop(proc) == 0


@pytest.mark.parametrize("env, says", [
    ({"OTEL_TRACES_EXPORTER": "jaeger_thrift"}, "no such span exporter is installed"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "http:// or https://"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"}, "carrier-pigeon"),
])
def test_a_bad_exporter_setting_is_one_warning_and_requests_are_served(
        env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch, no_leaks) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with hogar_nb.run(hogar_nb.parse_udgl(FOUR)) as dep:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tracing = dep.enable_tracing(sample=1.0)
        assert [str(w.message) for w in caught if issubclass(w.category, TracingWarning)] == [
            next(str(w.message) for w in caught if says in str(w.message))]
        assert tracing.exporter is None
        assert [dep.call(x) for x in range(200)] == [expected(x)[0] for x in range(200)]
        assert len(dep.trace(dep.submit(5).context.trace_id or "", wait=10)["requests"]) == 1


@pytest.mark.parametrize("rate", ["2", "-0.1", "lots", "150%"])
def test_a_bad_trace_sample_rate_is_a_usage_error(tmp_path: Path, rate: str) -> None:
    (tmp_path / "four.udgl").write_text(FOUR)
    out = subprocess.run([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "four.udgl"), "--port", "0",
                          "--trace-sample", rate], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"argument --trace-sample: got {rate!r}; expected a fraction from 0 to 1" in out.stderr
