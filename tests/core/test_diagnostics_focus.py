"""One mistake, one error: the diagnostic that names the real mistake, at its place,
and none of the errors that only follow from it."""

from __future__ import annotations

from hogar_nb.core.udgl import compile_udgl

ENSEMBLE = """\
source in
python a {{ impl = "m:a" }}
python b {{ impl = "m:b" }}
ensemble blend {{ combine = {combine} }}
sink out
in -> [a, b] -> blend -> out
"""


def codes(text: str, **kw) -> list[tuple]:
    _, diags = compile_udgl(text, **kw)
    return [(d.code, d.line, d.column, d.message, d.hint) for d in diags if d.is_error]


def test_an_unknown_combine_lists_the_allowed_values_in_a_notebook() -> None:
    (got,) = codes(ENSEMBLE.format(combine="average"), namespace={"x": 1})
    assert got[:3] == ("E024", 4, 18)
    assert got[3] == ("got `average` for `combine` of ensemble `blend`; expected one of `mean`, `vote`, "
                      "`concat`, `first`, or a function defined in the notebook")
    assert got[4] == 'or define `average` in a cell above, or write "module:function"'
    assert codes(ENSEMBLE.format(combine="average"), namespace={"average": lambda xs: xs[0]}) == []
    assert codes(ENSEMBLE.format(combine="vote"), namespace={}) == []


def test_a_typo_in_a_long_chain_is_one_error_wherever_it_is() -> None:
    names = ["ingest", "features", "candidates", "ranker", "rerank", "out"]
    head = "source ingest\n" + "".join(f'python {n} {{ impl = "m:{n}" }}\n' for n in names[1:-1]) + "sink out\n"
    for i in range(len(names)):
        chain = list(names)
        chain[i] += "x"
        got = codes(head + " -> ".join(chain) + "\n")
        assert [g[0] for g in got] == ["E011"], (i, got)
        assert got[0][4] == f"did you mean `{names[i]}`?"


def test_a_syntax_error_leaves_the_structure_checked() -> None:
    text = ("source in\nsplit s\npython a { impl = \"m:a\" }\npython b { impl = \"m:b\" \nsink out\n"
            "in -> s\ns -> a { weight = 60% }\ns -> b { weight = 30% }\n[a, b] -> out\n")
    got = codes(text)
    assert [g[0] for g in got] == ["E034", "E003"]  # the 90% split (line 2), the unclosed block
