"""Delayed labels for a deployment, kept in the console's database and delivered to it.

Labels posted to the console (``POST /deployments/<pk>/feedback``, the same body as a
server's ``POST /hogar/v1/feedback``) are stored first, in one batch, and then sent on
to the deployment's server, which joins them with the predictions it kept. What the
server made of them (matched, unknown, expired, duplicate, pending) is stored with
the batch. A batch the server could not take (stopped, restarting, unreachable) stays
undelivered and the collector sends it again once the server answers, so no label is
lost to a restart; :func:`label_totals` sums what every batch came to.
"""

from __future__ import annotations

import time
from typing import Any

from .serve_client import ServeClient, ServeError

__all__ = ["LabelError", "MAX_LABELS", "OUTCOMES", "deliver", "deliver_pending", "keeps_predictions",
           "label_totals", "labels_of", "store_labels"]

MAX_LABELS = 100_000  # labels in one body, as a server takes them
OUTCOMES = ("matched", "unknown", "expired", "duplicate", "pending")
SEND_AT_ONCE = 10_000  # labels in one batch, sent in one request


class LabelError(ValueError):
    """A feedback body the console refuses (400), with what is wrong in it."""


def labels_of(body: Any) -> list[tuple[str, Any]]:
    """``(request_id, label)`` pairs from ``{"request_id", "label"}`` or a list of them."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise LabelError('the body is an empty list; send {"request_id", "label"} or a list of them')
    if len(items) > MAX_LABELS:
        raise LabelError(f"got {len(items)} labels in one body; send at most {MAX_LABELS}")
    out = []
    for i, item in enumerate(items):
        where = f"item {i}" if isinstance(body, list) else "the body"
        if not isinstance(item, dict) or set(item) != {"request_id", "label"}:
            raise LabelError(f'{where} must be an object with exactly "request_id" and "label"; '
                             f"got {str(item)[:80]}")
        rid, label = item["request_id"], item["label"]
        if not isinstance(rid, str) or not rid or len(rid) > 200:
            raise LabelError(f"{where}: request_id must be a non-empty string (at most 200 characters); "
                             f"got {str(rid)[:80]!r}")
        if label is None or isinstance(label, dict):
            raise LabelError(f"{where}: label must be a class, a number or a list of them; got {str(label)[:80]}")
        out.append((rid, label))
    return out


def keeps_predictions(earg: dict[str, Any]) -> bool:
    """Whether a deployment's graph keeps predictions to join labels with."""
    return any(n.get("kind") == "model" and (n.get("quality") or {}).get("feedback")
               for n in (earg or {}).get("nodes") or [])


def store_labels(deployment_id: int, labels: list[tuple[str, Any]], user: str) -> list[Any]:
    """Keep ``labels`` as undelivered batches of at most ``SEND_AT_ONCE`` (one
    transaction; a batch is delivered in one request, whole or not at all)."""
    from django.db import transaction

    from .models import FeedbackBatch, FeedbackLabel

    batches = []
    now = time.time()
    with transaction.atomic():
        for start in range(0, len(labels), SEND_AT_ONCE):
            part = labels[start:start + SEND_AT_ONCE]
            batch = FeedbackBatch.objects.create(deployment_id=deployment_id, time=now, posted_by=user[:150],
                                                 size=len(part))
            FeedbackLabel.objects.bulk_create(
                [FeedbackLabel(batch=batch, request_id=rid, label=label) for rid, label in part], batch_size=2_000)
            batches.append(batch)
    return batches


def deliver(batch: Any, client: ServeClient) -> bool:
    """Send ``batch``'s labels to the deployment's server in one request; True once it
    answered (their outcomes stored with the batch, or, when it refused them with a
    4xx, its reason and the batch counted ``refused``), False when it did not answer
    (the batch waits for the next try)."""
    from .models import FeedbackBatch

    rows = list(batch.labels.order_by("id").values_list("request_id", "label"))
    counts = dict.fromkeys(OUTCOMES, 0)
    error = ""
    try:
        answer = client.feedback([{"request_id": rid, "label": label} for rid, label in rows])
    except ServeError as err:
        if err.status is None or err.status >= 500 or err.status in (404, 408, 429):
            FeedbackBatch.objects.filter(pk=batch.pk).update(error=str(err)[:500])
            batch.error = str(err)[:500]
            return False
        counts, error = {"refused": len(rows)}, str(err)[:500]
    else:
        for outcome in OUTCOMES:
            value = answer.get(outcome) if isinstance(answer, dict) else None
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                counts[outcome] = value
    now = time.time()
    FeedbackBatch.objects.filter(pk=batch.pk).update(delivered=now, counts=counts, error=error)
    batch.delivered, batch.counts, batch.error = now, counts, error
    return True


def deliver_pending(deployment_id: int, client: ServeClient, most: int = 20) -> int:
    """Send the deployment's undelivered batches (oldest first, at most ``most``);
    returns how many reached it. Stops at the first the server does not take."""
    from .models import FeedbackBatch

    sent = 0
    for batch in FeedbackBatch.objects.filter(deployment_id=deployment_id, delivered__isnull=True)[:most]:
        if not deliver(batch, client):
            break
        sent += 1
    return sent


def label_totals(deployment_id: int) -> dict[str, int]:
    """Labels the console holds for a deployment: ``received``, ``undelivered``, and
    what the delivered ones came to, by outcome (``refused``: the server would not take them)."""
    from .models import FeedbackBatch

    totals = dict.fromkeys(("received", "undelivered", *OUTCOMES, "refused"), 0)
    for size, delivered, counts in FeedbackBatch.objects.filter(deployment_id=deployment_id).values_list(
            "size", "delivered", "counts"):
        totals["received"] += size
        if delivered is None:
            totals["undelivered"] += size
            continue
        for outcome in (*OUTCOMES, "refused"):
            totals[outcome] += int((counts or {}).get(outcome, 0))
    return totals
