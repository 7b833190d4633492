"""A deployment's versions: move it to another version of its graph, or roll it back to
an earlier one, in one action, after the difference has been shown."""

from __future__ import annotations

import threading
import time

from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect, render

from ..allowlist import refusals
from ..diffing import structural_diff, text_diff
from ..models import Deployment, DeploymentRevision, GraphVersion, TimelineEvent, audit
from ..roles import has_role, requires
from ..services import HUB, supervisor
from ..text import readable

__all__ = ["deployment_switch"]


def _diff(dep: Deployment, target: GraphVersion) -> dict:
    """What changes when ``dep`` runs ``target``: its structure against what it runs now
    (live changes included) and the canonical UDGL texts of the two versions."""
    diff = structural_diff(dep.earg or {}, target.earg)
    diff.changed = [(what, key, readable(a), readable(b)) for what, key, a, b in diff.changed]
    current = dep.version
    return {"structure": diff,
            "lines": text_diff(current.udgl, target.udgl, f"{current.graph.name} v{current.number}",
                               f"{target.graph.name} v{target.number}")}


@requires("operator")
def deployment_switch(request, pk: int, number: int):
    """GET: the difference between what ``pk`` runs and version ``number`` of its graph,
    and a button; POST: run that version (the server restarts with it), recorded as a
    revision, on the timeline and in the audit log."""
    dep = get_object_or_404(Deployment.objects.select_related("version__graph"), pk=pk)
    if dep.kind != Deployment.MANAGED or dep.version is None:
        return render(request, "console/error.html", {
            "message": f"{dep.name} was registered by URL: the console did not start it, so it cannot "
                       "change its version"}, status=400)
    target = get_object_or_404(GraphVersion, graph=dep.version.graph, number=number)
    current = dep.version
    if target.pk == current.pk:
        messages.error(request, f"{dep.name} runs v{number} already")
        return redirect("deployment", pk=pk)
    action = "rollback" if target.number < current.number else "upgrade"
    if request.method != "POST":
        return render(request, "console/deployment_switch.html",
                      {"dep": dep, "current": current, "target": target, "action": action, **_diff(dep, target)})
    outside = refusals(target.earg)
    if outside and not has_role(request.user, "admin"):
        audit(request.user, f"{action}-refused", dep.name, deployment=pk, version=target.number, refused=outside)
        return render(request, "console/error.html", {"message": "This version cannot be deployed: "
                                                      + "; ".join(outside)}, status=403)
    verb = "rolled back" if action == "rollback" else "moved"
    note = f"{verb} from v{current.number} to v{target.number}"
    with transaction.atomic():
        last = dep.revisions.aggregate(n=Max("number"))["n"] or 0
        DeploymentRevision.objects.create(deployment=dep, number=last + 1, version=target,
                                          by=request.user.get_username(), note=note)
        Deployment.objects.filter(pk=pk).update(version=target, earg=target.earg, desired="running", error="")
    event = TimelineEvent.objects.create(deployment=dep, time=time.time(), kind="version",
                                         text=f"{note} by {request.user.get_username()}")
    HUB.add_events(pk, [{"time": event.time, "kind": event.kind, "node": event.node, "text": event.text}])
    audit(request.user, action, dep.name, deployment=pk, graph=current.graph.name, from_version=current.number,
          to_version=target.number, outside_allowlist=outside)
    threading.Thread(target=supervisor().launch, args=(pk,), daemon=True).start()
    messages.success(request, f"{dep.name}: {note}; its server restarts with v{target.number}")
    return redirect("deployment", pk=pk)
