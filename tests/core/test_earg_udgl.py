"""UDGL -> EARG -> Graph -> UDGL text -> EARG is lossless: the design's example and a
property test over generated valid graphs."""

from __future__ import annotations

import jsonschema
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hogar_nb.core.earg import dump_earg, earg_schema, loads_earg
from hogar_nb.core.graph import Graph
from hogar_nb.core.udgl import parse_udgl
from hogar_nb.core.values import Call, Duration, Ident, ParamRef, Percent, Size

DESIGN_EXAMPLE = '''\
graph fraud_scoring "Scores card transactions"     # optional header: name, description

param threshold = 0.8                              # overridable from the caller / notebook

defaults { timeout = 250ms, retries = 2, recovery = restart }

template gpu_model = model { gpu = 1, replicas = 2, memory = 4GiB }

source    ingest   { route = "/score" }
python    features { impl = "fraud.features:build", replicas = 2, cpu = 1, batch = 32, batch_wait = 5ms }
model     xgb      { impl = "models/xgb.json", replicas = 4 }
gpu_model nn       { impl = "models/nn.onnx" }
ensemble  blend    { combine = mean, weights = [0.7, 0.3] }
switch    gate     { impl = "fraud.rules:route" }
split     canary
python    review_v2 { impl = "fraud.review:v2" }
sink      out

ingest -> features -> [xgb, nn] -> blend -> gate
gate -> out        { when = "accept" }
gate -> canary     { when = "review" }
canary -> out      { weight = 90% }
canary -> review_v2 { weight = 10% }
review_v2 -> out
cluster { workers = 3, cpu = 8, gpu = 1, memory = 32GiB }
'''


def parse(text: str) -> Graph:
    return parse_udgl(text)


def assert_lossless(graph: Graph) -> str:
    earg = dump_earg(graph)
    jsonschema.validate(yaml.safe_load(earg), earg_schema())
    loaded = loads_earg(earg)
    assert dump_earg(loaded) == earg
    text = loaded.to_udgl()
    assert dump_earg(parse(text)) == earg
    json_text = dump_earg(graph, "json")
    assert dump_earg(loads_earg(json_text), "json") == json_text
    return earg


def test_design_example_is_lossless_and_matches_the_design() -> None:
    earg = assert_lossless(parse(DESIGN_EXAMPLE))
    doc = yaml.safe_load(earg)
    assert doc["name"] == "fraud_scoring" and doc["description"] == "Scores card transactions"
    assert doc["params"] == {"threshold": 0.8} and doc["response"] == "out"
    features = next(n for n in doc["nodes"] if n["name"] == "features")
    assert features == {
        "name": "features", "kind": "python", "impl": "fraud.features:build", "replicas": 2,
        "resources": {"cpu": 1, "gpu": 0, "memory_bytes": 0},
        "batch": {"max_size": 32, "max_wait_ms": 5.0},
        "timeout_ms": 250.0, "retries": 2,
        "recovery": {"policy": "restart", "max_restarts": 5, "backoff_ms": 100.0},
        "latency_ms": None, "isolation": "thread",
    }
    blend = next(n for n in doc["nodes"] if n["name"] == "blend")
    assert blend["weights"] == {"nn": 0.3, "xgb": 0.7}
    assert [n["name"] for n in doc["nodes"]] == [
        "ingest", "features", "xgb", "nn", "blend", "gate", "canary", "review_v2", "out"]
    assert doc["edges"][:2] == [{"src": "blend", "dst": "gate"}, {"src": "canary", "dst": "out", "weight": 0.9}]
    assert {"src": "gate", "dst": "out", "when": "accept"} in doc["edges"]
    assert doc["stages"] == [["ingest"], ["features"], ["nn", "xgb"], ["blend"], ["gate"], ["canary"],
                             ["review_v2"], ["out"]]
    if "cluster" in doc:
        assert doc["cluster"] == {"workers": 3, "cpu": 8, "gpu": 1, "memory_bytes": 34359738368}
        assert set(doc["placement"]) >= {"xgb/3", "nn/1", "features/0"}


# ------------------------------------------------------------ generated graphs
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)

COMMON = {
    "replicas": st.integers(1, 8),
    "cpu": st.sampled_from([0, 0.5, 1, 2, 1.5]),
    "gpu": st.sampled_from([0, 1, 0.5]),
    "memory": st.sampled_from([Size(0), Size(512 * 2**20), Size(4 * 2**30), Size(10**9), Size(1234)]),
    "batch": st.integers(1, 64),
    "batch_wait": st.sampled_from([Duration(0.0), Duration(5.0), Duration(1.5), Duration(0.25)]),
    "timeout": st.sampled_from([Duration(250.0), Duration(1500.0), Duration(30_000.0), Duration(0.5)]),
    "retries": st.integers(0, 3),
    "recovery": st.sampled_from([
        Ident("restart"), Ident("failover"), Ident("none"), Call("restart", (("max", 3),)),
        Call("restart", (("max", 2), ("backoff", Duration(250.0)))), Call("restart", (("backoff", Duration(0.0)),)),
    ]),
    "latency": st.sampled_from([Duration(10.0), Duration(2.5), Duration(0.125)]),
    "isolation": st.sampled_from([Ident("thread"), Ident("process")]),
    "description": st.text(max_size=12),
}


@st.composite
def attrs(draw, **kind_specific):
    pool = {**COMMON, **kind_specific}
    keys = draw(st.lists(st.sampled_from(sorted(pool)), unique=True, max_size=4))
    return {k: draw(pool[k]) for k in keys}


@st.composite
def graphs(draw) -> Graph:
    g = Graph(draw(NAMES), draw(st.none() | st.text(min_size=1, max_size=20)))
    if draw(st.booleans()):
        g.set_param("reps", draw(st.integers(1, 4)))
    if draw(st.booleans()):
        g.set_default("timeout", draw(COMMON["timeout"]))
    used: set[str] = set()

    def name(prefix: str) -> str:
        n = prefix
        while n in used:
            n = f"{prefix}{len(used)}"
        used.add(n)
        return n

    src = name("src")
    g.add_node(src, "source", **draw(attrs(route=st.sampled_from(["/", "/score", "/v1/ä"]))))
    pre = name("pre")
    extra = {"replicas": ParamRef("reps")} if "reps" in g.params else {}
    g.add_node(pre, "python", impl="m:pre", **{**draw(attrs()), **extra})
    g.connect(src, pre)
    branches = [name(draw(st.sampled_from(["xgb", "nn", "lin"]))) for _ in range(draw(st.integers(1, 3)))]
    for b in branches:
        if draw(st.booleans()):
            g.add_node(b, "model", impl=f"models/{b}.onnx", **draw(attrs(loader=st.sampled_from(["onnx", "xgb"]))))
        else:
            g.add_node(b, "python", impl=draw(st.sampled_from(["m:f", "pkg.mod:fn", "f"])), **draw(attrs()))
        g.connect(pre, b)
    last = branches[0]
    if len(branches) > 1:
        last = name("blend")
        weights = st.lists(st.sampled_from([0.1, 0.5, 1, 2.5]), min_size=len(branches), max_size=len(branches))
        g.add_node(last, "ensemble", **draw(attrs(
            combine=st.sampled_from([Ident("mean"), Ident("vote"), "pkg:combine"]), weights=weights)))
        for b in draw(st.permutations(branches)):
            g.connect(b, last)
    out = name("out")
    g.add_node(out, "sink", **draw(attrs()))
    router = draw(st.sampled_from(["none", "switch", "split"]))
    if router == "none":
        g.connect(last, out)
    else:
        r = name(router)
        g.add_node(r, router, **({"impl": "rules:route"} if router == "switch" else {}), **draw(attrs()))
        g.connect(last, r)
        alt = name("alt")
        g.add_node(alt, "python", impl="m:alt", **draw(attrs()))
        g.connect(alt, out)
        if router == "switch":
            g.connect(r, alt, when=draw(st.sampled_from(["review", "a b", "ü"])))
            g.connect(r, out, when="*")
        else:
            share = draw(st.sampled_from([0.5, 0.9, 0.25, 0.125]))
            g.connect(r, alt, weight=Percent(share))
            g.connect(r, out, weight=Percent(1 - share))
    if draw(st.booleans()):
        for n in draw(st.lists(st.sampled_from(sorted(used)), unique=True, max_size=3)):
            g.set_position(n, draw(st.integers(-500, 500)), draw(st.floats(-1e3, 1e3, allow_nan=False)))
    return g


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(graphs())
def test_udgl_earg_graph_udgl_earg_is_lossless(graph: Graph) -> None:
    assert graph.errors == [], [d.message for d in graph.errors]
    text = graph.to_udgl()
    parsed = parse(text)
    earg = assert_lossless(parsed)
    direct = dump_earg(graph)
    assert loads_earg(direct).nodes.keys() == graph.nodes.keys()
    assert dump_earg(loads_earg(direct)) == direct
    # UDGL text carries no editor positions: the same document but for `layout`.
    assert {k: v for k, v in yaml.safe_load(direct).items() if k != "layout"} == yaml.safe_load(earg)
