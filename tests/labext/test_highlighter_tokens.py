"""The highlighter's tokens agree with the core: same tokens as the core's lexer, and
words classified as the core's parser reads them (kinds, names, attributes, nodes).

The extension's tokenizer runs under Node with CodeMirror's StringStream, as the
editor runs it; the texts are every UDGL example of the docs, also as `%%udgl` cells.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hogar_nb.core.udgl import parse_udgl
from hogar_nb.core.udgl.grammar import _lark

ROOT = Path(__file__).resolve().parents[2]
LABEXT = ROOT / "labextension"
EXAMPLES = [*re.findall(r"```udgl\n(.*?)```", (ROOT / "docs" / "udgl.md").read_text(), re.S),
            (ROOT / "tests" / "core" / "cases" / "valid" / "design_example.udgl").read_text()]

LEXICAL = {
    "STRING": {"string"}, "PARAM": {"param"}, "ARROW": {"arrow"}, "EQUAL": {"equals"},
    "COMMA": {"separator"}, "COMMENT": {"comment"},
    "LBRACE": {"brace"}, "RBRACE": {"brace"}, "LSQB": {"squareBracket"}, "RSQB": {"squareBracket"},
    "LPAR": {"paren"}, "RPAR": {"paren"},
    "NAME": {"keyword", "kind", "template", "definition", "node", "attribute", "function", "bool", "atom"},
}


def _node_tokens(texts: list[str]) -> list[dict[tuple[int, int], tuple[int, str]]]:
    node = shutil.which("node")
    assert node, "Node.js is missing: `make install` installs it"
    assert (LABEXT / "lib" / "tokens.js").exists(), "the extension is not built: run `make install`"
    out = subprocess.run([node, str(Path(__file__).with_name("udgl_tokens.mjs")), str(LABEXT)],
                         input=json.dumps(texts), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [{(line, start + 1): (end + 1, name) for line, start, end, name in tokens}
            for tokens in json.loads(out.stdout)]


def _core_tokens(text: str) -> dict[tuple[int, int], tuple[int, str]]:
    """(line, column) -> (end column, terminal) of every token the core's lexer reads."""
    return {(t.line, t.column): (t.end_column, t.type)
            for t in _lark().lex(text, dont_ignore=True) if t.type not in ("NL",) and t.strip()}


@pytest.fixture(scope="module")
def highlighted() -> dict[str, dict]:
    cells = ["%%udgl graph --out g.earg.yaml\n" + text for text in EXAMPLES]
    tokens = _node_tokens(EXAMPLES + cells)
    return {"files": tokens[: len(EXAMPLES)], "cells": tokens[len(EXAMPLES):]}


@pytest.mark.parametrize("i", range(len(EXAMPLES)))
def test_tokens_are_the_core_lexers(highlighted, i) -> None:
    ours = highlighted["files"][i]
    core = _core_tokens(EXAMPLES[i])
    assert sorted(ours) == sorted(core)
    for where, (end, terminal) in core.items():
        our_end, name = ours[where]
        assert our_end == end, (where, terminal)
        if terminal == "NUMBER":
            unit = re.search(r"[A-Za-z%]$", EXAMPLES[i].split("\n")[where[0] - 1][where[1] - 1:end - 1])
            assert name == ("quantity" if unit else "number"), where
        else:
            assert name in LEXICAL[terminal], (where, terminal, name)


@pytest.fixture(scope="module")
def example_files(tmp_path_factory) -> Path:
    """The docs' file blocks (``# file: blocks/prep.udgl``) written out, for the
    examples that include them."""
    folder = tmp_path_factory.mktemp("docs-files")
    for text in EXAMPLES:
        first = text.split("\n", 1)[0]
        if first.startswith("# file: "):
            target = folder / first.removeprefix("# file: ").strip()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    return folder


@pytest.mark.parametrize("i", range(len(EXAMPLES)))
def test_words_are_classified_as_the_parser_reads_them(highlighted, example_files, i) -> None:
    ours = highlighted["files"][i]
    graph = parse_udgl(EXAMPLES[i], base_dir=example_files)

    def at(span):
        return ours[(span.line, span.column)][1]

    expected: dict[tuple[int, int], str] = {}
    for node in graph.nodes.values():
        expected[(node.kind_span.line, node.kind_span.column)] = "template" if node.template else "kind"
        expected[(node.span.line, node.span.column)] = "definition"
        for span in node.attr_spans.values():
            expected[(span.line, span.column)] = "attribute"
    for tpl in graph.templates.values():
        expected[(tpl.span.line, tpl.span.column)] = "definition"
        expected[(tpl.kind_span.line, tpl.kind_span.column)] = "kind"
    for edge in graph.edges:
        expected[(edge.span.line, edge.span.column)] = "node"
        expected[(edge.src_span.line, edge.src_span.column)] = "node"
    assert expected
    assert {where: ours[where][1] for where in expected} == expected
    assert "invalid" not in {name for _, name in ours.values()}


def test_a_cells_magic_line_is_meta_and_its_body_reads_as_the_file(highlighted) -> None:
    for file_tokens, cell_tokens in zip(highlighted["files"], highlighted["cells"]):
        assert cell_tokens[(1, 1)][1] == "meta"
        shifted = {(line + 1, col): tok for (line, col), tok in file_tokens.items()}
        assert {k: v for k, v in cell_tokens.items() if k[0] > 1} == shifted
