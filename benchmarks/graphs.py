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


def write_linear_models(folder, n_nodes: int, features: int = 16) -> None:
    """The JSON linear models ``generate_typed_udgl(n_nodes)`` names, in ``folder``."""
    import json
    from pathlib import Path

    models = Path(folder) / "models"
    models.mkdir(parents=True, exist_ok=True)
    for b in range(max(1, (n_nodes - 2) // BLOCK)):
        for k in ("a", "b"):
            (models / f"{k}_{b}.json").write_text(json.dumps({"weights": [0.1] * features, "bias": 0.0}))


def generate_typed_udgl(n_nodes: int, features: int = 16) -> str:
    """``generate_udgl``'s graph with types everywhere: the source and python nodes
    annotated, the models JSON linear models whose artifacts give their types."""
    text = generate_udgl(n_nodes)
    row = f"float32[n, {features}]"
    text = text.replace('source ingest { route = "/predict" }',
                        'source ingest { route = "/predict", input = float64[n] }')
    text = text.replace('python prep_', 'python prep_').replace(
        'impl = "svc.prep:run",', f'impl = "svc.prep:run", input = float64[n], output = {row},')
    for impl in ("svc.fast:run", "svc.slow:run"):
        text = text.replace(f'impl = "{impl}",', f'impl = "{impl}", input = float64[n], output = float64[n],')
    return text
