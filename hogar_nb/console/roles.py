"""Three roles: viewers read, operators also change graphs and deployments, admins also
manage users and read the audit log. A role is a Django group; admins are also staff."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from django.core.exceptions import PermissionDenied

__all__ = ["ROLES", "has_role", "role_context", "role_of", "requires", "set_role"]

ROLES = ("viewer", "operator", "admin")


def role_of(user: Any) -> str | None:
    """The user's highest role, or None (signed out, or no role given)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return "admin"
    cached = getattr(user, "_hogar_role", False)
    if cached is not False:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((r for r in reversed(ROLES) if r in names), None)
    user._hogar_role = role
    return role


def has_role(user: Any, role: str) -> bool:
    current = role_of(user)
    return current is not None and ROLES.index(current) >= ROLES.index(role)


def requires(role: str) -> Callable:
    """A view decorator: 403 unless the signed-in user has ``role`` or a higher one."""

    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def inner(request, *args, **kwargs):
            if not has_role(request.user, role):
                raise PermissionDenied(f"this needs the {role} role")
            return view(request, *args, **kwargs)

        return inner

    return wrap


def writes(role: str = "operator") -> Callable:
    """Reading needs the viewer role; POST (any change) needs ``role``."""

    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def inner(request, *args, **kwargs):
            needed = role if request.method not in ("GET", "HEAD", "OPTIONS") else "viewer"
            if not has_role(request.user, needed):
                raise PermissionDenied(f"this needs the {needed} role")
            return view(request, *args, **kwargs)

        return inner

    return wrap


def set_role(user: Any, role: str) -> None:
    """Give ``user`` exactly ``role`` (admins become staff and superusers)."""
    from django.contrib.auth.models import Group

    if role not in ROLES:
        raise ValueError(f"got {role!r} for the role; expected one of {', '.join(ROLES)}")
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    user.is_staff = user.is_superuser = role == "admin"
    user.save()


def role_context(request) -> dict[str, Any]:
    """Template variables: ``role``, ``can_operate``, ``is_admin``."""
    user = getattr(request, "user", None)
    role = role_of(user)
    return {
        "role": role,
        "can_operate": role in ("operator", "admin"),
        "is_admin": role == "admin",
    }
