"""The quality layer's errors, under :class:`hogar_nb.errors.HogarError`."""

from __future__ import annotations

from ..errors import HogarError

__all__ = ["FeedbackError", "QualityError", "ReferenceDataError"]


class QualityError(HogarError):
    """A reference, a label or a rule the quality layer cannot use."""


class ReferenceDataError(QualityError, ValueError):
    """A reference file or capture that cannot be read or summarised."""


class FeedbackError(QualityError, ValueError):
    """A feedback body that is not {request_id, label} (or a list of them)."""
