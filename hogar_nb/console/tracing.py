"""The console's own pages as OpenTelemetry traces, when an exporter is configured.

With an exporter configured the standard way (``OTEL_TRACES_EXPORTER``,
``OTEL_EXPORTER_OTLP_ENDPOINT``...: read as ``hogar serve`` reads them, see
:mod:`hogar_nb.observe.export`), ``hogar console serve`` instruments Django with
opentelemetry-instrumentation-django: one server span per request, continuing an
incoming ``traceparent``, sent through the SDK's batch processor under the service
name ``hogar-console`` (unless ``OTEL_SERVICE_NAME`` says). Without an exporter,
or without the ``tracing`` extra, nothing is instrumented.
"""

from __future__ import annotations

import logging
import os
from typing import Any

__all__ = ["instrument", "uninstrument"]

log = logging.getLogger(__name__)


def instrument(exporters: list[Any] | None = None) -> Any:
    """Trace the console's requests to ``exporters`` (None: those the environment
    configures); returns the SDK's TracerProvider, or None when nothing is traced.
    Call it before Django loads its middleware (before the ASGI application)."""
    try:
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from ..observe.export import GuardedExporter, exporters_from_env
    except ImportError:  # the tracing extra is not installed: the console is not traced
        return None
    found = exporters if exporters is not None else exporters_from_env()
    if not found:
        return None
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    provider = TracerProvider(resource=Resource.create({} if named else {SERVICE_NAME: "hogar-console"}))
    for exporter in found:
        provider.add_span_processor(BatchSpanProcessor(GuardedExporter(exporter)))
    DjangoInstrumentor().instrument(tracer_provider=provider)
    log.info("tracing the console's requests to %s", [type(e).__name__ for e in found])
    return provider


def uninstrument(provider: Any) -> None:
    """Stop tracing the console's requests (a provider :func:`instrument` returned);
    what is buffered is exported first."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    DjangoInstrumentor().uninstrument()
    provider.shutdown()
