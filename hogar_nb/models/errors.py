"""Errors of the model runtimes (below the runtime in the exception tree)."""

from __future__ import annotations

from ..errors import HogarError

__all__ = ["MissingExtraError", "ModelError", "ModelInputError", "ModelLoadError"]


class ModelError(HogarError):
    """Root of the model runtimes' errors."""


class ModelLoadError(ModelError):
    """An artifact cannot be loaded (missing, unreadable, wrong format)."""


class MissingExtraError(ModelError, ImportError):
    """A runtime's library is not installed: ``pip install hogar_nb[models]``."""


class ModelInputError(ModelError, ValueError):
    """A model rejects the input's shape or types; the HTTP front answers 422."""
