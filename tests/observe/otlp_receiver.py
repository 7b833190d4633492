"""A minimal OTLP/HTTP trace receiver on 127.0.0.1: decodes what exporters send with
opentelemetry-proto and keeps every span."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


class Receiver:
    """``spans``: one dict per span received (ids as hex, the same form as
    ``tests.observe.traced.normalise``); ``resources``: each batch's resource
    attributes; ``posts``: how many export requests came."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.resources: list[dict[str, Any]] = []
        self.posts = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver._take(self.path, self.headers.get("content-type"), body)
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _take(self, path: str, content_type: str | None, body: bytes) -> None:
        assert path == "/v1/traces" and content_type == "application/x-protobuf", (path, content_type)
        request = ExportTraceServiceRequest.FromString(body)
        with self.lock:
            self.posts += 1
            for rs in request.resource_spans:
                self.resources.append({a.key: _value(a.value) for a in rs.resource.attributes})
                for scope in rs.scope_spans:
                    for s in scope.spans:
                        attrs = {a.key: _value(a.value) for a in s.attributes}
                        self.spans.append({
                            "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(),
                            "parent_id": s.parent_span_id.hex() or None, "name": s.name,
                            "kind": attrs.pop("hogar.kind", None), "span_kind": s.kind, "ok": s.status.code != 2,
                            "start": s.start_time_unix_nano / 1e9, "end": s.end_time_unix_nano / 1e9,
                            "attrs": attrs, "scope": scope.scope.name})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
