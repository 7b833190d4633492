"""The quality layer's errors, under :class:`hogar_nb.errors.HogarError`."""

from __future__ import annotations

from ..errors import HogarError

__all__ = ["FeedbackError", "QualityError", "ReferenceDataError", "UnknownModelNodeError"]


class QualityError(HogarError):
    """A reference, a label or a rule the quality layer cannot use."""


class ReferenceDataError(QualityError, ValueError):
    """A reference file or capture that cannot be read or summarised."""


class FeedbackError(QualityError, ValueError):
    """A feedback body that is not {request_id, label} (or a list of them)."""


class UnknownModelNodeError(QualityError, KeyError):
    """A name that is not a model node of the graph."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
