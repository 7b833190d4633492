"""Rollouts from a deployment's page: start one at a split, pause, resume, promote or
abort it, through the served graph's admin API; each split's rollout shown."""

from __future__ import annotations

import time
from typing import Any

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from ..forms import RolloutForm
from ..models import Deployment, TimelineEvent, audit
from ..roles import requires
from ..serve_client import ServeClient, ServeError
from ..services import HUB

__all__ = ["ACTIONS", "METRICS", "rollout", "rollout_rows", "split_arms"]

ACTIONS = ("start", "pause", "resume", "promote", "abort")
METRICS = ("accuracy", "f1", "precision", "recall", "mae", "rmse", "log_loss")
STATUS_KEYS = ("split", "candidate", "state", "step", "weight", "cause")


def split_arms(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Each split of ``doc`` and its successors (mirror edges left out)."""
    splits = {n["name"] for n in doc.get("nodes", []) if n.get("kind") == "split"}
    arms: dict[str, list[str]] = {s: [] for s in sorted(splits)}
    for e in doc.get("edges", []):
        if e.get("src") in splits and e.get("mirror") is None:
            arms[e["src"]].append(e["dst"])
    return arms


def rollout_rows(dep: Deployment, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The rollout of each split the server reports (one ``status`` call per split, a
    second at most each); a split with none, or a server that does not answer, has none."""
    if not dep.url or dep.state != "running" or not dep.admin_token:
        return []
    client = ServeClient(dep.url, dep.admin_token, timeout=1.0)
    rows = []
    for split in split_arms(doc):
        try:
            status = client.rollout(split, "status")
        except ServeError:
            continue
        if isinstance(status, dict):
            row = {k: status.get(k) for k in STATUS_KEYS}
            weight = row["weight"]
            row["weight"] = float(weight) if isinstance(weight, (int, float)) and not isinstance(weight, bool) else None
            row["cause"] = str(row["cause"])[:500] if row["cause"] else ""
            rows.append(row)
    return rows


@requires("operator")
@require_POST
def rollout(request, pk: int):
    dep = get_object_or_404(Deployment, pk=pk)
    form = RolloutForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("deployment", pk=pk)
    split, action = form.cleaned_data["split"], form.cleaned_data["action"]
    if split not in split_arms(dep.earg or {}):
        messages.error(request, f"{split!r} is not a split of {dep.name}")
        return redirect("deployment", pk=pk)
    settings = form.settings()
    try:
        status = ServeClient(dep.url, dep.admin_token, timeout=10.0).rollout(split, action, **settings)
    except ServeError as err:
        messages.error(request, str(err))
        return redirect("deployment", pk=pk)
    weight = status.get("weight") if isinstance(status, dict) else None
    shown = f"{weight:.0%}" if isinstance(weight, (int, float)) else "?"
    text = (f"rollout at {split}: {action} by {request.user.get_username()}; "
            f"{status.get('candidate')} {status.get('state')} at {shown}")
    event = TimelineEvent.objects.create(deployment=dep, time=time.time(), kind="rollout", node=split, text=text)
    HUB.add_events(pk, [{"time": event.time, "kind": event.kind, "node": event.node, "text": event.text}])
    audit(request.user, "rollout", dep.name, deployment=pk, split=split, step=action, **settings)
    messages.success(request, text)
    return redirect("deployment", pk=pk)
