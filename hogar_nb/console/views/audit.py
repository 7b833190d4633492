"""The audit log (admins only) and the home page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from ..models import AuditEntry
from ..roles import requires

__all__ = ["audit_log", "home"]


def home(request):
    return redirect("deployments")


@requires("admin")
def audit_log(request):
    entries = AuditEntry.objects.all()
    action = request.GET.get("action")
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    actions = AuditEntry.objects.values_list("action", flat=True).distinct().order_by("action")
    return render(request, "console/audit.html", {"page": page, "actions": actions, "action": action or ""})
