"""Interactive front ends, registered by the Jupyter layer.

The core and the runtime offer ``Graph.edit()``, ``Deployment.monitor()`` and
``Deployment.report()`` without importing anything from Jupyter: they look the
implementation up here, and ``hogar_nb.jupyter`` registers it when it is imported
(``%load_ext hogar_nb`` does that). Front ends that need no notebook (``serve_http``,
the HTTP front of a running deployment) are imported from :data:`_BUILT_IN` on first use.
"""

from __future__ import annotations

from typing import Any, Callable

from .errors import HogarError

__all__ = ["frontend", "register_frontend"]

_FRONTENDS: dict[str, Callable[..., Any]] = {}
_BUILT_IN = {"serve_http": ("hogar_nb.serving.server", "serve_http")}


def register_frontend(name: str, fn: Callable[..., Any]) -> None:
    """Make ``fn`` the implementation of front end ``name`` (edit, monitor, report)."""
    _FRONTENDS[name] = fn


def frontend(name: str) -> Callable[..., Any]:
    """The registered implementation of ``name``, or a HogarError that says how to get one."""
    if name not in _FRONTENDS and name in _BUILT_IN:
        import importlib

        module, attr = _BUILT_IN[name]
        _FRONTENDS[name] = getattr(importlib.import_module(module), attr)
    try:
        return _FRONTENDS[name]
    except KeyError:
        raise HogarError(
            f"`{name}` is an interactive view: run `%load_ext hogar_nb` in a notebook "
            "(or `import hogar_nb.jupyter`) first"
        ) from None
