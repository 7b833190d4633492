"""The views and servers a deployment opens on itself: the notebook's dashboard and
report, Prometheus metrics and the HTTP front (each reached through the front-end
registry or its own module, so the runtime imports no Jupyter or HTTP package)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, cast

if TYPE_CHECKING:  # pragma: no cover
    from .protocol import DeploymentProtocol

__all__ = ["FrontsMixin"]


class FrontsMixin:
    """``monitor``, ``report``, ``serve_metrics`` and ``serve_http`` of
    :class:`~hogar_nb.runtime.base.DeploymentBase`."""

    _http_servers: list[Any]
    _metrics_server: Any
    metrics_url: str | None
    _stopped: bool
    _stopped_error: Callable[[], Exception]  # DeploymentBase's

    def monitor(self, **options: Any) -> Any:
        """A live dashboard of this deployment (in a notebook): panels and a health-coloured graph."""
        from .._frontends import frontend

        return frontend("monitor")(self, **options)

    def report(self, **options: Any) -> Any:
        """A static snapshot of the dashboard, kept in the notebook's saved output."""
        from .._frontends import frontend

        return frontend("report")(self, **options)

    def serve_metrics(self, port: int = 0) -> str:
        """Expose the metrics in the Prometheus text format on 127.0.0.1; returns the URL."""
        from .prometheus import start_server

        if self._metrics_server is None:
            self._metrics_server, bound = start_server(cast("DeploymentProtocol", self), port)
            self.metrics_url = f"http://127.0.0.1:{bound}/metrics"
        return self.metrics_url  # type: ignore[return-value]

    def serve_http(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> str:
        """Serve this deployment over HTTP (JSON routes, Open Inference Protocol v2,
        ``/metrics``, ``/hogar/v1/*``) on a background thread; returns the base URL.
        ``options``: ``max_body``, ``timeout``, ``admin_token``, ``allow_fault_injection``,
        ``drain_timeout``. :meth:`stop` closes the server."""
        from .._frontends import frontend

        if self._stopped:
            raise self._stopped_error()
        server = frontend("serve_http")(self, host, port, **options)
        self._http_servers.append(server)
        return server.url
