"""Impls that try to reach the console from a deployed graph (for the console's isolation tests)."""

from __future__ import annotations

import os


def probe(request: dict) -> dict:
    """``{"path": P}``: read P; ``{"list": D}``: list D; ``{"env": true}``: the variables and the uid."""
    try:
        if "path" in request:
            with open(request["path"], "rb") as fh:
                return {"read": fh.read(200).decode("latin-1")}
        if "list" in request:
            return {"entries": sorted(os.listdir(request["list"]))}
    except OSError as err:
        return {"error": type(err).__name__}
    return {"env": sorted(os.environ), "uid": os.geteuid()}
