"""EARG v1 export and dump: schema validity, key order, determinism, YAML/JSON
equivalence and Graph -> EARG -> Graph -> EARG round trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from hogar_nb import UDGLError
from hogar_nb.core.earg import dump_earg, earg_schema, graph_to_earg, loads_earg, validate_earg
from hogar_nb.core.earg.schema import SCHEMA_PATH, build_schema, schema_text
from hogar_nb.core.graph import Graph
from hogar_nb.core.values import Duration, Size

CASES = Path(__file__).parent / "cases" / "valid"
VALIDATOR = jsonschema.Draft202012Validator(earg_schema())


def small_graph() -> Graph:
    g = Graph("t", "a small graph")
    g.set_param("threshold", 0.8)
    g.set_param("wait", Duration(5.0))
    g.add_node("a", "source", route="/in")
    g.add_node("f", "python", impl="m:f", replicas=2, timeout=Duration(250.0), cpu=0.5)
    g.add_node("m", "model", impl="m.onnx", memory=Size(2**30), recovery="restart(max = 3)",
               isolation="process", latency="12ms", description="the model ✓")
    g.add_node("e", "ensemble", weights=[0.25, 0.75], combine="vote", batch=8, batch_wait="2ms")
    g.add_node("out", "sink")
    g.connect("a", "f")
    g.connect("a", "m")
    g.connect("m", "e")
    g.connect("f", "e")
    g.connect("e", "out")
    return g


def routed_graph() -> Graph:
    g = Graph("routed")
    g.add_node("src", "source")
    g.add_node("gate", "switch", impl="rules:route", recovery="failover")
    g.add_node("canary", "split", recovery="none")
    g.add_node("a", "python", impl="m:a", retries=3)
    g.add_node("b", "python", impl="m:b", gpu=1, memory="4GiB")
    g.add_node("out", "sink", response=True)
    g.add_node("audit", "sink", response=False)
    g.connect("src", "gate")
    g.connect("gate", "canary", when="new")
    g.connect("gate", "out", when="*")
    g.connect("canary", "a", weight="90%")
    g.connect("canary", "b", weight=0.1)
    g.connect("a", "out")
    g.connect("b", "audit")
    g.set_position("gate", 10, 20.5)
    g.set_position("a", -3, 0)
    g.set_cluster(workers=2, cpu=8, gpu=1, memory="32GiB")
    return g


def case_graphs() -> list[tuple[str, str]]:
    """(name, UDGL text) of the valid case files."""
    return [(path.stem, path.read_text()) for path in sorted(CASES.glob("*.udgl"))]


def all_graphs() -> list[tuple[str, Graph]]:
    from hogar_nb.core.udgl import parse_udgl

    return [("small", small_graph()), ("routed", routed_graph())] + [
        (name, parse_udgl(text)) for name, text in case_graphs()
    ]


GRAPHS = all_graphs()
IDS = [name for name, _ in GRAPHS]


# ---------------------------------------------------------------------- schema
def test_shipped_schema_is_current_and_valid() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "run `python -m hogar_nb.core.earg.schema` to regenerate earg-v1.schema.json"
    )
    assert earg_schema() == build_schema()
    jsonschema.Draft202012Validator.check_schema(earg_schema())


def _object_schemas(schema, path="#"):
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield path, schema
        for k, v in schema.items():
            yield from _object_schemas(v, f"{path}/{k}")
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            yield from _object_schemas(v, f"{path}/{i}")


def test_every_object_is_closed_and_every_property_described() -> None:
    for path, obj in _object_schemas(earg_schema()):
        assert obj.get("additionalProperties") is False, path
        for name, sub in {**obj.get("properties", {}), **obj.get("patternProperties", {})}.items():
            assert sub.get("description"), f"{path}/{name}"


def test_schema_enums_follow_the_kinds_module() -> None:
    from hogar_nb.core.kinds import COMBINE_MODES, ISOLATION_MODES, KINDS, RECOVERY_POLICIES

    node = earg_schema()["$defs"]["node"]["properties"]
    assert node["kind"]["enum"] == list(KINDS)
    assert node["recovery"]["properties"]["policy"]["enum"] == list(RECOVERY_POLICIES)
    assert node["isolation"]["enum"] == list(ISOLATION_MODES)
    assert node["combine"]["anyOf"][0]["enum"] == list(COMBINE_MODES)
    assert node["replicas"]["minimum"] == 1 and node["timeout_ms"]["exclusiveMinimum"] == 0


def test_earg_schema_returns_a_copy() -> None:
    earg_schema()["properties"].clear()
    assert earg_schema()["properties"]


# ---------------------------------------------------------------------- export
@pytest.mark.parametrize(("name", "graph"), GRAPHS, ids=IDS)
def test_every_output_validates_against_the_schema(name: str, graph: Graph) -> None:
    for fmt, reader in (("yaml", yaml.safe_load), ("json", json.loads)):
        doc = reader(dump_earg(graph, fmt))
        assert sorted(VALIDATOR.iter_errors(doc), key=str) == []
        assert validate_earg(doc) == []


@pytest.mark.parametrize(("name", "graph"), GRAPHS, ids=IDS)
def test_round_trip_is_lossless(name: str, graph: Graph) -> None:
    for fmt in ("yaml", "json"):
        text = dump_earg(graph, fmt)
        loaded = loads_earg(text)
        assert dump_earg(loaded, fmt) == text
        assert loaded.to_earg() == graph.to_earg() if graph.cluster is None else True
        again = loads_earg(dump_earg(loaded, fmt))
        assert dump_earg(again, fmt) == text


def test_values_most_nodes_share_load_as_defaults() -> None:
    from hogar_nb.core.udgl import parse_udgl

    graph = parse_udgl(
        "defaults { timeout = 2s, retries = 1, recovery = failover }\n"
        'source a\npython f { impl = "m:f", replicas = 2 }\npython h { impl = "m:h", retries = 3 }\n'
        'python k { impl = "m:k", retries = 0, recovery = restart(max = 2) }\nsink out\n'
        "a -> f -> h -> k -> out\n"
    )
    earg = dump_earg(graph)
    loaded = loads_earg(earg)
    text = loaded.to_udgl()
    assert "defaults { timeout = 2s, retries = 1, recovery = failover }" in text
    assert 'python f   { impl = "m:f", replicas = 2 }' in text  # said once, in defaults
    assert 'python h   { impl = "m:h", retries = 3 }' in text
    assert 'python k   { impl = "m:k", recovery = restart(max = 2), retries = 0 }' in text
    assert dump_earg(loaded) == earg

    half = loads_earg(dump_earg(parse_udgl(  # one of two nodes: stays on the node
        'source a { retries = 2 }\nsink out\na -> out\n')))
    assert half.defaults == {} and "source a   { retries = 2 }" in half.to_udgl()


@pytest.mark.parametrize("text", ["\x85", "two\nlines", "a\u2028b\u2029", "\r\n", " lead", "yes", "ü"])
def test_strings_with_line_breaks_survive_yaml(text: str) -> None:
    """PyYAML folds a raw NEL or Unicode line separator in a quoted scalar into a space."""
    from hogar_nb.core.udgl import parse_udgl

    graph = parse_udgl('source s\nsink out\ns -> out\n')
    graph.set_attr("out", "description", text)
    graph.set_description(text)
    earg = dump_earg(graph)
    assert yaml.safe_load(earg)["nodes"][1]["description"] == text
    loaded = loads_earg(earg)
    assert (loaded.description, loaded.nodes["out"].attrs["description"]) == (text, text)
    assert dump_earg(loaded) == earg


@pytest.mark.parametrize(("name", "graph"), GRAPHS, ids=IDS)
def test_yaml_and_json_hold_the_same_document(name: str, graph: Graph) -> None:
    from_yaml = yaml.safe_load(dump_earg(graph))
    from_json = json.loads(dump_earg(graph, "json"))
    assert from_yaml == from_json == graph_to_earg(graph)
    assert list(from_yaml) == list(from_json)


def test_key_order_and_optional_sections() -> None:
    doc = yaml.safe_load(dump_earg(routed_graph()))
    assert list(doc) == ["earg", "name", "params", "response", "nodes", "edges", "stages",
                         "cluster", "placement", "layout"]
    doc = yaml.safe_load(dump_earg(small_graph()))
    assert list(doc) == ["earg", "name", "description", "params", "response", "nodes", "edges", "stages"]
    assert list(doc["nodes"][0])[:10] == ["name", "kind", "impl", "replicas", "resources", "batch",
                                          "timeout_ms", "retries", "recovery", "latency_ms"]


def test_values_are_resolved_and_normalised() -> None:
    doc = yaml.safe_load(dump_earg(small_graph()))
    assert doc["params"] == {"threshold": 0.8, "wait": 5.0}
    nodes = {n["name"]: n for n in doc["nodes"]}
    assert nodes["m"]["resources"] == {"cpu": 1, "gpu": 0, "memory_bytes": 2**30}
    assert nodes["m"]["recovery"] == {"policy": "restart", "max_restarts": 3, "backoff_ms": 100.0}
    assert nodes["m"]["latency_ms"] == 12.0 and nodes["m"]["isolation"] == "process"
    assert nodes["f"]["timeout_ms"] == 250.0 and nodes["f"]["resources"]["cpu"] == 0.5
    assert nodes["e"]["batch"] == {"max_size": 8, "max_wait_ms": 2.0}
    assert nodes["e"]["combine"] == "vote"
    assert nodes["a"]["route"] == "/in"
    assert doc["stages"] == [["a"], ["f", "m"], ["e"], ["out"]]


def test_edges_sorted_with_when_and_weight_as_fractions() -> None:
    doc = yaml.safe_load(dump_earg(routed_graph()))
    assert doc["edges"] == [
        {"src": "a", "dst": "out"},
        {"src": "b", "dst": "audit"},
        {"src": "canary", "dst": "a", "weight": 0.9},
        {"src": "canary", "dst": "b", "weight": 0.1},
        {"src": "gate", "dst": "canary", "when": "new"},
        {"src": "gate", "dst": "out", "when": "*"},
        {"src": "src", "dst": "gate"},
    ]
    assert doc["response"] == "out"
    assert doc["cluster"] == {"workers": 2, "cpu": 8, "gpu": 1, "memory_bytes": 32 * 2**30}
    assert sorted(doc["placement"]) == list(doc["placement"])
    assert set(doc["placement"]) == {f"{n}/0" for n in ("src", "gate", "canary", "a", "b", "out", "audit")}
    assert doc["layout"] == {"a": [-3.0, 0.0], "gate": [10.0, 20.5]}


def test_ensemble_weights_are_keyed_by_input() -> None:
    doc = yaml.safe_load(dump_earg(small_graph()))
    blend = next(n for n in doc["nodes"] if n["name"] == "e")
    assert blend["weights"] == {"f": 0.75, "m": 0.25}  # edges: m -> e first, then f -> e
    loaded = loads_earg(dump_earg(small_graph(), "json"))
    assert loaded.predecessors("e") == ["f", "m"]
    assert loaded.nodes["e"].attrs["weights"] == [0.75, 0.25]


def test_yaml_layout_keeps_small_mappings_on_one_line() -> None:
    text = dump_earg(small_graph())
    assert "    resources: {cpu: 0.5, gpu: 0, memory_bytes: 0}\n" in text
    assert "    recovery: {policy: restart, max_restarts: 3, backoff_ms: 100.0}\n" in text
    assert "  - {src: a, dst: f}\n" in text
    assert "stages: [[a], [f, m], [e], [out]]\n" in text
    assert "params: {threshold: 0.8, wait: 5.0}\n" in text
    assert "description: the model ✓\n" in text
    assert "&" not in text and "*" not in text
    json_text = dump_earg(small_graph(), "json")
    assert json_text.endswith("}\n") and json_text.startswith('{\n  "earg": 1,')


def test_output_is_deterministic_across_processes() -> None:
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from test_earg import small_graph, routed_graph\n"
        "from hogar_nb.core.earg import dump_earg\n"
        "print(dump_earg(small_graph()) + dump_earg(routed_graph(), 'json'), end='')\n"
    ) % str(Path(__file__).parent)
    outs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert outs == {dump_earg(small_graph()) + dump_earg(routed_graph(), "json")}


def test_loaded_graph_keeps_only_non_default_attributes() -> None:
    loaded = loads_earg(dump_earg(small_graph()))
    assert loaded.name == "t" and loaded.description == "a small graph"
    assert loaded.params == {"threshold": 0.8, "wait": 5.0}
    assert loaded.nodes["a"].attrs == {"route": "/in"}
    assert loaded.nodes["out"].attrs == {}
    assert str(loaded.nodes["m"].attrs["recovery"]) == "restart(max = 3)"
    assert str(loaded.nodes["m"].attrs["memory"]) == "1GiB"
    routed = loads_earg(dump_earg(routed_graph()))
    assert str(routed.nodes["gate"].attrs["recovery"]) == "failover"
    assert routed.nodes["gate"].position == (10.0, 20.5)
    assert routed.cluster is not None and str(routed.cluster["memory"]) == "32GiB"


def test_dump_refuses_a_graph_with_errors() -> None:
    g = Graph("bad")
    g.add_node("a", "source")
    g.add_node("f", "python")  # no impl, no sink
    g.connect("a", "f")
    with pytest.raises(UDGLError):
        dump_earg(g)
    with pytest.raises(ValueError):
        dump_earg(small_graph(), "toml")  # type: ignore[arg-type]
