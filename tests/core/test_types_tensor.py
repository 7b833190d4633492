"""Tensor types: parsing and printing, unification of symbols, payloads against a type."""

from __future__ import annotations

import pytest

from hogar_nb.core.types import TensorType, TypeSyntaxError, parse_type, payload_problem
from hogar_nb.core.types.tensor import Unifier


@pytest.mark.parametrize("text", ["float32[n, 20]", "int64[n]", "bytes[n]", "json", "float32", "uint8[n, 28, 28]",
                                  "number[n, _]", "float16[batch, 3]"])
def test_types_print_as_they_are_written(text: str) -> None:
    assert str(parse_type(text)) == text


def test_parsing_is_lenient_about_spacing_and_question_marks() -> None:
    assert parse_type(" float32 [ n ,20 ] ") == TensorType("float32", ("n", 20))
    assert parse_type("float32[?, 4]") == TensorType("float32", ("_", 4))


@pytest.mark.parametrize(("text", "words"), [
    ("floot32[n]", "did you mean `float32`"),
    ("float32[n, 2", "is not a type"),
    ("float32[n, -1]", "`-1` is not a dimension"),
    ("json[3]", "`json` takes no shape"),
])
def test_bad_types_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(TypeSyntaxError, match=words.replace("[", r"\[")):
        parse_type(text)


def test_the_batch_symbol_is_unified_along_a_graph() -> None:
    u = Unifier()
    assert u.fits(parse_type("float32[n, 4]"), parse_type("float32[8, 4]"))
    assert str(u.show(parse_type("int64[n]"))) == "int64[8]"
    assert not u.fits(parse_type("float32[n, 4]"), parse_type("float32[9, 4]"))  # n is 8 now


@pytest.mark.parametrize(("expected", "produced", "fits"), [
    ("float32[n, 3]", "float64[n, 3]", True),  # precision is the consumer's choice
    ("float64[n]", "int64[n]", True),          # integers are numbers
    ("int64[n]", "float32[n]", False),         # floats are not labels
    ("number[n, 4]", "float32[n, 4]", True),
    ("float32[n, 4]", "bytes[n, 4]", False),
    ("float32[n, 4]", "float32[n, 3]", False),
    ("float32[n, 4]", "float32[n]", False),
    ("json", "bytes[n]", True),
])
def test_what_fits_where(expected: str, produced: str, fits: bool) -> None:
    assert Unifier().fits(parse_type(expected), parse_type(produced)) is fits


def test_payloads_against_a_type() -> None:
    t = parse_type("float32[n, 4]")
    assert payload_problem(t, [1, 2, 3, 4]) is None  # one row
    assert payload_problem(t, [[1, 2, 3, 4], [0.5, 0, 0, 1]]) is None
    assert "axis 1 has 3, not 4" in payload_problem(t, [[1, 2, 3]])
    assert "ragged" in payload_problem(t, [[1, 2, 3, 4], [1]])
    assert "'a'" in payload_problem(t, [1, "a", 3, 4])
    assert payload_problem(parse_type("bytes[n]"), ["a", "b"]) is None
    assert payload_problem(parse_type("int64[n]"), [1.5]) is not None
    assert payload_problem(parse_type("json"), {"anything": [1]}) is None
    deep: list = []
    for _ in range(100_000):  # deeper than Python's recursion limit
        deep = [deep]
    assert "nested deeper than its 2 dimensions" in payload_problem(t, deep)


def test_oip_metadata_form() -> None:
    assert parse_type("float32[n, 20]").to_oip() == {"datatype": "FP32", "shape": [-1, 20]}
    assert parse_type("bytes[n]").to_oip() == {"datatype": "BYTES", "shape": [-1]}


def test_the_public_names_of_the_types_package() -> None:
    import hogar_nb.core.types as types

    assert types.__all__ == sorted([
        "CODES", "JSON", "NodeTypes", "Signature", "TensorType", "TypeReport", "TypeSyntaxError",
        "check_types", "infer_types", "node_types", "parse_type", "payload_problem",
    ])
    assert set(types.CODES) == {"E081", "E082", "E083", "E084", "E085", "E086"}
