"""Hostile and broken files never crash the tools: each class of input that once did
has a generator here, and a regression corpus (cases/hostile/, the expected code is
the start of each file name) replayed through the API and the command line.

``make test`` replays a few fixed examples per generator; ``make fuzz`` runs them
with many fresh ones (the ``explore`` profile).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hogar_nb import EARGError, UDGLError, parse_udgl
from hogar_nb.cli import main
from hogar_nb.core.diagnostics import MAX_DIAGNOSTICS, MAX_MESSAGE, SNIPPET_WIDTH
from hogar_nb.core.earg import dump_earg, loads_earg
from hogar_nb.core.udgl import compile_udgl

HOSTILE = sorted((Path(__file__).parent / "cases" / "hostile").iterdir())
EXPLORING = os.environ.get("HOGAR_HYPOTHESIS_PROFILE") == "explore"
FUZZ = settings(max_examples=2_000 if EXPLORING else 25, deadline=None,
                suppress_health_check=list(HealthCheck))
# the most a report can hold: capped diagnostics, each with a cut message, hint and snippet
REPORT_LIMIT = (MAX_DIAGNOSTICS + 2) * (3 * MAX_MESSAGE + 2 * SNIPPET_WIDTH + 200)

NODE = 'source in\npython f {{ impl = "m:f"{extra} }}\nsink out\nin -> f -> out\n'


def _bounded(report: str) -> None:
    assert "Traceback" not in report
    assert len(report) <= REPORT_LIMIT


def _udgl_ok_or_diagnostics(text: str | bytes) -> None:
    """parse_udgl raises nothing but UDGLError; a clean graph compiles to EARG that loads back."""
    try:
        graph = parse_udgl(text)
    except UDGLError as err:
        assert err.errors and len(err.diagnostics) <= MAX_DIAGNOSTICS + 2
        _bounded(str(err))
        return
    earg = dump_earg(graph)
    assert dump_earg(loads_earg(earg)) == earg  # `hogar compile` never writes what `check` rejects
    assert parse_udgl(graph.to_udgl()).to_earg() == graph.to_earg()


def _earg_ok_or_diagnostics(text: str | bytes) -> None:
    try:
        graph = loads_earg(text)
    except EARGError as err:
        assert err.diagnostics
        _bounded(str(err))
    else:
        dump_earg(graph)


# -------------------------------------------------------------- generators
digits = st.integers(19, 5_000).map(lambda n: "9" * n)
hostile_numbers = st.one_of(
    digits,
    digits.map(lambda d: d + "s"),
    digits.map(lambda d: d + "%"),
    digits.map(lambda d: "-" + d + "KiB"),
    st.sampled_from(["1e400KiB", "1e400ms", "5e-324ms", "1e308", "-1e308", "9e337", "1e-400", "1e18TiB",
                     "9223372036854775807", "9223372036854775808", "0.0000001us", "1e-9", "4.5e15h"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
NUMBER_PLACES = [  # {value}, {attr} and {cluster} are filled in by the test
    NODE.format(extra=", {attr} = {value}"),
    "param p = {value}\n" + NODE.format(extra=", replicas = $p"),
    NODE.format(extra="") + "cluster { {cluster} = {value} }\n",
    NODE.format(extra=", recovery = restart(max = {value}, backoff = {value})"),
    NODE.format(extra=", recovery = failover(max = {value})"),
    'source in\nsplit s\npython a { impl = "m:a" }\npython b { impl = "m:b" }\nsink out\n'
    "in -> s\ns -> a { weight = {value} }\ns -> b { weight = 50% }\n[a, b] -> out\n",
    'source in\npython a { impl = "m:a" }\npython b { impl = "m:b" }\nensemble e { weights = [{value}, 1] }\n'
    "sink out\nin -> [a, b] -> e -> out\n",
]
ATTRS = ["timeout", "memory", "latency", "replicas", "cpu", "gpu", "batch", "batch_wait", "retries"]


@FUZZ
@given(st.sampled_from(NUMBER_PLACES), hostile_numbers, st.sampled_from(ATTRS),
       st.sampled_from(["cpu", "gpu", "memory", "workers"]))
def test_numbers_past_what_floats_and_ints_hold(template: str, value: str, attr: str, cluster: str) -> None:
    text = template.replace("{value}", value).replace("{attr}", attr).replace("{cluster}", cluster)
    _udgl_ok_or_diagnostics(text)


odd_values = st.one_of(
    st.sampled_from(["restart(max = 1x)", "failover(max = 9e337)", "restart(max = $p)", "$p", "[$p, 1]",
                     "restart(backoff = 1e400s)", "restart(max = -1)", "none(x = 1)", '"\\uZZZZ"']),
    st.integers(0, 3).map(lambda n: "restart(" * n + "max = 1" + ")" * n),
)


@FUZZ
@given(odd_values, st.sampled_from(["recovery", "description", "replicas", "impl", "timeout"]))
def test_values_with_no_udgl_spelling(value: str, attr: str) -> None:
    text = f"param p = $q\nparam q = 1\n" + NODE.format(extra=f", {attr} = {value}")
    _udgl_ok_or_diagnostics(text)


bad_arguments = st.sampled_from(["1x", "9e337", "1e400s", "-1", '"\\uZZZZ"', "5 seconds", "[1, 2x]",
                                 "restart(max = 1x)", "$p", "1e-400", "99999999999999999999%"])
call_names = st.sampled_from(["restart", "failover", "none", "mean", "vote", "concat", "first", "auto", "f"])
CALL_PLACES = [  # {call} is a call whose argument has a bad value, as a param's value or an attribute's
    "param p = 1\nparam c = {call}\n" + NODE.format(extra=""),
    "param p = 1\nparam c = {call}\n" + NODE.format(extra=", recovery = $c"),
    "param p = 1\n" + NODE.format(extra=", recovery = {call}"),
    "param p = 1\n" + NODE.format(extra=", description = {call}"),
    'param p = 1\nsource in\npython a { impl = "m:a" }\npython b { impl = "m:b" }\nensemble e { combine = {call} }\n'
    "sink out\nin -> [a, b] -> e -> out\n",
]


@FUZZ
@given(st.sampled_from(CALL_PLACES), call_names, st.sampled_from(["max", "backoff", "within", "x"]), bad_arguments)
def test_calls_with_a_bad_argument_as_params_and_attributes(tmp_path_factory, template: str, name: str, arg: str,
                                                           value: str) -> None:
    text = template.replace("{call}", f"{name}({arg} = {value})")
    _udgl_ok_or_diagnostics(text)
    path = tmp_path_factory.mktemp("calls") / "g.udgl"
    path.write_text(text)
    for command in ("check", "fmt", "compile"):  # the command line ends the same way, with no traceback
        with _captured() as cap:
            code = main([command, str(path)])
        assert code in (0, 1)
        _bounded(cap.err)


EARG_BASE = dump_earg(parse_udgl(
    'graph t\nsource in\npython f { impl = "m:f", latency = 2ms }\nsink out\nin -> f -> out\n'
    "cluster { workers = 2, cpu = 4 }\n"))
EARG_SLOTS = ["latency_ms: 2.0", "replicas: 1", "cpu: 4", "f/0: worker-0", "workers: 2", "timeout_ms: 30000.0"]
odd_scalars = st.one_of(
    st.sampled_from(["!!timestamp 2001-12-14", "2001-12-14", "!!bool 'maybe'", "!!binary aGk=", "!!set {a}",
                     "!!omap [a: 1]", "!!float x", "!!int x", "!python/tuple [1]", ".inf", "-.inf", ".nan",
                     "5.0e-324", "1e400", "~", "[]", "{}", "'2.0'", "!!str 2", "&a 1", "*a", "!!null ''",
                     "0o777777777777777777777777777", "0b" + "1" * 200, "1_000_000", "!!merge <<"]),
    st.integers(20, 5_000).map(lambda n: "0x" + "f" * n),
    st.integers(20, 5_000).map(lambda n: "9" * n),
    st.integers(20, 5_000).map(lambda n: "9" * n + ".5e3"),
)


@FUZZ
@given(st.sampled_from(EARG_SLOTS), odd_scalars)
def test_yaml_tags_and_odd_scalars_in_earg(slot: str, scalar: str) -> None:
    key, _, value = slot.partition(": ")
    if slot.startswith("f/0"):
        variants = [EARG_BASE.replace(slot, f"f/{scalar}: worker-0"), EARG_BASE.replace(slot, f"f/0: worker-{scalar}")]
    else:
        variants = [EARG_BASE.replace(slot, f"{key}: {scalar}")]
    for text in variants:
        _earg_ok_or_diagnostics(text)


@FUZZ
@given(st.binary(max_size=200))
def test_bytes_are_read_the_same_by_the_api_and_the_command_line(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "g.udgl"
    path.write_bytes(data)
    _, diags = compile_udgl(data)
    api_e004 = any(d.code == "E004" for d in diags)
    with _captured() as cap:
        code = main(["check", str(path)])
    assert code in (0, 1)
    assert api_e004 == ("error[E004]" in cap.err)
    try:
        data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        assert api_e004
    else:
        assert not api_e004


# ------------------------------------------------------------ the corpus
@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.name)
def test_hostile_corpus(path: Path, capsys) -> None:
    expected = path.name.split("-", 1)[0]
    data = path.read_bytes()
    if path.suffix == ".udgl":
        _, diags = compile_udgl(data)
        _udgl_ok_or_diagnostics(data)
    else:
        with pytest.raises(EARGError) as info:
            loads_earg(data)
        diags = info.value.diagnostics
        _earg_ok_or_diagnostics(data)
    assert expected in {d.code for d in diags}
    commands = ["check", "compile", "fmt"] if path.suffix == ".udgl" else ["check", "compile"]
    for argv in ([command, str(path)] for command in commands):
        assert main(argv) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        _bounded(captured.err)
        assert f"error[{expected}]" in captured.err


@pytest.mark.parametrize("text", [
    "@" * 200_000,
    "[" * 200_000,
    "python x { a = " + "9" * 200_000 + " }\n",
    "source " + "n" * 200_000 + "\n",
    'python x { impl = "' + "x" * 200_000 + '" }\n',
    "a b\n" * 20_000,
    "python n { impl = 1 } " * 10_000,
    "source s\n" + "".join(f"python n{i} {{ impl = bad }}\nn{i} -> zz{i}\n" for i in range(2_000)),
], ids=["bad-chars", "brackets", "long-number", "long-name", "long-string", "many-statements",
        "one-long-line", "many-errors"])
def test_large_broken_inputs_give_a_bounded_report(text: str) -> None:
    with pytest.raises(UDGLError) as info:
        parse_udgl(text)
    assert len(info.value.diagnostics) <= MAX_DIAGNOSTICS + 2
    _bounded(str(info.value))


def test_many_broken_earg_nodes_give_a_bounded_report() -> None:
    text = "earg: 1\nname: t\nparams: {}\nresponse: out\nnodes:\n" + "- {}\n" * 9_000 + "edges: []\nstages: []\n"
    with pytest.raises(EARGError) as info:
        loads_earg(text)
    assert len(info.value.diagnostics) <= MAX_DIAGNOSTICS + 1
    _bounded(str(info.value))


class _captured:
    """stdout and stderr of an in-process `hogar` call."""

    def __enter__(self):
        import contextlib
        import io

        self.out, self.err = "", ""
        self._out, self._err = io.StringIO(), io.StringIO()
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(self._out))
        self._stack.enter_context(contextlib.redirect_stderr(self._err))
        return self

    def __exit__(self, *exc):
        self._stack.close()
        self.out, self.err = self._out.getvalue(), self._err.getvalue()
        return False
