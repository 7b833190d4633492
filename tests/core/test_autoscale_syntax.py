"""replicas = auto(min, max) with target_ongoing and the scale delays: UDGL, EARG, JSON Schema, checks."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

import hogar_nb
from hogar_nb.core.autoscale import AutoscalePolicy
from hogar_nb.core.earg import earg_schema
from hogar_nb.errors import EARGError, UDGLError

TEXT = """graph g
source s
python a {{ impl = "m:f", {attrs} }}
sink t
s -> a -> t
"""


def node(attrs: str) -> dict:
    return hogar_nb.parse_udgl(TEXT.format(attrs=attrs)).to_earg()["nodes"][1]


def test_auto_starts_at_its_minimum_with_default_tuning():
    entry = node("replicas = auto(min = 2, max = 8)")
    assert entry["replicas"] == 2
    assert entry["autoscale"] == {"min_replicas": 2, "max_replicas": 8, "target_ongoing": 2.0,
                                  "scale_up_delay_ms": 1000.0, "scale_down_delay_ms": 15000.0}
    assert "autoscale" not in node("replicas = 3")


def test_tuning_is_read_in_units_and_from_defaults():
    text = TEXT.replace("graph g", "graph g\ndefaults {{ target_ongoing = 4, scale_down_delay = 1m }}")
    entry = hogar_nb.parse_udgl(text.format(attrs="replicas = auto(max = 3), scale_up_delay = 250ms")) \
        .to_earg()["nodes"][1]
    assert entry["autoscale"] == {"min_replicas": 1, "max_replicas": 3, "target_ongoing": 4.0,
                                  "scale_up_delay_ms": 250.0, "scale_down_delay_ms": 60000.0}
    assert AutoscalePolicy.from_earg(entry) == AutoscalePolicy(1, 3, 4.0, 250.0, 60000.0)


@pytest.mark.parametrize("attrs", [
    "replicas = auto(min = 2, max = 8)",
    "replicas = auto(min = 1, max = 4), target_ongoing = 1.5, scale_up_delay = 200ms, scale_down_delay = 5s",
])
def test_earg_round_trips_and_matches_the_schema(attrs):
    graph = hogar_nb.parse_udgl(TEXT.format(attrs=attrs))
    text = hogar_nb.dump_earg(graph)
    jsonschema.validate(graph.to_earg(), earg_schema())
    again = hogar_nb.loads_earg(text)
    assert hogar_nb.dump_earg(again) == text
    assert hogar_nb.parse_udgl(again.to_udgl()).to_earg() == graph.to_earg()


@pytest.mark.parametrize("value, message", [
    ("auto", "`auto` needs its bounds"),
    ("auto(min = 2)", "`auto` needs `max`"),
    ("auto(min = 3, max = 2)", "got min = 3 and max = 2 for `auto`; expected min <= max"),
    ("auto(max = 0)", "got 0 for `max` of `auto`; expected an integer >= 1 and <= 10000"),
    ("auto(mx = 3)", "`auto` has no argument `mx`"),
    ("many(max = 2)", "expected an integer, or `auto(min = 1, max = 8)`"),
])
def test_bad_auto_values_are_diagnostics(value, message):
    with pytest.raises(UDGLError) as info:
        hogar_nb.parse_udgl(TEXT.format(attrs=f"replicas = {value}"))
    assert message in str(info.value)
    assert "Traceback" not in str(info.value)


@pytest.mark.parametrize("attrs, message", [
    ("target_ongoing = 0", "got 0 for `target_ongoing`"),
    ("scale_up_delay = 2", "got 2 for `scale_up_delay`"),
])
def test_bad_tuning_is_a_diagnostic(attrs, message):
    with pytest.raises(UDGLError) as info:
        hogar_nb.parse_udgl(TEXT.format(attrs=f"replicas = auto(max = 4), {attrs}"))
    assert message in str(info.value)


def test_tuning_fixed_replicas_or_an_inline_node_warns():
    graph = hogar_nb.parse_udgl(TEXT.format(attrs="replicas = 2, target_ongoing = 3"))
    assert [(d.code, d.node) for d in graph.check()] == [("W013", "a")]
    inline = TEXT.replace("source s", "source s {{ replicas = auto(max = 2) }}")
    graph = hogar_nb.parse_udgl(inline.format(attrs="replicas = 1"))
    assert [(d.code, d.node) for d in graph.check()] == [("W014", "s")]


@pytest.mark.parametrize("change, message", [
    (lambda n: n["autoscale"].update(min_replicas=5), "is above its `max_replicas`"),
    (lambda n: n.update(replicas=9), "expected an integer between its `min_replicas` (2)"),
    (lambda n: n["autoscale"].update(target_ongoing=-1), "got -1 for `autoscale.target_ongoing`"),
    (lambda n: n["autoscale"].pop("scale_up_delay_ms"), "scale_up_delay_ms"),
])
def test_bad_earg_autoscale_is_a_diagnostic(change, message):
    doc = hogar_nb.parse_udgl(TEXT.format(attrs="replicas = auto(min = 2, max = 4)")).to_earg()
    change(doc["nodes"][1])
    with pytest.raises(EARGError) as info:
        hogar_nb.loads_earg(json.dumps(doc))
    assert message in str(info.value)


def test_autoscale_on_an_inline_node_is_refused_in_earg():
    doc = hogar_nb.parse_udgl(TEXT.format(attrs="replicas = auto(min = 2, max = 4)")).to_earg()
    doc["nodes"][0]["autoscale"] = dict(doc["nodes"][1]["autoscale"])
    with pytest.raises(EARGError) as info:
        hogar_nb.loads_earg(json.dumps(doc))
    assert "autoscale" in str(info.value)


def test_hogar_check_reports_a_bad_auto(tmp_path):
    path = tmp_path / "g.udgl"
    path.write_text(TEXT.format(attrs="replicas = auto(min = 4, max = 2)"))
    out = subprocess.run([sys.executable, "-m", "hogar_nb.cli", "check", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "g.udgl:3:26: error[E022]: got min = 4 and max = 2 for `auto`" in out.stdout + out.stderr
