"""Every case file: valid ones compile cleanly; invalid ones give exactly the
diagnostics written at their end (code, line, column, message, hint)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hogar_nb import UDGLError, parse_udgl
from hogar_nb.core.udgl import compile_udgl

CASES = Path(__file__).parent / "cases"
VALID = sorted((CASES / "valid").glob("*.udgl"))
INVALID = sorted((CASES / "invalid").glob("*.udgl"))
_EXPECT = re.compile(r"# (expect|expect-warning) (\w+) (None|\d+):(None|\d+) (.*)")


def _expectations(text: str) -> list[dict]:
    out: list[dict] = []
    for line in text.splitlines():
        m = _EXPECT.fullmatch(line.strip())
        if m:
            kind, code, ln, col, msg = m.groups()
            out.append({
                "severity": "error" if kind == "expect" else "warning",
                "code": code,
                "line": None if ln == "None" else int(ln),
                "column": None if col == "None" else int(col),
                "message": msg,
                "hint": None,
            })
        elif line.startswith("#   hint: "):
            out[-1]["hint"] = line[len("#   hint: "):]
    return out


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_case_compiles_without_errors(path: Path) -> None:
    text = path.read_text()
    graph, diags = compile_udgl(text)
    assert graph is not None
    assert [d.format(text) for d in diags if d.is_error] == []
    assert parse_udgl(text).nodes.keys() == graph.nodes.keys()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_case_reports_expected_diagnostics(path: Path) -> None:
    text = path.read_text()
    expected = _expectations(text)
    assert expected, f"{path.name} lists no expectations"
    _, diags = compile_udgl(text)
    got = [
        {"severity": d.severity, "code": d.code, "line": d.line, "column": d.column,
         "message": d.message, "hint": d.hint}
        for d in diags
    ]
    assert got == expected
    with pytest.raises(UDGLError) as info:
        parse_udgl(text)
    assert [d.code for d in info.value.errors] == [e["code"] for e in expected if e["severity"] == "error"]


def test_error_report_shows_caret_under_the_problem() -> None:
    text = 'source in\npython f { impl = "m:f", replicas = 0 }\nsink out\nin -> f -> out\n'
    with pytest.raises(UDGLError) as info:
        parse_udgl(text)
    report = str(info.value)
    assert report.splitlines()[:3] == [
        "<udgl>:2:26: error[E022]: got 0 for `replicas` of python node `f`; expected an integer >= 1 and <= 10000",
        '   2 | python f { impl = "m:f", replicas = 0 }',
        "     |                          ^^^^^^^^^^^^",
    ]
    assert report.splitlines()[-1] == "1 error"


def test_all_problems_of_a_text_are_reported_in_one_pass() -> None:
    text = (
        "source in\n"
        "pyhton a { impl = \"m:a\" }\n"        # unknown kind
        "python b { impl = \"m:b\", retries = x y }\n"  # syntax
        "python c { impl = \"m:c\", replicas = 0 }\n"   # range
        "sink out\n"
        "in -> c -> out\n"
    )
    _, diags = compile_udgl(text)
    assert [(d.code, d.line) for d in diags] == [("E010", 2), ("E001", 3), ("E022", 4)]
