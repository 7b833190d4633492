"""restart(max, within, backoff), retry_errors and max_queue in UDGL and EARG; old files keep loading."""

from __future__ import annotations

import pytest

import hogar_nb

TEXT = """graph g
source s
python a {{ impl = "m:f", {attrs} }}
sink t
s -> a -> t
"""


def node(attrs: str) -> dict:
    return hogar_nb.parse_udgl(TEXT.format(attrs=attrs)).to_earg()["nodes"][1]


def test_within_is_written_only_when_it_is_not_the_default():
    assert node("recovery = restart(max = 3, within = 10s, backoff = 50ms)")["recovery"] == \
        {"policy": "restart", "max_restarts": 3, "backoff_ms": 50.0, "within_ms": 10_000.0}
    assert node("recovery = restart(within = 60s)")["recovery"] == \
        {"policy": "restart", "max_restarts": 5, "backoff_ms": 100.0}
    assert node("retry_errors = true")["retry_errors"] is True
    assert "retry_errors" not in node("retries = 2")


@pytest.mark.parametrize("attrs", [
    "recovery = restart(max = 3, within = 10s, backoff = 50ms), retry_errors = true, max_queue = 64",
    "recovery = restart(within = 2m)",
])
def test_earg_round_trips(attrs):
    graph = hogar_nb.parse_udgl(TEXT.format(attrs=attrs))
    again = hogar_nb.loads_earg(hogar_nb.dump_earg(graph))
    assert again.to_earg() == graph.to_earg()
    assert hogar_nb.parse_udgl(again.to_udgl()).to_earg() == graph.to_earg()


def test_an_earg_file_without_the_new_keys_loads_with_the_old_meaning():
    text = hogar_nb.dump_earg(hogar_nb.parse_udgl(TEXT.format(attrs="recovery = restart(max = 2)")))
    assert "within_ms" not in text and "max_queue" not in text
    entry = hogar_nb.loads_earg(text).to_earg()["nodes"][1]
    assert entry["recovery"] == {"policy": "restart", "max_restarts": 2, "backoff_ms": 100.0}


@pytest.mark.parametrize(("attrs", "message"), [
    ("recovery = restart(within = 0s)", "`within` of `restart`"),
    ("recovery = restart(withn = 1s)", "did you mean `within`"),
    ("max_queue = 0", "`max_queue`"),
])
def test_bad_values_are_diagnostics(attrs, message):
    with pytest.raises(hogar_nb.UDGLError) as info:
        hogar_nb.parse_udgl(TEXT.format(attrs=attrs))
    assert message in str(info.value)
