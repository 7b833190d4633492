"""The graph's placement on Ray: which machines each node's replicas may run on.

The core places every replica of a graph with a ``cluster`` on its workers
(``worker-0``, ``worker-1``, ...; the EARG document's ``placement``). On Ray each
machine that stands for a worker carries the node label ``hogar-worker=<worker>``
(``ray start --labels hogar-worker=worker-0``), and each node's Serve deployment gets:

- ``label_selector``: the workers its replicas were placed on (``in(worker-0,worker-1)``);
- ``max_replicas_per_node``: the most replicas of the node placed on one worker, so a
  node spread over machines stays spread (losing a machine loses at most that many);
- ``fallback_strategy``: when those machines cannot take a replica (one of them died,
  or is full), any machine with room may, so the node keeps its replicas.

Labels rather than custom resources or node affinity: a Serve deployment has one set
of actor options for all its replicas, and a label selector is the one option that
names several machines at once (``in(...)``); it has a fallback, where a custom
resource or a hard node affinity would leave a replica pending once its machine is
gone; and it says which machine a worker is without pretending the machine has a
quantity of something.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["WORKER_LABEL", "node_placement", "planned_workers"]

WORKER_LABEL = "hogar-worker"


def planned_workers(placement: Mapping[str, str] | None, node: str) -> Counter[str]:
    """Replicas of ``node`` placed on each worker."""
    return Counter(w for rid, w in (placement or {}).items() if rid.rpartition("/")[0] == node)


def node_placement(placement: Mapping[str, str] | None, node: str) -> dict[str, Any]:
    """The Serve deployment options that pin ``node``'s replicas where ``placement`` put
    them (empty when the graph has no placement): ``ray_actor_options`` entries and
    ``max_replicas_per_node``."""
    counts = planned_workers(placement, node)
    if not counts:
        return {}
    names = sorted(counts)
    selector = names[0] if len(names) == 1 else f"in({','.join(names)})"
    return {"label_selector": {WORKER_LABEL: selector},
            "fallback_strategy": [{"label_selector": {}}],
            "max_replicas_per_node": max(counts.values())}
