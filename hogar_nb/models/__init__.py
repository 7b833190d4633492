"""Model runtimes: load an artifact once per replica and predict on a batch of rows."""

from __future__ import annotations

from .errors import MissingExtraError, ModelError, ModelInputError, ModelLoadError

__all__ = ["MissingExtraError", "ModelError", "ModelInputError", "ModelLoadError"]
