"""EARG v1 export, dump and load: schema validity, determinism, round trips."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from hogar_nb.core.earg import dump_earg, earg_schema, load_earg
from hogar_nb.core.graph import Graph
from hogar_nb.core.values import Duration, Size


def small_graph() -> Graph:
    g = Graph("t", "a small graph")
    g.add_node("a", "source", route="/in")
    g.add_node("f", "python", impl="m:f", replicas=2, timeout=Duration(250.0))
    g.add_node("m", "model", impl="m.onnx", memory=Size(2**30), recovery="restart(max = 3)")
    g.add_node("e", "ensemble", weights=[0.25, 0.75], combine="vote")
    g.add_node("out", "sink")
    g.connect("a", "f")
    g.connect("a", "m")
    g.connect("m", "e")
    g.connect("f", "e")
    g.connect("e", "out")
    return g


def test_small_graph_round_trips_byte_identical() -> None:
    text = dump_earg(small_graph())
    jsonschema.validate(yaml.safe_load(text), earg_schema())
    assert dump_earg(load_earg(text)) == text


def test_ensemble_weights_are_keyed_by_input() -> None:
    doc = yaml.safe_load(dump_earg(small_graph()))
    blend = next(n for n in doc["nodes"] if n["name"] == "e")
    assert blend["weights"] == {"f": 0.75, "m": 0.25}
    loaded = load_earg(dump_earg(small_graph(), "json"))
    assert loaded.predecessors("e") == ["f", "m"]
    assert loaded.nodes["e"].attrs["weights"] == [0.75, 0.25]
    assert json.loads(dump_earg(loaded, "json")) == doc
