"""Delayed labels posted to the console for a deployment (see :mod:`..feedback`)."""

from __future__ import annotations

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from ..feedback import LabelError, deliver, keeps_predictions, label_totals, labels_of, store_labels
from ..models import Deployment, audit
from ..roles import has_role
from ..serve_client import ServeClient

__all__ = ["feedback"]


def _refuse(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": {"message": message}}, status=status)


def feedback(request, pk: int):
    """GET: the labels the console holds for the deployment, by outcome. POST (an
    operator, with the CSRF token as every form of the console): a JSON body
    ``{"request_id", "label"}`` or a list of them, kept in the console's database and
    sent on to the deployment's server at once when it runs, else as soon as it does
    (202, with what the server made of the labels it took). An API: a missing role is
    a JSON 403, as every refusal here is JSON."""
    needed = "viewer" if request.method in ("GET", "HEAD") else "operator"
    if not has_role(request.user, needed):
        return _refuse(403, f"this needs the {needed} role")
    dep = get_object_or_404(Deployment, pk=pk)
    if request.method == "GET":
        return JsonResponse({"deployment": dep.name, "labels": label_totals(dep.pk)})
    if request.method != "POST":
        return _refuse(405, "GET or POST")
    if not keeps_predictions(dep.earg):
        return _refuse(400, f"deployment {dep.name!r} keeps no predictions: give a model node "
                            "`feedback = true` to score delayed labels")
    try:
        body = orjson.loads(request.body)
    except RequestDataTooBig:
        return _refuse(413, "the body is larger than the console takes; send fewer labels at once")
    except orjson.JSONDecodeError as err:
        return _refuse(400, f"the body is not JSON: {err}")
    try:
        labels = labels_of(body)
    except LabelError as err:
        return _refuse(400, str(err))
    batches = store_labels(dep.pk, labels, request.user.get_username())
    audit(request.user, "feedback", dep.name, deployment=dep.pk, labels=len(labels))
    counts: dict[str, int] = {}
    delivered = 0
    if dep.url and dep.desired == "running":
        client = ServeClient(dep.url, timeout=10.0)
        for batch in batches:
            if not deliver(batch, client):
                break
            delivered += batch.size
            for outcome, n in batch.counts.items():
                counts[outcome] = counts.get(outcome, 0) + n
    return JsonResponse({"accepted": len(labels), "delivered": delivered, "undelivered": len(labels) - delivered,
                         "counts": counts}, status=202)
