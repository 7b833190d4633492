"""Formatting never changes what a text means, keeps everything written, and is a
fixed point: properties over generated texts with params, references, templates,
comments and free layout."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hogar_nb.core.diagnostics import Diagnostic
from hogar_nb.core.udgl import compile_udgl
from hogar_nb.core.udgl.lexer import Comment, tokenize
from hogar_nb.core.udgl.source_format import format_source

EXPLORING = os.environ.get("HOGAR_HYPOTHESIS_PROFILE") == "explore"  # make fuzz
PROPS = settings(max_examples=1_000 if EXPLORING else 60, deadline=None, suppress_health_check=list(HealthCheck))

SPACE = st.sampled_from(["", " ", "  ", "\t"])
DURATIONS = st.sampled_from(["250ms", "1s", "1.5s", "20ms", "2m"])
SHARES = st.sampled_from(["10%", "25%", "50%", "0.5", "75%", "90%"])


@st.composite
def texts(draw) -> tuple[str, dict]:
    """A graph text laid out carelessly, and the param overrides to try on it."""
    comment_id = iter(range(1000))

    def sp() -> str:
        return draw(SPACE)

    def comment() -> str:
        return f"{sp()}# note {next(comment_id)}" if draw(st.booleans()) else ""

    def attrs(pairs: list[tuple[str, str]]) -> str:
        if not pairs:
            return ""
        multiline = draw(st.booleans())
        parts = []
        for k, v in pairs:
            sep = draw(st.sampled_from([",", ", ", " ", ",\n" if multiline else ","]))
            tail = comment() if multiline else ""
            parts.append(f"{k}{sp()}={sp()}{v}{sep}{tail}" + ("\n" if multiline and tail else ""))
        return "{" + sp() + ("\n" if multiline else "") + "".join(parts) + sp() + "}"

    lines: list[str] = []
    overrides: dict = {}
    n_params = draw(st.integers(0, 3))
    params = {f"p{i}": draw(st.sampled_from(["int", "dur", "share"])) for i in range(n_params)}
    for name, kind in params.items():
        value = {"int": draw(st.sampled_from(["1", "2", "3"])), "dur": draw(DURATIONS), "share": draw(SHARES)}[kind]
        lines.append(f"param {name}{sp()}={sp()}{value}{comment()}")
        if draw(st.booleans()):
            overrides[name] = {"int": draw(st.integers(1, 4)), "dur": None, "share": None}[kind]
    if draw(st.booleans()):
        lines.append("")
    ints = [p for p, k in params.items() if k == "int"]
    durs = [p for p, k in params.items() if k == "dur"]
    shares = [p for p, k in params.items() if k == "share"]

    def replicas() -> str:
        return f"${draw(st.sampled_from(ints))}" if ints and draw(st.booleans()) else str(draw(st.integers(1, 3)))

    def timeout() -> str:
        return f"${draw(st.sampled_from(durs))}" if durs and draw(st.booleans()) else draw(DURATIONS)

    use_template = draw(st.booleans())
    if use_template:
        lines.append(f"template{sp()} fast = python {attrs([('replicas', replicas())])}{comment()}")
    route = attrs([("route", '"/x"')]) if draw(st.booleans()) else ""
    lines.append(f"source in {route}{comment()}")
    n = draw(st.integers(1, 3))
    for i in range(n):
        kind = "fast" if use_template and draw(st.booleans()) else "python"
        pairs = [("impl", f'"m:f{i}"')]
        if draw(st.booleans()):
            pairs.append(("replicas", replicas()))
        if draw(st.booleans()):
            pairs.append(("timeout", timeout()))
        if draw(st.booleans()):
            pairs.append(("description", '"a, b # not a comment"'))
        lines.append(f"{kind}{sp()} f{i}{sp()} {attrs(pairs)}{comment()}")
        if draw(st.booleans()):
            lines.append(comment().strip() or "")
    lines.append("split s")
    lines.append(f'python alt {attrs([("impl", chr(34) + "m:alt" + chr(34))])}')
    lines.append(f"sink out{comment()}")
    lines.append(f"in{sp()}->{sp()}" + "->".join(f"{sp()}f{i}{sp()}" for i in range(n)) + f"->{sp()}s{comment()}")
    share = f"${draw(st.sampled_from(shares))}" if shares and draw(st.booleans()) else "50%"
    lines.append(f"s -> out {attrs([('weight', share)])}{comment()}")
    lines.append(f"s -> alt {attrs([('weight', '50%')])}")
    lines.append("alt -> out")
    lines.append(f"{draw(st.sampled_from(['', '# trailing words']))}")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"])), overrides


def _earg_or_codes(text: str, params: dict):
    graph, diags = compile_udgl(text, params=params)
    if graph is None or any(d.is_error for d in diags):
        return sorted(d.code for d in diags)
    return graph.to_earg()


def _tokens_and_comments(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    diags: list[Diagnostic] = []
    comments: list[Comment] = []
    toks = [(t.type, str(t)) for t in tokenize(text, diags, comments) if t.type not in ("NL", "COMMA")]
    assert not diags
    return toks, [c.text for c in comments]


@PROPS
@given(texts())
def test_formatting_keeps_meaning_for_any_override(case) -> None:
    text, overrides = case
    formatted = format_source(text)
    for params in ({}, overrides, {k: v for k, v in overrides.items() if v is not None}):
        params = {k: v for k, v in params.items() if v is not None}
        assert _earg_or_codes(formatted, params) == _earg_or_codes(text, params)


@PROPS
@given(texts())
def test_formatting_is_idempotent_and_loses_nothing(case) -> None:
    text, _ = case
    once = format_source(text)
    assert format_source(once) == once
    assert _tokens_and_comments(once) == _tokens_and_comments(text)  # every token and comment, in order


def test_a_parameter_reference_survives_formatting_and_overrides_still_apply() -> None:
    text = ("param canary_share = 5%\nsource in\nsplit canary\npython v1 { impl = \"m:1\" }\n"
            "python v2 { impl = \"m:2\" }\nsink out\nin -> canary\ncanary -> v1 { weight = 95% }\n"
            "canary -> v2 { weight = $canary_share }\n[v1, v2] -> out\n")
    from hogar_nb import parse_udgl

    graph = parse_udgl(text)
    for written in (graph.to_udgl(), format_source(text)):
        assert "weight = $canary_share" in written
        _, diags = compile_udgl(written, params={"canary_share": 0.1})
        assert [d.message for d in diags if d.is_error] == [
            "the weights out of split `canary` sum to 105%, not 100%"]
    edited = graph.copy()
    edited.set_position("v1", 1, 2)  # an edit: the text is written from the model
    assert "weight = $canary_share" in edited.to_udgl()
