"""Is the model still right? References, drift, delayed labels and alerts, per node.

Fed by the walker's events (``Deployment.subscribe``), off the request path:

- :mod:`.stats` — PSI, Jensen–Shannon, KS, chi-squared and Wasserstein (scipy);
- :mod:`.reference` and :mod:`.files` — a node's reference data, summarised;
- :mod:`.feedback` and :mod:`.scores` — predictions kept for a horizon, joined with
  labels, scored with scikit-learn's metrics.

Importing this package is light; numpy, scipy and scikit-learn load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import FeedbackError, QualityError, ReferenceDataError

__all__ = ["FeedbackError", "FeedbackStore", "QualityError", "Reference", "ReferenceDataError", "load_reference"]

_LAZY = {
    "FeedbackStore": ".feedback",
    "Reference": ".reference",
    "load_reference": ".files",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hogar_nb.quality' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
