"""Graphs: upload or paste, versions, drawing, diffs and downloads."""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from .. import drawing
from ..diffing import structural_diff, text_diff
from ..forms import UploadForm
from ..models import GraphRecord, GraphVersion, audit
from ..roles import writes
from ..text import readable
from ..readiness import READINESS_CODE, startup_warnings
from ..uploads import check_upload

__all__ = ["graph_detail", "graph_diff", "graph_list", "graph_upload", "version_detail", "version_download"]


def diagnostics_rows(diagnostics, source: str | None) -> list[dict]:
    """The diagnostics box's rows: severity, code, where, message, caret snippet, hint."""
    from ...core.diagnostics import sort_key

    lines = source.split("\n") if source else None
    return [{"severity": d.severity, "code": d.code, "message": d.message, "hint": d.hint or "",
             "where": f"line {d.line}, column {d.column}" if d.line is not None else "",
             "snippet": d.snippet(source, lines) if source else "", "is_error": d.is_error}
            for d in sorted(diagnostics, key=sort_key)]


def _summary(diagnostics) -> str:
    n_err = sum(d.is_error for d in diagnostics)
    n_warn = sum(d.severity == "warning" for d in diagnostics)
    text = f"{n_err} error{'s' * (n_err != 1)}"
    return text + (f", {n_warn} warning{'s' * (n_warn != 1)}" if n_warn else "")


@writes("operator")
def graph_list(request):
    graphs = GraphRecord.objects.all().prefetch_related("versions")
    rows = [{"graph": g, "latest": g.latest, "count": g.versions.count()} for g in graphs]
    return render(request, "console/graph_list.html", {"rows": rows, "form": UploadForm()})


@writes("operator")
def graph_upload(request):
    if request.method != "POST":
        return render(request, "console/graph_upload.html", {"form": UploadForm()})
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "console/graph_upload.html", {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    limit = settings.HOGAR_MAX_UPLOAD
    if upload is not None:
        data, filename, size = upload.read(limit + 1), upload.name or "", upload.size
    else:
        data, filename = form.cleaned_data["text"].encode("utf-8"), ""
        size = len(data)
    checked = check_upload(data, filename, form.cleaned_data["format"], max_bytes=limit, size=size)
    if not checked.ok:
        context = {"form": form, "summary": _summary(checked.diagnostics),
                   "diagnostics": diagnostics_rows(checked.diagnostics, checked.text or None),
                   "filename": checked.filename}
        return render(request, "console/graph_upload.html", context, status=400)
    graph = checked.graph
    name = (form.cleaned_data["name"] or graph.name).strip()
    warnings = [d.to_dict() for d in checked.diagnostics] + startup_warnings(data, checked.format)
    with transaction.atomic():
        record, _ = GraphRecord.objects.select_for_update().get_or_create(name=name)
        last = record.versions.order_by("-number").values_list("number", flat=True).first() or 0
        version = GraphVersion.objects.create(
            graph=record, number=last + 1, source=checked.text, source_format=checked.format,
            filename=filename[:255], udgl=graph.to_udgl(), earg=graph.to_earg(), warnings=warnings,
            comment=form.cleaned_data["comment"], created_by=request.user)
        audit(request.user, "upload", str(version), graph=record.name, version=version.number,
              nodes=len(graph.nodes), format=checked.format)
    return redirect("version", pk=record.pk, number=version.number)


@writes("operator")
def graph_detail(request, pk: int):
    record = get_object_or_404(GraphRecord, pk=pk)
    latest = record.latest
    if latest is None:
        raise Http404("this graph has no versions")
    return redirect("version", pk=record.pk, number=latest.number)


def _version(pk: int, number: int) -> GraphVersion:
    return get_object_or_404(GraphVersion.objects.select_related("graph", "created_by"), graph_id=pk, number=number)


EXPORTS = {"ray-serve": "Ray Serve config", "kserve": "KServe InferenceGraph"}


def download_formats() -> list[tuple[str, str]]:
    """(key, label) of every download: UDGL, EARG YAML/JSON and the exports to other runtimes."""
    return [("udgl", "UDGL"), ("yaml", "EARG YAML"), ("json", "EARG JSON"), *EXPORTS.items()]


def export_refusals(version: GraphVersion) -> dict[str, str]:
    """Why each export this version cannot make fails (target: first problem), so the page
    offers only the downloads that work. Versions never change, so this is worked out once."""
    return dict(_refusals(version.pk, version.graph.name, json.dumps(version.earg)))


@functools.lru_cache(maxsize=512)
def _refusals(pk: int, name: str, earg: str) -> tuple[tuple[str, str], ...]:
    from ...core.earg import loads_earg
    from ...export import export_graph

    graph = loads_earg(earg, filename=f"{name}.json")
    out = {}
    for target in EXPORTS:
        result = export_graph(graph, target)
        if not result.ok:
            first = next((d for d in result.diagnostics if d.is_error), None)
            out[target] = first.message if first is not None else "cannot be exported"
    return tuple(out.items())


def _export(request, version: GraphVersion, target: str) -> HttpResponse | str:
    """The export's YAML, or a 422 page listing what the target cannot express."""
    from ...core.earg import loads_earg
    from ...export import export_graph

    graph = loads_earg(json.dumps(version.earg), filename=f"{version.graph.name}.json")
    result = export_graph(graph, target)
    if not result.ok:
        return render(request, "console/export_refused.html",
                      {"version": version, "graph": version.graph, "target": EXPORTS[target],
                       "diagnostics": diagnostics_rows(result.diagnostics, None), "has_errors": True,
                       "summary": _summary(result.diagnostics)}, status=422)
    return result.to_yaml()


@writes("operator")
def version_detail(request, pk: int, number: int):
    version = _version(pk, number)
    versions = list(version.graph.versions.order_by("-number").select_related("created_by"))
    doc = version.earg
    kinds = sorted({n.get("kind", "python") for n in doc.get("nodes", [])})
    refused = export_refusals(version)
    context = {
        "version": version, "graph": version.graph, "versions": versions,
        "elements": drawing.elements(doc),
        "style": drawing.stylesheet(),
        "legend": drawing.kind_legend(kinds),
        "warnings": version.warnings,
        "would_not_start": [w for w in version.warnings if w.get("code") == READINESS_CODE],
        "formats": [(key, label, refused.get(key, "")) for key, label in download_formats()],
        "n_nodes": len(doc.get("nodes", [])), "n_edges": len(doc.get("edges", [])),
    }
    return render(request, "console/version.html", context)


@writes("operator")
def version_download(request, pk: int, number: int, fmt: str):
    version = _version(pk, number)
    base = version.graph.name if version.graph.name.isidentifier() else "graph"
    if fmt == "udgl":
        body, ctype, ext = version.udgl, "text/plain; charset=utf-8", "udgl"
    elif fmt in ("yaml", "json"):
        from ...core.earg.dump import earg_to_text

        body = earg_to_text(version.earg, fmt)
        ctype = "application/json" if fmt == "json" else "application/yaml"
        ext = fmt
    elif fmt in EXPORTS:
        body = _export(request, version, fmt)
        if isinstance(body, HttpResponse):
            return body
        ctype, ext = "application/yaml", f"{fmt}.yaml"
    else:
        raise Http404(f"no download format {fmt!r}")
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{base}-v{version.number}.{ext}"'
    return response


def _readable(diff):
    """The diff with its old and new values as text (lists and mappings, not Python reprs)."""
    diff.changed = [(what, key, readable(a), readable(b)) for what, key, a, b in diff.changed]
    return diff


@writes("operator")
def graph_diff(request, pk: int):
    record = get_object_or_404(GraphRecord, pk=pk)
    numbers = list(record.versions.order_by("number").values_list("number", flat=True))
    if not numbers:
        raise Http404("this graph has no versions")
    try:
        a = int(request.GET.get("a", numbers[-2] if len(numbers) > 1 else numbers[-1]))
        b = int(request.GET.get("b", numbers[-1]))
    except ValueError:
        return render(request, "console/error.html", {"message": "versions are numbers"}, status=400)
    old, new = _version(pk, a), _version(pk, b)
    context = {"graph": record, "old": old, "new": new, "numbers": numbers,
               "lines": text_diff(old.udgl, new.udgl, f"{record.name} v{a}", f"{record.name} v{b}"),
               "structure": _readable(structural_diff(old.earg, new.earg))}
    return render(request, "console/graph_diff.html", context)
