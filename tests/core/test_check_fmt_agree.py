"""`hogar check` and `hogar fmt` agree: every EARG document check accepts, fmt prints
as UDGL that check accepts again, meaning the same graph. Properties over documents
with values at the edges of the limits (numbers near 2^63, strings and names near
their length limits, escapes); `make test` replays a fixed set, `make fuzz` explores."""

from __future__ import annotations

import os

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hogar_nb.core.earg import dump_earg, loads_earg
from hogar_nb.core.udgl import parse_udgl
from hogar_nb.errors import DiagnosticError

EXPLORING = os.environ.get("HOGAR_HYPOTHESIS_PROFILE") == "explore"  # make fuzz
PROPS = settings(max_examples=800 if EXPLORING else 80, deadline=None,
                 suppress_health_check=list(HealthCheck))

BASE = parse_udgl('graph g "a graph"\nparam k = 1\nsource s\npython a { impl = "m:f" }\n'
                  'model b { impl = "models/b.onnx" }\nsink t\ns -> a -> b -> t\n'
                  "cluster { workers = 2, cpu = 4, memory = 8GiB }\n").to_earg()

LIMIT = 2**63 - 1
HUGE_INTS = st.one_of(st.integers(0, 10**6), st.integers(LIMIT - 2**12, LIMIT + 2**12),
                      st.sampled_from([LIMIT, LIMIT - 1, 2**53, 2**53 + 1, 2**62]))
HUGE_FLOATS = st.one_of(st.floats(0, 1e6), st.floats(9.2e18, 9.3e18),
                        st.sampled_from([float(LIMIT), 9.223372036854775e18, 1e-300, 5e-324, 0.1]))
NUMBERS = st.one_of(HUGE_INTS, HUGE_FLOATS)
CHARS = st.sampled_from(["a", '"', "\\", "\n", "\t", "é", "\x01", "\u2028", "😀"])


@st.composite
def long_strings(draw, limit: int) -> str:
    """A string of about ``limit`` characters, some of them needing escapes."""
    n = draw(st.integers(limit - 3, limit + 3))
    special = draw(CHARS)
    k = draw(st.integers(0, 3))
    return "x" * max(n - k, 0) + special * k


NAMES = st.integers(195, 205).map(lambda n: "n" * n)

FIELDS = [
    (("nodes", 1, "recovery", "backoff_ms"), NUMBERS),
    (("nodes", 1, "timeout_ms"), NUMBERS),
    (("nodes", 1, "latency_ms"), NUMBERS),
    (("nodes", 1, "batch", "max_wait_ms"), NUMBERS),
    (("nodes", 1, "resources", "memory_bytes"), HUGE_INTS),
    (("nodes", 2, "resources", "cpu"), NUMBERS),
    (("nodes", 1, "recovery", "max_restarts"), HUGE_INTS),
    (("cluster", "memory_bytes"), HUGE_INTS),
    (("cluster", "cpu"), NUMBERS),
    (("params", "k"), NUMBERS),
    (("description",), long_strings(10_000)),
    (("nodes", 1, "impl"), long_strings(10_000)),
    (("nodes", 2, "impl"), long_strings(10_000)),
]


def _set(doc: dict, path: tuple, value: object) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


@st.composite
def documents(draw) -> str:
    doc = yaml.safe_load(dump_earg(loads_earg(yaml.safe_dump(BASE))))
    for i in sorted(draw(st.sets(st.integers(0, len(FIELDS) - 1), min_size=1, max_size=4))):
        path, values = FIELDS[i]
        _set(doc, path, draw(values))
    if draw(st.booleans()):
        name = draw(NAMES)
        doc["name"] = name
    return yaml.safe_dump(doc, allow_unicode=True, width=1 << 30)


def _accepted_as_udgl(text: str) -> None:
    try:
        parse_udgl(text)
    except DiagnosticError as exc:
        raise AssertionError(f"check accepted the EARG document but rejects its fmt output:\n{exc}") from None


@PROPS
@given(documents())
@example(yaml.safe_dump({**BASE, "nodes": [BASE["nodes"][0], {**BASE["nodes"][1], "recovery": {
    "policy": "restart", "max_restarts": 5, "backoff_ms": LIMIT}}, *BASE["nodes"][2:]]}))
@example(yaml.safe_dump({**BASE, "description": "d" * 10_001}))
@example(yaml.safe_dump({**BASE, "description": '"' * 10_000}))
def test_fmt_prints_every_earg_document_check_accepts_as_udgl_check_accepts(document):
    try:
        graph = loads_earg(document)
    except DiagnosticError:
        return  # check refuses it: nothing for fmt to agree with
    text = graph.to_udgl()
    _accepted_as_udgl(text)
    assert dump_earg(parse_udgl(text)) == dump_earg(graph), "fmt changed what the graph means"
