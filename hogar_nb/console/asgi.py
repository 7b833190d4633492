"""The ASGI application, for ``hogar console serve`` (uvicorn) or any ASGI server."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hogar_nb.console.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

from .tracing import instrument  # noqa: E402

instrument()  # the console's own pages, when an OpenTelemetry exporter is configured
application = get_asgi_application()
