"""Read a single UDGL value from text: ``"250ms"``, ``"[1, 2]"``, ``"restart(max = 3)"``."""

from __future__ import annotations

from typing import Any

from ...errors import UDGLError
from ..diagnostics import Diagnostic
from .grammar import parse_value_tree
from .transform import StatementTransformer

__all__ = ["parse_value"]


def parse_value(text: str) -> Any:
    """The typed value written in ``text``; raises :class:`UDGLError` when it is not one."""
    diags: list[Diagnostic] = []
    tree = parse_value_tree(text, diags)
    value = None
    if tree is not None:
        value = StatementTransformer(diags).transform(tree).value
    if diags:
        raise UDGLError(diags, text, "<value>")
    return value
