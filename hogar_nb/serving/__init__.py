"""The HTTP front: serve any running Deployment over HTTP (Starlette on uvicorn).

``create_app(dep)`` builds the ASGI application (plain JSON routes per source, the
Open Inference Protocol v2, ``/metrics``, ``/hogar/v1/*`` and the optional admin API);
``HTTPServer`` runs it on a background thread; ``hogar serve FILE`` runs it from a
shell. Only the :class:`~hogar_nb.runtime.protocol.DeploymentProtocol` is used, so any
backend can be served. Submodules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .app import create_app
    from .options import ServeOptions
    from .server import HTTPServer, serve_http

__all__ = ["HTTPServer", "ServeOptions", "create_app", "serve_http"]

_WHERE = {"create_app": "app", "ServeOptions": "options", "HTTPServer": "server", "serve_http": "server"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hogar_nb.serving' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
