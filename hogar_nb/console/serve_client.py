"""The console's side of a ``hogar serve`` process: its read endpoints and admin API, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from ..core.error_wire import ErrorWire
from .config import ConsoleError

__all__ = ["ServeClient", "ServeError"]


class ServeError(ConsoleError):
    """A deployment did not answer, or refused a request (``status``: HTTP status or None)."""

    def __init__(self, message: str, status: int | None = None, cause: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.cause = cause


class ServeClient:
    """Calls to one ``hogar serve`` base URL; every failure is a :class:`ServeError`."""

    def __init__(self, url: str, token: str = "", timeout: float = 2.0, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._client = client

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        client = self._client or httpx
        try:
            response = client.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except httpx.HTTPError as err:
            raise ServeError(f"{self.url} did not answer: {err.__class__.__name__}") from None
        if response.status_code >= 400:
            # Only a hogar serve's JSON error is shown; any other body is the server's business.
            cause, message = None, "not a hogar serve error"
            try:
                wire = ErrorWire.from_json(orjson.loads(response.content), response.status_code)
            except ValueError:  # not the wire form (orjson's error is one too): no foreign text
                pass
            else:
                cause, message = wire.cause, (wire.message or message)[:500]
            raise ServeError(f"{self.url}{path} answered {response.status_code}: {message}",
                             response.status_code, cause)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise ServeError(f"{self.url}{path} did not answer JSON") from None

    def traces(self, status: str | None = None, limit: int = 50) -> list[dict]:
        """Summaries of the server's traced requests (``status``: error, slow or None)."""
        params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
        doc = self._request("GET", "/hogar/v1/traces", params=params)
        rows = doc.get("traces") if isinstance(doc, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ServeError(f"{self.url}/hogar/v1/traces did not answer a list of traces")
        return rows

    def trace(self, trace_id: str) -> dict:
        """One trace's spans (``trace_id``: 32 hex digits)."""
        doc = self._request("GET", f"/hogar/v1/traces/{trace_id}")
        spans = doc.get("spans") if isinstance(doc, dict) else None
        keys = {"span_id", "parent_id", "name", "kind", "start", "end", "duration_ms", "status", "attributes"}
        if not isinstance(spans, list) or not all(isinstance(s, dict) and keys <= set(s) for s in spans):
            raise ServeError(f"{self.url}/hogar/v1/traces/{trace_id} did not answer a trace")
        return doc

    def identify(self) -> dict:
        """The served graph's EARG document, checked to be one; ServeError saying only why not.

        What a URL answers that is not a ``hogar serve`` never appears in the message.
        """
        from ..core.earg import loads_earg
        from ..errors import HogarError

        try:
            doc = self.graph()
        except ServeError as err:
            status = f"answered {err.status}" if err.status else "did not answer"
            raise ServeError(f"{self.url} is not a hogar serve: GET /hogar/v1/graph {status}", err.status) from None
        try:
            if not isinstance(doc, dict):
                raise TypeError
            loads_earg(orjson.dumps(doc).decode(), filename="graph.json")
            status = self.status()
            if not isinstance(status, dict) or not isinstance(status.get("nodes"), dict):
                raise TypeError
        except (HogarError, TypeError, ValueError, RecursionError):
            raise ServeError(f"{self.url} is not a hogar serve: GET /hogar/v1/graph is not a graph it serves") from None
        return doc

    def status(self) -> dict:
        return self._request("GET", "/hogar/v1/status")

    def events(self) -> list[dict]:
        return self._request("GET", "/hogar/v1/events")

    def quality(self) -> dict:
        return self._request("GET", "/hogar/v1/quality")

    def shadow(self) -> dict:
        return self._request("GET", "/hogar/v1/shadow")

    def placement(self) -> dict:
        return self._request("GET", "/hogar/v1/placement")

    def feedback(self, labels: list[dict]) -> dict:
        """Delayed labels (``{"request_id", "label"}`` each) for the server to join with
        its predictions; its answer counts them by outcome."""
        return self._request("POST", "/hogar/v1/feedback", json=labels)

    def graph(self) -> dict:
        return self._request("GET", "/hogar/v1/graph")

    def _admin(self, path: str, body: dict) -> dict:
        if not self.token:
            raise ServeError("the console holds no admin token for this deployment", 401)
        return self._request("POST", "/hogar/v1/admin/" + path, json=body,
                             headers={"Authorization": f"Bearer {self.token}"})

    def scale(self, node: str, replicas: int) -> dict:
        return self._admin("scale", {"node": node, "replicas": replicas})

    def reconfigure(self, node: str, attrs: dict[str, Any]) -> dict:
        return self._admin("reconfigure", {"node": node, "attrs": attrs})

    def inject_fault(self, node: str, kind: str, rate: float, **extra: Any) -> dict:
        return self._admin("faults", {"node": node, "kind": kind, "rate": rate, **extra})

    def rollout(self, split: str, action: str, **settings: Any) -> dict:
        """Start, pause, resume, promote or abort the rollout at ``split``, or read its
        status (``settings``: the candidate and the policy, with ``start``)."""
        return self._admin("rollout", {"split": split, "action": action, **settings})

    def clear_faults(self) -> dict:
        return self._admin("clear-faults", {})
