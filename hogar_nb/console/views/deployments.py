"""Deployments: start a version here or register a URL, list them, stop them, show them
(changes to a running one are in :mod:`.changes`)."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
import threading
import time

from django.contrib import messages
from django.forms.models import model_to_dict
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import drawing
from ..forms import FaultForm, ReconfigureForm, RegisterForm, StartForm
from ..models import Deployment, DeploymentRevision, GraphVersion, MetricPoint, TimelineEvent, audit
from ...core.kinds import RECONFIGURABLE, WORKER_KINDS
from ..allowlist import refusals
from ..feedback import keeps_predictions, label_totals
from ..roles import has_role, requires, writes
from ..serve_client import ServeClient, ServeError
from ..services import HUB, supervisor
from ..text import duration_ms
from .live import STATUS_FIELDS, status_of
from .rollouts import ACTIONS as ROLLOUT_ACTIONS
from .rollouts import METRICS, rollout_rows, split_arms

__all__ = ["deployment_detail", "deployment_list", "deployment_register", "deployment_remove",
           "deployment_restart", "deployment_start", "deployment_stop", "event_json", "history"]


def _row(dep: Deployment) -> dict:
    """A deployment's figures; two restart counts, one per meaning: ``server_restarts``, how
    often the console started its ``hogar serve`` again, and ``replica_restarts``, how many
    replicas the server replaced (crashes, hangs and outlier ejections alike)."""
    live = HUB.latest(dep.pk)
    s = live or dep.summary or {}
    fresh = live is not None and time.time() - live["t"] < 5
    replica_restarts = s.get("restarts", s.get("node_restarts"))
    return {"dep": dep, "rps": s.get("rps"), "error_rate": s.get("error_rate"), "p99": s.get("p99"),
            "server_restarts": dep.restarts,
            "replica_restarts": None if replica_restarts is None else int(replica_restarts),
            "fresh": fresh}


@writes("operator")
def deployment_list(request):
    deps = Deployment.objects.select_related("version__graph")
    return render(request, "console/deployment_list.html",
                  {"rows": [_row(d) for d in deps], "register": RegisterForm()})


def _name_taken(name: str) -> str:
    """Why ``name`` cannot name a new deployment (another one has it), or ""."""
    other = Deployment.objects.filter(name=name).first()
    if other is None:
        return ""
    return (f"a deployment named {name!r} exists already ({other.state}); choose another name, "
            "or remove that one first")


@requires("operator")
@require_POST
def deployment_start(request, pk: int, number: int):
    version = get_object_or_404(GraphVersion.objects.select_related("graph"), graph_id=pk, number=number)
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("version", pk=pk, number=number)
    name = (form.cleaned_data.get("name") or version.graph.name).strip()
    taken = _name_taken(name)
    if taken:
        messages.error(request, taken)
        return redirect("version", pk=pk, number=number)
    outside = refusals(version.earg)
    if outside and not has_role(request.user, "admin"):
        audit(request.user, "deploy-refused", str(version), graph=version.graph.name, version=version.number,
              refused=outside)
        return render(request, "console/error.html", {"message": "This version cannot be deployed: "
                                                      + "; ".join(outside)}, status=403)
    dep = Deployment.objects.create(
        name=name, kind=Deployment.MANAGED, version=version, earg=version.earg,
        admin_token=secrets.token_urlsafe(32), allow_faults=bool(form.cleaned_data.get("allow_faults")),
        backend=form.cleaned_data["backend"], ray_address=form.cleaned_data.get("ray_address") or "",
        state="starting", created_by=request.user)
    DeploymentRevision.objects.create(deployment=dep, number=1, version=version, by=request.user.get_username(),
                                      note=f"deployed v{version.number}")
    audit(request.user, "deploy", name, graph=version.graph.name, version=version.number, deployment=dep.pk,
          allow_faults=dep.allow_faults, outside_allowlist=outside, backend=dep.backend,
          ray_address=dep.ray_address)
    threading.Thread(target=supervisor().launch, args=(dep.pk,), daemon=True).start()
    return redirect("deployment", pk=dep.pk)


@requires("admin")
@require_POST
def deployment_register(request):
    form = RegisterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "give a name and the http:// URL of a running hogar serve")
        return redirect("deployments")
    url = form.cleaned_data["url"].rstrip("/")
    taken = _name_taken(form.cleaned_data["name"])
    if taken:
        messages.error(request, taken)
        return redirect("deployments")
    try:
        earg = ServeClient(url).identify()
    except ServeError as err:
        messages.error(request, f"cannot register {url}: {err}")
        return redirect("deployments")
    dep = Deployment.objects.create(
        name=form.cleaned_data["name"], kind=Deployment.REGISTERED, url=url, earg=earg,
        admin_token=form.cleaned_data["admin_token"], state="running", created_by=request.user)
    audit(request.user, "register", dep.name, url=url, deployment=dep.pk)
    return redirect("deployment", pk=dep.pk)


@requires("operator")
@require_POST
def deployment_stop(request, pk: int):
    dep = get_object_or_404(Deployment, pk=pk)
    Deployment.objects.filter(pk=pk).update(desired="stopped", state="stopping")
    if dep.kind == Deployment.MANAGED:
        supervisor().stop(pk)
    Deployment.objects.filter(pk=pk).update(state="stopped")
    event = TimelineEvent.objects.create(deployment=dep, time=time.time(), kind="stop",
                                         text=f"stopped by {request.user.get_username()}")
    HUB.add_events(pk, [event_json(event)])
    audit(request.user, "stop", dep.name, deployment=pk)
    return redirect("deployment", pk=pk)


@requires("operator")
@require_POST
def deployment_restart(request, pk: int):
    """Start a stopped or failed deployment again (a registered one is watched again)."""
    dep = get_object_or_404(Deployment, pk=pk)
    if dep.desired == "running" and dep.state not in ("failed", "stopped"):
        messages.error(request, f"{dep.name} is {dep.state}; stop it first")
        return redirect("deployment", pk=pk)
    managed = dep.kind == Deployment.MANAGED
    Deployment.objects.filter(pk=pk).update(desired="running", error="",
                                            state="starting" if managed else "running")
    event = TimelineEvent.objects.create(deployment=dep, time=time.time(), kind="start",
                                         text=f"started again by {request.user.get_username()}")
    HUB.add_events(pk, [event_json(event)])
    audit(request.user, "restart", dep.name, deployment=pk)
    if managed:
        threading.Thread(target=supervisor().launch, args=(pk,), daemon=True).start()
    return redirect("deployment", pk=pk)


@requires("operator")
@require_POST
def deployment_remove(request, pk: int):
    """Forget a stopped or failed deployment: its history, timeline and files."""
    dep = get_object_or_404(Deployment, pk=pk)
    if dep.desired == "running" and dep.state not in ("failed", "stopped"):
        messages.error(request, f"{dep.name} is {dep.state}; stop it before removing it")
        return redirect("deployment", pk=pk)
    if dep.kind == Deployment.MANAGED:
        supervisor().forget(pk)
    name = dep.name
    dep.delete()
    HUB.forget(pk)
    audit(request.user, "remove", name, deployment=pk)
    messages.success(request, f"removed {name}")
    return redirect("deployments")


def event_json(e: TimelineEvent) -> dict:
    return {"time": e.time, "kind": e.kind, "node": e.node, "text": e.text}


def plotly_url() -> str:
    """plotly.js with its version in the URL: browsers keep it for a year (see settings)."""
    from importlib.metadata import version

    from django.templatetags.static import static

    return f"{static('plotly/plotly.min.js')}?v={version('plotly')}"


def _quality(dep: Deployment, doc: dict) -> tuple[list[dict], float | None]:
    """The served graph's model quality (rows for the page) and, when it is the one
    last stored rather than the server's answer now, the time it was stored: the
    collector's latest reading, else the server's answer within a second, else the
    stored one (a stopped or restarting server's last word)."""
    from ..models import QualitySnapshot
    from ..quality import in_order, quality_rows
    from ..serve_client import ServeClient

    if not any(n.get("kind") == "model" for n in doc.get("nodes", [])):
        return [], None
    live = dep.url and dep.state == "running"
    _number, rows = HUB.quality(dep.pk)
    if live and rows is not None:
        return rows, None
    if live:
        try:
            return quality_rows(ServeClient(dep.url, timeout=1.0).quality(), doc), None
        except ServeError:
            pass
    stored = QualitySnapshot.objects.filter(deployment=dep).order_by("-time").first()
    if stored is None:
        return [], None
    return in_order(stored.rows), stored.time


def _shadow(dep: Deployment, doc: dict) -> list[dict]:
    """Each mirror candidate of the served graph beside what it shadows (rows for the
    page), or none when it is not running, has no mirror edge, or does not answer
    within a second."""
    from ..serve_client import ServeClient, ServeError
    from ..shadow import mirror_candidates, shadow_rows

    if not dep.url or dep.state != "running" or not mirror_candidates(doc):
        return []
    try:
        return shadow_rows(ServeClient(dep.url, timeout=1.0).shadow(), doc)
    except ServeError:
        return []


def _placement(dep: Deployment) -> list[dict]:
    """Where the served graph's replicas were planned and where they run (rows for the
    page); none for a server that predates ``/hogar/v1/placement`` or does not answer."""
    from ..serve_client import ServeClient, ServeError
    from ..shadow import placement_rows

    if not dep.url or dep.state != "running":
        return []
    try:
        return placement_rows(ServeClient(dep.url, timeout=2.0).placement(), dep.earg or {})
    except ServeError:
        return []


@writes("operator")
def deployment_detail(request, pk: int):
    dep = get_object_or_404(Deployment.objects.select_related("version__graph"), pk=pk)
    doc = dep.earg or {}
    workers = [n["name"] for n in doc.get("nodes", []) if n.get("kind", "python") in WORKER_KINDS]
    settings_rows = {n["name"]: {"replicas": n.get("replicas"), "batch": (n.get("batch") or {}).get("max_size"),
                                 "batch_wait": duration_ms((n.get("batch") or {}).get("max_wait_ms")),
                                 "timeout": duration_ms(n.get("timeout_ms")), "retries": n.get("retries")}
                     for n in doc.get("nodes", []) if n["name"] in workers}
    events = [{"when": datetime.fromtimestamp(e.time, timezone.utc), "kind": e.kind, "node": e.node, "text": e.text}
              for e in TimelineEvent.objects.filter(deployment=dep).order_by("-time")[:200]]
    quality, quality_stored = _quality(dep, doc)
    labels = label_totals(dep.pk)
    context = {
        "plotly_url": plotly_url(),
        "dep": dep, "row": _row(dep), "status": status_of(model_to_dict(dep, fields=STATUS_FIELDS)), "elements": drawing.elements(doc), "style": drawing.stylesheet(health=True),
        "legend": drawing.health_legend(), "workers": workers, "attrs": RECONFIGURABLE,
        "settings_rows": settings_rows, "events": events,
        "fault_form": FaultForm(), "reconfigure_form": ReconfigureForm(),
        "history": history_of(dep, 3600.0),
        "quality": quality, "quality_stored": quality_stored and datetime.fromtimestamp(quality_stored, timezone.utc),
        "has_models": any(n.get("kind") == "model" for n in doc.get("nodes", [])),
        "labels": labels, "keeps_predictions": keeps_predictions(doc),
        "label_outcomes": [(o, labels[o]) for o in ("matched", "unknown", "expired", "duplicate", "pending", "refused")],
        "shadow": _shadow(dep, doc),
        "placement": _placement(dep),
        "splits": split_arms(doc) if dep.admin_token else {},
        "rollouts": rollout_rows(dep, doc), "rollout_actions": ROLLOUT_ACTIONS, "rollout_metrics": METRICS,
        "revisions": list(dep.revisions.select_related("version")[:50]),
        "other_versions": [] if dep.version is None or dep.kind != Deployment.MANAGED else list(
            dep.version.graph.versions.exclude(pk=dep.version.pk).order_by("-number")),
        "live": {"stream": f"/deployments/{dep.pk}/stream", "history": f"/deployments/{dep.pk}/history",
                 "running": dep.desired == "running", "traced": traced_nodes(doc)},
    }
    return render(request, "console/deployment.html", context)


@writes("operator")
def history(request, pk: int):
    """The stored history and the live samples in memory (``?window=`` seconds, at most a day)."""
    dep = get_object_or_404(Deployment, pk=pk)
    try:
        window = min(float(request.GET.get("window", 3600)), 86400.0)
    except ValueError:
        window = 3600.0
    return JsonResponse(history_of(dep, window))


def history_of(dep: Deployment, window: float) -> dict:
    """What the panels draw first: points, the latest health, the timeline, stream positions."""
    pk = dep.pk
    since = time.time() - window
    recent = [s for s in HUB.recent(pk) if s["t"] >= since]
    first_live = recent[0]["t"] if recent else float("inf")
    stored = list(MetricPoint.objects.filter(deployment=dep, time__gte=since, time__lt=first_live)
                  .order_by("time").values_list("data", flat=True)[:20000])
    traced = traced_nodes(dep.earg or {})
    points = [_light(p, traced) for p in stored + recent]
    latest = (stored + recent)[-1].get("nodes", {}) if stored or recent else {}
    events = [event_json(e) for e in TimelineEvent.objects.filter(deployment=dep, time__gte=since).order_by("time")]
    return {"points": points, "latest": latest, "events": events,
            "event_seq": HUB.events_after(pk, 0)[0], "seq": HUB.seq(pk)}


#: nodes that get their own line in the replicas panel (the first workers in graph order)
MAX_TRACED = 12


def traced_nodes(earg: dict) -> list[str]:
    return [n["name"] for n in earg.get("nodes", []) if n.get("kind", "python") in WORKER_KINDS][:MAX_TRACED]


def _light(point: dict, traced: list[str]) -> dict:
    """A history point for the panels: no per-node health beyond the traced nodes' replicas."""
    nodes = point.get("nodes") or {}
    out = {k: v for k, v in point.items() if k not in ("bounds", "hist", "nodes")}
    out["alive"] = {n: (nodes.get(n) or {}).get("alive") for n in traced}
    return out
