"""Live changes to a running deployment: a node's replicas or settings, and faults
injected for drills; each on the timeline and in the audit log."""

from __future__ import annotations

import time

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from ..config import ConsoleError
from ..forms import FaultForm, ReconfigureForm
from ..models import Deployment, TimelineEvent, audit
from ..reconfig import capacity_warning, check_change
from ..roles import requires
from ..serve_client import ServeClient, ServeError
from ..services import HUB
from .deployments import event_json

__all__ = ["fault", "reconfigure"]


@requires("operator")
@require_POST
def reconfigure(request, pk: int):
    dep = get_object_or_404(Deployment, pk=pk)
    form = ReconfigureForm(request.POST)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if not form.is_valid():
        return _answer(request, dep, wants_json, 400, "choose a node, an attribute and a value")
    node, attr, text = (form.cleaned_data[k] for k in ("node", "attr", "value"))
    try:
        value = check_change(dep.earg, node, attr, text)
        warning = capacity_warning(dep.earg, node, value, _runs_here(dep)) if attr == "replicas" else ""
        if warning and request.POST.get("confirm") != "1":
            return _answer(request, dep, wants_json, 409, warning, confirm=True)
        client = ServeClient(dep.url, dep.admin_token, timeout=10.0)
        result = client.scale(node, value) if attr == "replicas" else client.reconfigure(node, {attr: value})
    except ServeError as err:
        return _answer(request, dep, wants_json, 502 if err.status is None else 400, str(err))
    except ConsoleError as err:
        return _answer(request, dep, wants_json, 400, str(err))
    shown = text.strip()
    events = [TimelineEvent.objects.create(deployment=dep, time=time.time(), kind="reconfigure", node=node,
                                           text=f"{node}.{attr} = {shown} by {request.user.get_username()}"
                                           + (f", confirmed over capacity ({warning})" if warning else ""))]
    kept = _keep_document(dep, client)
    if kept:
        events.append(TimelineEvent.objects.create(
            deployment=dep, time=time.time(), kind="failed", node=node,
            text=f"{node}.{attr} = {shown} runs now but was not stored ({kept}); a restart of the "
                 "server would start from the previous settings"))
    HUB.add_events(pk, [event_json(e) for e in events])
    audit(request.user, "reconfigure", dep.name, node=node, attr=attr, value=value, deployment=pk,
          **({"over_capacity": warning} if warning else {}))
    return _answer(request, dep, wants_json, 200, f"{node}.{attr} is now {shown}", result)


def _keep_document(dep: Deployment, client: ServeClient) -> str:
    """Store the document the server now runs (it records each change), so a server the
    console starts again runs what operators applied; the reason when it could not."""
    try:
        doc = client.graph()
    except ServeError as err:
        return str(err)
    if not isinstance(doc, dict) or not doc.get("nodes"):
        return "the server sent no graph document"
    Deployment.objects.filter(pk=dep.pk).update(earg=doc)
    return ""


@requires("operator")
@require_POST
def fault(request, pk: int):
    dep = get_object_or_404(Deployment, pk=pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    clear = request.POST.get("clear") == "1"
    form = FaultForm(request.POST)
    if not clear and not form.is_valid():
        return _answer(request, dep, wants_json, 400, "choose a node, a fault kind and a rate between 0 and 1")
    client = ServeClient(dep.url, dep.admin_token, timeout=10.0)
    try:
        if clear:
            result, text = client.clear_faults(), "faults cleared"
        else:
            node, kind, rate = (form.cleaned_data[k] for k in ("node", "kind", "rate"))
            result = client.inject_fault(node, kind, rate)
            text = f"{kind} fault at rate {rate:g} injected into {node}"
    except ServeError as err:
        return _answer(request, dep, wants_json, 502 if err.status is None else 400, str(err))
    event = TimelineEvent.objects.create(deployment=dep, time=time.time(), kind="fault",
                                         node="" if clear else form.cleaned_data["node"],
                                         text=f"{text} by {request.user.get_username()}")
    HUB.add_events(pk, [event_json(event)])
    audit(request.user, "clear-faults" if clear else "inject-fault", dep.name, deployment=pk,
          **({} if clear else {"node": form.cleaned_data["node"], "kind": form.cleaned_data["kind"],
                               "rate": form.cleaned_data["rate"]}))
    return _answer(request, dep, wants_json, 200, text, result)


def _runs_here(dep: Deployment) -> bool:
    """Started by this console, or registered at a loopback address: on this machine."""
    from urllib.parse import urlsplit

    host = urlsplit(dep.url).hostname or ""
    return dep.kind == Deployment.MANAGED or host in ("127.0.0.1", "localhost", "::1")


def _answer(request, dep, wants_json: bool, status: int, message: str, result=None, confirm: bool = False):
    """JSON for the page's in-place forms, else a message and the page again. ``confirm``:
    the change waits for the operator to confirm it (409; posting ``confirm=1`` applies it)."""
    if wants_json:
        body = {"message": message, "result": result} if status == 200 else {"error": {"message": message}}
        if confirm:
            body["error"]["confirm"] = True
        return JsonResponse(body, status=status)
    (messages.success if status == 200 else messages.error)(request, message)
    return redirect("deployment", pk=dep.pk)
