"""A deployment's traced requests: the slowest and failed ones, and one trace's waterfall."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from ...core.trace_rows import span_rows
from ..models import Deployment
from ..roles import writes
from ..serve_client import ServeClient, ServeError

__all__ = ["trace_detail", "trace_list"]


@writes("operator")
def trace_list(request, pk: int):
    dep = get_object_or_404(Deployment, pk=pk)
    lists, error = {}, None
    try:
        client = ServeClient(dep.url, dep.admin_token, timeout=5.0)
        lists = {"Slowest": client.traces("slow", 20), "Failed": client.traces("error", 20),
                 "Most recent": client.traces(None, 20)}
    except ServeError as err:
        error = str(err)
    return render(request, "console/trace_list.html", {"dep": dep, "lists": lists, "error": error})


@writes("operator")
def trace_detail(request, pk: int, trace_id: str):
    dep = get_object_or_404(Deployment, pk=pk)
    rows, error, doc = [], None, {}
    try:
        doc = ServeClient(dep.url, dep.admin_token, timeout=5.0).trace(trace_id)
    except ServeError as err:
        error = str(err)
    else:
        spans = doc["spans"]
        t0 = min(s["start"] for s in spans)
        total = max(max(s["end"] for s in spans) - t0, 1e-9)
        for depth, s in span_rows(spans):
            failed = s["status"] != "ok"
            rows.append({"depth": depth, "indent": depth * 1.2, "name": s["name"], "kind": s["kind"],
                         "css": "failed" if failed else s["kind"], "status": s["status"],
                         "duration_ms": s["duration_ms"], "left": round((s["start"] - t0) / total * 100, 3),
                         "width": max(round((s["end"] - s["start"]) / total * 100, 3), 0.2),
                         "attributes": sorted((str(k), str(v)) for k, v in (s["attributes"] or {}).items())})
    return render(request, "console/trace.html", {"dep": dep, "trace_id": trace_id, "rows": rows, "error": error,
                                                  "requests": doc.get("requests", [])})
