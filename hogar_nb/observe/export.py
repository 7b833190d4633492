"""Send traces to an OpenTelemetry collector, configured the standard way.

``OTEL_TRACES_EXPORTER`` names the exporters (``otlp``, ``console``, ``none``; or
any installed ``opentelemetry_traces_exporter`` entry point), each configured by
its own variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``..._TRACES_ENDPOINT``,
``..._HEADERS``, ``..._TIMEOUT``...); ``OTEL_SERVICE_NAME`` and
``OTEL_RESOURCE_ATTRIBUTES`` describe the service; ``OTEL_SDK_DISABLED=true`` turns
export off. With neither the exporter nor an OTLP endpoint set, nothing is
exported (the trace store still keeps traces). Spans go through the SDK's
:class:`BatchSpanProcessor`, off the request path; a configuration that cannot
work disables export with one :class:`TracingWarning` and never fails a request.
"""

from __future__ import annotations

import logging
import os
import warnings
from importlib.metadata import entry_points
from typing import Any, Sequence
from urllib.parse import urlsplit

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from .._version import __version__
from .sampling import TracingWarning
from .spans import Trace

__all__ = ["Exporter", "GuardedExporter", "exporters_from_env", "readable_spans"]

log = logging.getLogger(__name__)

_SCOPE = InstrumentationScope(__package__ or __name__, __version__)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def _warn(message: str) -> None:
    warnings.warn(TracingWarning(message), stacklevel=3)
    log.warning("%s", message)


def _protocol() -> str:
    return (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or "http/protobuf").strip().lower()


def _names() -> list[str]:
    raw = os.environ.get("OTEL_TRACES_EXPORTER")
    if raw is None:  # an endpoint alone means OTLP, the specification's default exporter
        return ["otlp"] if any(os.environ.get(e) for e in _ENDPOINTS) else []
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    return [] if "none" in names else names


def _check_endpoints() -> str | None:
    for var in _ENDPOINTS:
        value = os.environ.get(var)
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                return f"got {value!r} for {var}; expected an http:// or https:// URL"
    return None


def exporters_from_env() -> list[SpanExporter]:
    """The span exporters the environment asks for; a bad setting is one
    TracingWarning and no export at all."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = _names()
    if not names:
        return []
    problem = _check_endpoints() if "otlp" in names or "otlp_proto_http" in names else None
    out: list[SpanExporter] = []
    for name in names:
        if problem is not None:
            break
        entry = name
        if name == "otlp":
            protocol = _protocol()
            entry = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}.get(protocol, "")
            if not entry:
                problem = (f"got {protocol!r} for OTEL_EXPORTER_OTLP_PROTOCOL; expected http/protobuf "
                           "or grpc")
                break
        found = list(entry_points(group="opentelemetry_traces_exporter", name=entry))
        if not found:
            problem = (f"OTEL_TRACES_EXPORTER names {name!r}, but no such span exporter is installed "
                       "(pip install 'hogar_nb[tracing]' brings otlp over HTTP)")
            break
        try:
            out.append(found[0].load()())
        except Exception as exc:  # the exporter's own check of its settings
            problem = f"the {name!r} span exporter cannot start: {type(exc).__name__}: {exc}"
            break
    if problem is not None:
        _warn(f"{problem}; traces are not exported (the trace store still keeps them)")
        for exporter in out:
            exporter.shutdown()
        return []
    return out


class GuardedExporter(SpanExporter):
    """An exporter whose failures are one warning, then counted, never raised."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.failures = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # an exporter must never reach a request
            result = SpanExportResult.FAILURE
            detail = f"{type(exc).__name__}: {exc}"
        else:
            detail = "the collector did not take them"
        if result is not SpanExportResult.SUCCESS:
            self.failures += 1
            if self.failures == 1:
                log.warning("exporting %d spans with %s failed (%s); later failures are counted, not logged",
                            len(spans), type(self.inner).__name__, detail)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _resource(graph: str) -> Resource:
    from_env = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", "")
    return Resource.create({} if from_env else {SERVICE_NAME: f"hogar-{graph}" if graph else "hogar"})


def readable_spans(trace: Trace, resource: Resource) -> list[ReadableSpan]:
    """``trace`` as the SDK's finished spans, with the ids it was given."""
    out = []
    root = trace.root
    for span in trace.spans:
        context = SpanContext(span.trace_id, span.span_id, False, _SAMPLED)
        parent = (SpanContext(span.trace_id, span.parent_id, span is root, _SAMPLED)
                  if span.parent_id else None)
        attrs = {"hogar.kind": span.kind, **span.attrs}
        kind = SpanKind.SERVER if span is root and trace.route else SpanKind.INTERNAL
        status = Status(StatusCode.UNSET) if span.ok else Status(StatusCode.ERROR, attrs.get("hogar.cause"))
        out.append(ReadableSpan(span.name, context, parent, resource, attrs, kind=kind, status=status,
                                start_time=int(span.start * 1e9), end_time=int(span.end * 1e9),
                                instrumentation_scope=_SCOPE))
    return out


class Exporter:
    """Hands finished traces to the configured exporters through batch processors."""

    def __init__(self, exporters: list[SpanExporter], graph: str = "") -> None:
        self.exporters = [GuardedExporter(e) for e in exporters]
        self.processors = [BatchSpanProcessor(e) for e in self.exporters]
        self.resource = _resource(graph)

    @classmethod
    def from_env(cls, graph: str = "") -> Exporter | None:
        found = exporters_from_env()
        return cls(found, graph) if found else None

    @property
    def failures(self) -> int:
        return sum(e.failures for e in self.exporters)

    def __call__(self, trace: Trace) -> None:
        spans = readable_spans(trace, self.resource)
        for processor in self.processors:
            for span in spans:
                processor.on_end(span)

    def flush(self, timeout: float = 5.0) -> bool:
        return all(p.force_flush(int(timeout * 1000)) for p in self.processors)

    def close(self) -> None:
        for processor in self.processors:
            processor.shutdown()

    def __repr__(self) -> str:
        return f"<Exporter {[type(e.inner).__name__ for e in self.exporters]}>"


