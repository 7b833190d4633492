"""Every UDGL value kind reads to the right typed value, and writes back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hogar_nb import UDGLError
from hogar_nb.core.udgl import parse_value
from hogar_nb.core.values import NUMBER_LIMIT, Call, Duration, Ident, ParamRef, Percent, Size, format_value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-2", -2),
        ("0.8", 0.8),
        ("1e3", 1000.0),
        ('"a \\"quoted\\" word"', 'a "quoted" word'),
        ("true", True),
        ("false", False),
        ("mean", Ident("mean")),
        ("$threshold", ParamRef("threshold")),
        ("[1, 2.5, \"x\"]", [1, 2.5, "x"]),
        ("[]", []),
        ("250us", Duration(0.25)),
        ("250ms", Duration(250.0)),
        ("1.5s", Duration(1500.0)),
        ("2m", Duration(120_000.0)),
        ("1h", Duration(3_600_000.0)),
        ("512KiB", Size(512 * 1024)),
        ("4GiB", Size(4 * 2**30)),
        ("1GB", Size(10**9)),
        ("100B", Size(100)),
        ("90%", Percent(0.9)),
        ("12.5%", Percent(0.125)),
        ("restart(max = 5, backoff = 100ms)", Call("restart", (("max", 5), ("backoff", Duration(100.0))))),
        ("failover()", Call("failover")),
    ],
)
def test_value_kinds(text: str, value) -> None:
    assert parse_value(text) == value


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("5parsecs", "E021", "unknown unit `parsecs` in `5parsecs`"),
        ("1.5B", "E021", "`1.5B` is not a whole number of bytes"),
        ("[1, 2", "E001", "unexpected end of line; expected `,` or `]`"),
        ('"open', "E002", "unterminated string"),
        ("", "E001", "empty value"),
        ("1e400", "E022", "`1e400` is out of range: numbers are finite and at most 9.22e+18 in size"),
        ("9" * 400 + "s", "E022", "`9999999999...99999s (401 characters)` is out of range: numbers are "
         "finite and at most 9.22e+18 in size"),
        ("5 seconds", "E021", "`5 seconds` is not a value: a unit follows its number without a space"),
    ],
)
def test_bad_values(text: str, code: str, message: str) -> None:
    with pytest.raises(UDGLError) as info:
        parse_value(text)
    d = info.value.diagnostics[0]
    assert (d.code, d.message) == (code, message)


values = st.recursive(
    st.one_of(
        st.integers(-10**9, 10**9),
        st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda f: abs(f) <= NUMBER_LIMIT),
        st.text(max_size=20),
        st.booleans(),
        st.floats(0, 10**7, allow_nan=False).map(Duration),
        st.integers(0, 2**50).map(Size),
        st.floats(0, 1, allow_nan=False).filter(lambda f: f == 0 or f > 1e-300).map(Percent),
        st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s not in ("true", "false")).map(Ident),
    ),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=10,
)


def _fractions(value):
    """Percentages that no float percentage reads back to exactly are written as plain
    fractions (which every percentage attribute accepts); compare them as fractions."""
    if isinstance(value, Percent):
        return value.fraction
    if isinstance(value, list):
        return [_fractions(v) for v in value]
    return value


@given(values)
def test_format_then_parse_is_identity(value) -> None:
    back = parse_value(format_value(value))
    assert _fractions(back) == _fractions(value)
    assert type(back) is type(value) or isinstance(value, (Percent, list))


def test_common_percentages_stay_percentages() -> None:
    for text in ("90%", "10%", "33.3%", "0.1%", "100%", "0%"):
        assert format_value(parse_value(text)) == text


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e19, -(2**63), 10**400])
def test_numbers_past_the_limit_have_no_spelling(value) -> None:
    with pytest.raises(ValueError):
        format_value(value)
