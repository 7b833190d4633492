"""Routing decisions: switch and split choices, joins of multi-input nodes."""

from __future__ import annotations

from typing import Any

from ..plan import GraphPlan, NodePlan

__all__ = ["SKIP", "choose_split", "choose_switch", "join_input", "straight_hops"]

SKIP: Any = object()  # a branch not taken (switch/split/other source): joins stop waiting for it
_FIRED = "\0fired"

Succ = list[tuple[str, "str | None", "float | None"]]


def choose_switch(succ: Succ, key: Any) -> str | None:
    """The successor whose edge ``when`` equals ``str(key)``, else the ``"*"`` edge, else None."""
    key = str(key)
    chosen = next((d for d, w, _ in succ if w == key), None)
    if chosen is None:
        chosen = next((d for d, w, _ in succ if w == "*"), None)
    return chosen


def choose_split(succ: Succ, r: float) -> str:
    """The successor a uniform ``r`` in [0, 1) falls on, by the edges' weights."""
    chosen, acc = succ[-1][0], 0.0
    for dst, _w, weight in succ:
        acc += weight or 0.0
        if r < acc:
            return dst
    return chosen


def join_input(plan: NodePlan, state: dict[str, Any], src: str, value: Any) -> tuple[str, Any]:
    """Record input ``value`` (or SKIP) from ``src`` at multi-input node ``plan``.

    ``state`` is this request's join state for the node; callers serialise access.
    Returns ``("wait", None)`` until the node can fire, then once: ``("run", value)``
    (a non-ensemble node, or a ``first`` ensemble, fires on its first real input),
    ``("combine", [(pred, value), ...])`` (an ensemble, once every input is known) or
    ``("skip", None)`` (every input was skipped).
    """
    if _FIRED in state:
        return ("wait", None)
    state[src] = value
    if plan.kind != "ensemble" or plan.combine_mode == "first":
        if value is not SKIP:
            state[_FIRED] = True
            return ("run", value)
        if len(state) < len(plan.preds):
            return ("wait", None)
        state[_FIRED] = True
        return ("skip", None)
    if len(state) < len(plan.preds):
        return ("wait", None)
    state[_FIRED] = True
    fire = [(p, state[p]) for p in sorted(plan.preds) if state[p] is not SKIP]
    return ("combine", fire) if fire else ("skip", None)


def straight_hops(plan: GraphPlan, workers: frozenset[str]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The hops with nothing to decide, each node's one successor: sources that feed one
    worker, workers that feed one worker, and workers that feed the response sink, where
    that successor has no other input and no mirror edge leaves the node (a switch
    decides, so never one of them). The walker takes these hops by one lookup."""
    def alone(p: NodePlan) -> str | None:
        if len(p.succ) != 1 or p.mirrors or p.kind == "switch":
            return None
        dst = p.succ[0][0]
        return dst if len(plan.nodes[dst].preds) == 1 else None

    entries: dict[str, str] = {}
    chain: dict[str, str] = {}
    ends: dict[str, str] = {}
    for name, p in plan.nodes.items():
        dst = alone(p)
        if dst is None:
            continue
        target = plan.nodes[dst]
        if p.kind == "source" and dst in workers:
            entries[name] = dst
        elif name in workers and dst in workers:
            chain[name] = dst
        elif name in workers and target.kind == "sink" and target.response:
            ends[name] = dst
    return entries, chain, ends
