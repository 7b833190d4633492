"""Front ends, registered by the layers above the core and the runtime.

The core and the runtime offer ``Graph.edit()``, ``Deployment.monitor()``,
``Deployment.report()`` and ``Deployment.serve_http()`` without importing the layers
that implement them: they look the implementation up here. ``hogar_nb.jupyter``
registers the interactive views when it is imported (``%load_ext hogar_nb`` does
that); :mod:`hogar_nb.dispatch`, imported with ``hogar_nb``, registers the HTTP front.
"""

from __future__ import annotations

from typing import Any, Callable

from .errors import HogarError

__all__ = ["frontend", "has_frontend", "register_frontend"]

_FRONTENDS: dict[str, Callable[..., Any]] = {}


def register_frontend(name: str, fn: Callable[..., Any]) -> None:
    """Make ``fn`` the implementation of front end ``name`` (edit, monitor, report, serve_http)."""
    _FRONTENDS[name] = fn


def has_frontend(name: str) -> bool:
    """Whether a layer above registered ``name``."""
    return name in _FRONTENDS


def frontend(name: str) -> Callable[..., Any]:
    """The registered implementation of ``name``, or a HogarError that says how to get one."""
    try:
        return _FRONTENDS[name]
    except KeyError:
        raise HogarError(
            f"`{name}` is an interactive view: run `%load_ext hogar_nb` in a notebook "
            "(or `import hogar_nb.jupyter`) first"
        ) from None
