"""Generated UDGL graphs of a given size, shaped like real serving graphs.

Each block is ``prep -> [model_a, model_b] -> ensemble -> switch -> {fast, slow}``
and the next block's ``prep`` joins the switch's branches, so the graph has fan-out,
fan-in, routing, templates, defaults and a cluster to place on.
"""

from __future__ import annotations

BLOCK = 7


def generate_udgl(n_nodes: int) -> str:
    blocks = max(1, (n_nodes - 2) // BLOCK)
    lines = [
        f'graph generated_{n_nodes} "generated benchmark graph"',
        "param budget = 250ms",
        "defaults { timeout = $budget, retries = 1, recovery = restart(max = 3, backoff = 50ms) }",
        "template small_model = model { cpu = 0.5, memory = 256MiB, latency = 2ms }",
        'source ingest { route = "/predict" }',
    ]
    edges = []
    prev = ["ingest"]
    for b in range(blocks):
        p, ma, mb, e, s, x, y = (f"{k}_{b}" for k in ("prep", "ma", "mb", "ens", "gate", "fast", "slow"))
        lines += [
            f'python {p} {{ impl = "svc.prep:run", replicas = 2, batch = 8, batch_wait = 1ms, latency = 1ms }}',
            f'small_model {ma} {{ impl = "models/a_{b}.json" }}',
            f'small_model {mb} {{ impl = "models/b_{b}.json", replicas = 2 }}',
            f"ensemble {e} {{ combine = mean, weights = [0.4, 0.6] }}",
            f'switch {s} {{ impl = "svc.rules:route", cpu = 0.25 }}',
            f'python {x} {{ impl = "svc.fast:run", latency = 500us }}',
            f'python {y} {{ impl = "svc.slow:run", latency = 5ms, replicas = 3 }}',
        ]
        edges += [
            f"[{', '.join(prev)}] -> {p} -> [{ma}, {mb}] -> {e} -> {s}",
            f'{s} -> {x} {{ when = "fast" }}',
            f'{s} -> {y} {{ when = "*" }}',
        ]
        prev = [x, y]
    lines.append("sink out")
    edges.append(f"[{', '.join(prev)}] -> out")
    workers = max(2, blocks)
    edges.append(f"cluster {{ workers = {workers}, cpu = 16, gpu = 0, memory = 64GiB }}")
    return "\n".join(lines + edges) + "\n"
