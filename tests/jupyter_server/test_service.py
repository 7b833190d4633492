"""The pure functions behind the endpoints: completion contexts, and that no text,
however broken, makes lint, completion or format raise."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hogar_nb.core import kinds
from hogar_nb.jupyter.server.completion import KEYWORDS, complete, complete_source, starting_with
from hogar_nb.jupyter.server.service import editor_source, format_text, lint

DESIGN_WORDS = ["source", "python", "->", "{", "}", "[", "]", "=", ",", "\n", "replicas", "$p",
                "250ms", '"m:f"', "template", "t", "=", "model", "#", "%%udgl", "(", ")", " "]


def _labels(text: str, line: int | None = None, column: int | None = None) -> list[str]:
    lines = text.split("\n")
    line = line or len(lines)
    column = column or len(lines[line - 1]) + 1
    return [i["label"] for i in complete(text, line, column)["items"]]


def test_statement_start_offers_keywords_kinds_templates_and_nodes() -> None:
    text = "template gpu = model { gpu = 1 }\nsource ingest\n"
    labels = _labels(text)
    assert labels == [*KEYWORDS, *kinds.KINDS, "gpu", "ingest"]


def test_a_template_node_gets_the_templates_kind_attributes() -> None:
    text = "template gpu = model { gpu = 1 }\ngpu nn { "
    assert set(_labels(text)) == set(kinds.attrs_for_kind("model"))


@pytest.mark.parametrize(("text", "expected"), [
    ("defaults { ", set(kinds.COMMON_ATTRS)),
    ("cluster {\n  workers = 2,\n  ", set(kinds.CLUSTER_ATTRS) - {"workers"}),
    ("a -> b { ", set(kinds.EDGE_ATTRS)),
    ("template t = ensemble { ", set(kinds.attrs_for_kind("ensemble"))),
])
def test_blocks_offer_their_own_attributes(text, expected) -> None:
    assert set(_labels(text)) == expected


def test_values_and_params() -> None:
    assert _labels("param p = 1\nensemble e { combine = ") == [*kinds.COMBINE_MODES, "$p"]
    assert _labels("python f { isolation = ") == [*kinds.ISOLATION_MODES]
    assert _labels("sink s { response = ") == ["true", "false"]
    reply = complete("param budget = 1s\npython f { timeout = $bu", 2, 25)
    assert reply["prefix"] == "$bu" and [i["label"] for i in reply["items"]] == ["$budget"]


def test_nothing_is_offered_where_a_new_name_goes() -> None:
    assert _labels("python ") == []
    assert _labels('python f { impl = "m') == []


def test_a_cells_magic_line_gets_nothing_and_its_body_counts_lines_from_it() -> None:
    text = "%%udgl g\nsource ingest\nmo"
    assert complete_source(text, 1, 9, cell=True) == {"prefix": "", "items": []}
    reply = complete_source(text, 3, 3, cell=True)
    assert reply["prefix"] == "mo" and [i["label"] for i in starting_with(reply)] == ["model"]
    # a .udgl file's first line is UDGL
    assert "model" in [i["label"] for i in complete_source("mo", 1, 3)["items"]]


def test_a_position_past_the_text_is_clamped() -> None:
    assert complete("source a\n", 99, 99)["items"]


@settings(max_examples=150, deadline=None)
@given(words=st.lists(st.sampled_from(DESIGN_WORDS), max_size=40), junk=st.text(max_size=40),
       line=st.integers(-3, 12), column=st.integers(-3, 80), cell=st.booleans())
def test_no_text_makes_the_editor_functions_raise(words, junk, line, column, cell) -> None:
    text = " ".join(words) + junk
    for result in (lint(text, cell=cell), format_text(text, cell=cell),
                   complete(editor_source(text, cell), line, column),
                   complete_source(text, line, column, cell)):
        json.dumps(result)


def test_lint_gives_each_nodes_known_types_for_hovers() -> None:
    text = ("source ingest { input = float32[n, 4] }\npython f { impl = \"m:f\", output = int64[n] }\n"
            "python g { impl = \"m:g\" }\nsink out\ningest -> f -> g -> out\n")
    reply = lint(text)
    assert reply["errors"] == 0
    assert reply["types"] == {
        "ingest": {"input": "float32[n, 4]", "output": "float32[n, 4]", "origin": "declared"},
        "f": {"input": "float32[n, 4]", "output": "int64[n]", "origin": "declared"},
        "g": {"input": "int64[n]"},
    }
    assert lint("source a {")["types"] == {}


def test_completion_offers_use_and_the_subgraph_kinds_it_declares() -> None:
    assert "use" in KEYWORDS
    text = 'use prep = "blocks/prep.udgl"\nsource ingest\n'
    labels = _labels(text)
    assert "prep" in labels and "ingest" in labels
    (item,) = [i for i in complete(text, 3, 1)["items"] if i["label"] == "prep"]
    assert item["detail"] == "subgraph from blocks/prep.udgl"
