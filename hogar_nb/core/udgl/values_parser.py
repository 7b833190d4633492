"""Read a single UDGL value from text: ``"250ms"``, ``"[1, 2]"``, ``"restart(max = 3)"``."""

from __future__ import annotations

from typing import Any

from ...errors import UDGLError
from ..diagnostics import Diagnostic
from .grammar import parse_value_tree

__all__ = ["parse_value"]


def parse_value(text: str) -> Any:
    """The typed value written in ``text``; raises :class:`UDGLError` when it is not one."""
    diags: list[Diagnostic] = []
    located = parse_value_tree(text, diags)
    value = located.value if located is not None else None
    if diags:
        raise UDGLError(diags, text, "<value>")
    return value
