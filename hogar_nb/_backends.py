"""Distributed backends, found by name so the runtime never imports the layer above it.

``hogar_nb.run(graph, backend="ray")`` looks ``"ray"`` up here and imports
``hogar_nb.backends.ray`` only then.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from .errors import HogarError

__all__ = ["BACKENDS", "backend_run"]

BACKENDS = {"ray": ("hogar_nb.backends.ray", "run", "ray")}


def backend_run(name: str) -> Callable[..., Any]:
    """The ``run`` function of backend ``name``, or a HogarError saying what to install."""
    try:
        module, attr, extra = BACKENDS[name]
    except KeyError:
        raise HogarError(f"unknown backend {name!r}; expected embedded or {', '.join(BACKENDS)}") from None
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise HogarError(f"backend {name!r} needs {exc.name or 'its packages'}: "
                         f"pip install 'hogar_nb[{extra}]'") from None
