"""Whatever comes in, the parser answers with a Graph or diagnostics: never a traceback."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hogar_nb import UDGLError, parse_udgl
from hogar_nb.core.diagnostics import Diagnostic
from hogar_nb.core.udgl import compile_udgl

VALID = [p.read_text() for p in sorted((Path(__file__).parent / "cases" / "valid").glob("*.udgl"))]
ALPHABET = st.sampled_from(list('{}[]()=,->"#$%.\n \t') + ["python", "source", "sink", "->", "ms", "GiB"])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_well_formed(diags: list[Diagnostic], text: str) -> None:
    for d in diags:
        assert d.code and d.message and d.severity in ("error", "warning", "info")
        if d.line is not None:
            assert 1 <= d.line <= text.count("\n") + 1
            assert d.column >= 1
        d.format(text)  # rendering never fails either


def _run(text) -> None:
    graph, diags = compile_udgl(text)
    _assert_well_formed(diags, text if isinstance(text, str) else text.decode("utf-8", "replace"))
    try:
        g = parse_udgl(text)
    except UDGLError as err:
        assert err.errors
        str(err)
    else:
        g.to_udgl()
        g.analyze()


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _run(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _run(data)


@FUZZ
@given(st.lists(ALPHABET, max_size=80).map(" ".join))
def test_random_token_soup(text: str) -> None:
    _run(text)


@FUZZ
@given(st.sampled_from(VALID), st.data())
def test_mutated_valid_graphs(text: str, data) -> None:
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["delete", "insert", "duplicate_line"]))
        if op == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 8)):]
        elif op == "insert":
            text = text[:pos] + data.draw(ALPHABET) + text[pos:]
        else:
            lines = text.split("\n")
            i = data.draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "\n".join(lines)
    _run(text)


def test_pathological_inputs() -> None:
    for text in [
        "[" * 100_000,
        "a -> " * 20_000 + "b",
        "python x { a = " + "[" * 5000 + "1" + "]" * 5000 + " }",
        "restart(" * 3000,
        '"' * 10_001,
        "\x00\x01\x02",
        "\ufeffsource in\n",
        "source in\r\nsink out\r\nin -> out\r\n",
        "source s\u2028sink out\n",
    ]:
        _run(text)
