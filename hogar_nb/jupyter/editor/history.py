"""Undo/redo for the editor: whole-graph snapshots restored into the same Graph object.

The user's variable keeps pointing at the graph being edited, so undo cannot swap
objects: :meth:`Graph.restore` copies a snapshot back into the original.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph

__all__ = ["History"]

class History:
    """A bounded stack of (label, snapshot) pairs taken before each edit."""

    def __init__(self, graph: "Graph", limit: int = 200) -> None:
        self.graph = graph
        self.limit = limit
        self._undo: list[tuple[str, "Graph"]] = []
        self._redo: list[tuple[str, "Graph"]] = []

    def record(self, label: str) -> None:
        """Remember the graph as it is now, before the edit called ``label``."""
        self._undo.append((label, self.graph.copy()))
        del self._undo[: -self.limit]
        self._redo.clear()

    def discard(self) -> None:
        """Forget the last record (the edit it preceded failed and changed nothing)."""
        if self._undo:
            self._undo.pop()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> str | None:
        """Restore the graph before the last edit; returns that edit's label."""
        if not self._undo:
            return None
        label, snapshot = self._undo.pop()
        self._redo.append((label, self.graph.copy()))
        self.graph.restore(snapshot)
        return label

    def redo(self) -> str | None:
        if not self._redo:
            return None
        label, snapshot = self._redo.pop()
        self._undo.append((label, self.graph.copy()))
        self.graph.restore(snapshot)
        return label
