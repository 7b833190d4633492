"""Compiling through a StatementCache gives exactly what compiling the whole text
gives (diagnostics, spans, the EARG), over the case files edited key by key at random
places; an edit re-parses only the statements it touched."""

from __future__ import annotations

import random
from pathlib import Path

import hogar_nb
from hogar_nb.core.diagnostics import MAX_DIAGNOSTICS
from hogar_nb.core.udgl import compile_udgl
from hogar_nb.core.udgl.statement_cache import StatementCache

CASES = Path(__file__).resolve().parent / "cases"

# what a person types, brackets and quotes left open included
KEYS = [*'{}[]()"#,=-> ab1$\n', "\n\n", "python x {", "}", '"', "ms", " -> ", "5 seconds", '"a\\q"']


def outcome(text: str, cache: StatementCache | None = None):
    graph, diags = compile_udgl(text, statements=cache)
    shown = [(d.code, d.severity, d.message, d.line, d.column, d.end_line, d.end_column, d.hint, d.node)
             for d in diags]
    if graph is None:
        return shown, None
    spans = (sorted((name, n.span, n.kind_span, sorted(n.attr_spans.items())) for name, n in graph.nodes.items()),
             [(e.key, e.span, e.src_span) for e in graph.edges])
    earg = hogar_nb.dump_earg(graph) if not any(d.is_error for d in diags) else None
    return shown, (spans, earg, sorted(graph.incomplete))


def test_edited_case_files_compile_alike_through_the_cache() -> None:
    rng = random.Random("statement-cache")
    cache = StatementCache()
    files = sorted(CASES.rglob("*.udgl"))
    assert len(files) > 20
    compared = 0
    for i, path in enumerate(files):
        text = path.read_text(encoding="utf-8", errors="replace")
        if i % 3 == 0:
            text = text.replace("\n", "\r\n")  # Windows line ends: a piece keeps its "\r"
        for step in range(12):
            if step:
                at = rng.randrange(len(text) + 1)
                if rng.random() < 0.3:
                    text = text[:at] + text[at + rng.randint(1, 6):]
                else:
                    text = text[:at] + rng.choice(KEYS) + text[at:]
            assert outcome(text, cache) == outcome(text), f"{path.name}, edit {step}:\n{text}"
            compared += 1
    assert compared == 12 * len(files)


def test_an_edit_parses_only_the_statement_it_touched(design_example: str) -> None:
    cache = StatementCache()
    compile_udgl(design_example, statements=cache)
    lines = design_example.split("\n")
    statements = sum(1 for line in lines if line.strip() and not line.lstrip().startswith("#"))
    assert cache.parsed >= statements // 2  # every piece was parsed once
    before = cache.parsed
    target = next(i for i, line in enumerate(lines) if "replicas" in line)
    edited = "\n".join([*lines[:target], lines[target].replace("replicas", "replica"), *lines[target + 1:]])
    graph, diags = compile_udgl(edited, statements=cache)
    assert cache.parsed == before + 1
    assert [(d.code, d.line) for d in diags if d.is_error] == [("E012", target + 1)]
    compile_udgl(design_example, statements=cache)
    assert cache.parsed == before + 1  # the original line is still known
    # a line inserted above moves every statement below it: they are read again, at their new lines
    moved = "# a comment\n" + design_example
    assert outcome(moved, cache) == outcome(moved)


def test_a_small_cache_forgets_the_pieces_used_longest_ago(design_example: str) -> None:
    cache = StatementCache(most=5)
    for text in (design_example, design_example.replace("replicas", "replica"), design_example):
        assert outcome(text, cache) == outcome(text)
        assert len(cache._pieces) == 5


def test_texts_near_the_limits_are_read_whole_alike() -> None:
    """Past the problem cap the parser stops reading: the cache reads such a text as
    one, and the report is the same."""
    cache = StatementCache()
    many = "\n".join(f"python n{i} {{ impl = }}" for i in range(MAX_DIAGNOSTICS + 20)) + "\n"
    assert outcome(many, cache) == outcome(many)
    assert any(d[0] == "E006" for d in outcome(many, cache)[0])
    deep = "python n { impl = " + "[" * 40 + "1" + "]" * 40 + " }\n"
    assert outcome(deep, cache) == outcome(deep)
    bad = "\n".join("python n%d { impl = \"m:f\" } \u00a7\u00a7" % i for i in range(40)) + "\n"
    assert outcome(bad, cache) == outcome(bad)
