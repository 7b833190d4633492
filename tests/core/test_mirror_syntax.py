"""Mirror edges (shadow traffic): `a -> candidate { mirror = 25% }` in UDGL, EARG and the checks."""

from __future__ import annotations

import pytest

import hogar_nb
from hogar_nb.core.udgl import compile_udgl
from hogar_nb.errors import UDGLError

TEXT = """graph shadowed
source ingest
python v1 { impl = "m:f" }
python v2 { impl = "m:g" }
sink out
ingest -> v1 -> out
"""


def graph(extra: str):
    return hogar_nb.parse_udgl(TEXT + extra + "\n")


def test_a_mirror_edge_checks_clean_and_round_trips():
    g = graph("ingest -> v2 { mirror = 25% }")
    assert g.check() == []
    assert {"src": "ingest", "dst": "v2", "mirror": 0.25} in g.to_earg()["edges"]
    text = hogar_nb.dump_earg(g)
    again = hogar_nb.loads_earg(text)
    assert hogar_nb.dump_earg(again) == text
    assert "ingest -> v2 { mirror = 25% }" in again.to_udgl()
    assert hogar_nb.parse_udgl(again.to_udgl()).to_earg() == g.to_earg()


@pytest.mark.parametrize("extra, message", [
    ("ingest -> v2 { mirror = 25% }\nv2 -> out", "`v2` takes shadow traffic: its answer is compared, never passed on"),
    ("ingest -> v2 { mirror = 25% }\nv1 -> v2", "`v2` takes shadow traffic, so it can take no other edge"),
    ("ingest -> out { mirror = 10% }\nv1 -> v2", "a mirror edge leads to the python or model node under test"),
])
def test_misplaced_mirrors_are_e043(extra, message):
    _g, found = compile_udgl(TEXT + extra + "\n")
    diags = [d for d in found if d.code == "E043"]
    assert diags and message in diags[0].message


def test_a_mirror_share_is_a_percentage_above_zero():
    with pytest.raises(UDGLError) as info:
        graph("ingest -> v2 { mirror = 0% }")
    assert "got 0% for `mirror`" in str(info.value)


def test_a_mirror_target_need_not_reach_the_response():
    codes = {d.code for d in graph("ingest -> v2 { mirror = 100% }").check()}
    assert not codes & {"E031", "E032", "E033"}
