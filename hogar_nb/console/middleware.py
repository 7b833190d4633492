"""Cookies marked ``Secure`` whenever the request came over HTTPS (directly, or through a
proxy the admin listed in ``HOGAR_CONSOLE_TRUSTED_PROXIES``)."""

from __future__ import annotations

from typing import Callable

from django.conf import settings

__all__ = ["SecureCookiesMiddleware", "trusted_proxies"]


def trusted_proxies(text: str) -> list[str]:
    """The addresses or networks (``10.0.0.0/8``) in a comma-separated list; none by default."""
    return [p.strip() for p in text.split(",") if p.strip()]


class SecureCookiesMiddleware:
    """Mark the session and CSRF cookies ``Secure`` on a secure request.

    Django's ``SESSION_COOKIE_SECURE`` is one setting for every request; a console
    reached both directly over HTTP on 127.0.0.1 and through an HTTPS proxy needs the
    flag per request. Whether a request is secure comes from the ASGI scope, which
    uvicorn rewrites from ``X-Forwarded-Proto`` only for the listed proxies.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.is_secure():
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response
