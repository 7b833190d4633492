"""The audit log (admins only) and the home page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from ..models import AuditEntry
from ..roles import requires
from ..text import readable

__all__ = ["audit_log", "forbidden", "home"]


def home(request):
    return redirect("deployments")


@requires("admin")
def audit_log(request):
    entries = AuditEntry.objects.all()
    action = request.GET.get("action")
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    for entry in page:
        entry.detail_text = "; ".join(f"{k} = {readable(v)}" for k, v in (entry.detail or {}).items())
    actions = AuditEntry.objects.values_list("action", flat=True).distinct().order_by("action")
    return render(request, "console/audit.html", {"page": page, "actions": actions, "action": action or ""})


def forbidden(request, exception=None):
    """The 403 page: what was refused, the user's role, and what each role may do."""
    message = str(exception) if exception is not None and str(exception) else ""
    if message and not message.startswith("this needs"):
        message = ""  # Django's own reasons (e.g. a CSRF failure) say nothing a person can act on
    if message:
        message = message[0].upper() + message[1:] + "."
    return render(request, "console/forbidden.html", {"message": message}, status=403)
