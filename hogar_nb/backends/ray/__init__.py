"""The Ray Serve backend: ``hogar_nb.run(graph, backend="ray")``.

Every worker node is a Serve deployment named after the node; an ingress
deployment routes each request with DeploymentHandle calls. Needs the ``ray`` extra.
"""

from __future__ import annotations

from .deployment import RayDeployment
from .launch import run

__all__ = ["RayDeployment", "run"]
