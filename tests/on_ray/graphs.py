"""The graphs every backend must run alike."""

from __future__ import annotations

import json
from pathlib import Path

CONFORMANCE = """\
graph conformance
defaults { cpu = 0.05, timeout = 10s }
source chain_in  { route = "/chain" }
source fan_in    { route = "/fan" }
source switch_in { route = "/switch" }
source split_in  { route = "/split" }
source batch_in  { route = "/batch" }
source fail_in   { route = "/fail" }
source slow_in   { route = "/slow" }
source fragile_in { route = "/fragile" }
python   a      { impl = "tests.on_ray.impls:double", replicas = 2 }
python   b      { impl = "tests.on_ray.impls:inc" }
model    lin    { impl = "linear.json" }
python   tot    { impl = "tests.on_ray.impls:total" }
ensemble avg    { combine = mean, weights = [0.25, 0.75] }
switch   gate   { impl = "tests.on_ray.impls:size_class" }
python   neg    { impl = "tests.on_ray.impls:negate" }
split    coin
python   tagger { impl = "tests.on_ray.impls:tag" }
python   bd     { impl = "tests.on_ray.impls:batch_double", batch = 8, batch_wait = 50ms }
python   boom   { impl = "tests.on_ray.impls:fail_on_negative", retries = 1, retry_errors = true }
python   nap    { impl = "tests.on_ray.impls:snooze", timeout = 300ms }
python   fragile { impl = "tests.on_ray.impls:double", recovery = restart(max = 1, within = 60s, backoff = 1500ms) }
sink     out

chain_in -> a -> b -> out
fan_in -> [lin, tot] -> avg -> out
switch_in -> gate
gate -> out { when = "small" }
gate -> neg { when = "big" }
neg -> out
split_in -> coin
coin -> out    { weight = 50% }
coin -> tagger { weight = 50% }
tagger -> out
batch_in -> bd -> out
fail_in -> boom -> out
slow_in -> nap -> out
fragile_in -> fragile -> out
"""

LINEAR = {"weights": [1.0, 2.0], "bias": 0.5}


def conformance_graph(directory: Path):
    """The conformance graph, with its linear model written into ``directory``."""
    import hogar_nb

    (directory / "linear.json").write_text(json.dumps(LINEAR))
    return hogar_nb.parse_udgl(CONFORMANCE), directory

TIGHT = """\
graph tight
defaults { cpu = 0.05, timeout = 10s }
source s { route = "/tight" }
python nap { impl = "tests.on_ray.impls:snooze" }
sink out
s -> nap -> out
"""
CAPACITY = 2  # requests the tight graph holds: one running at `nap` and one waiting


def tight_options(backend: str, http_port: int | None = None) -> dict:
    """``run`` options that give the tight graph room for :data:`CAPACITY` requests."""
    if backend == "ray":
        return {"backend": "ray", "max_in_flight": CAPACITY, "http_port": http_port}
    return {"queue_size": CAPACITY - 1}
