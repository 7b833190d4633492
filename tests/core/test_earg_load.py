"""Loading EARG: every loader diagnostic (E100..E105) with its position and wording,
files and encodings, and fuzzing that only a Graph or an EARGError ever comes out."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hogar_nb import EARGError
from hogar_nb.core.earg import dump_earg, load_earg, loads_earg, validate_earg
from hogar_nb.core.graph import Graph


def base_graph() -> Graph:
    g = Graph("t")
    g.add_node("a", "source")
    g.add_node("xgb", "python", impl="m:f", replicas=2)
    g.add_node("m", "model", impl="m.onnx")
    g.add_node("e", "ensemble")
    g.add_node("out", "sink")
    g.connect("a", "xgb")
    g.connect("a", "m")
    g.connect("xgb", "e")
    g.connect("m", "e")
    g.connect("e", "out")
    return g


BASE = dump_earg(base_graph())
BASE_JSON = dump_earg(base_graph(), "json")
LINES = BASE.splitlines()


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def col_of(text: str, needle: str, part: str | None = None) -> int:
    ln = text.splitlines()[line_of(text, needle) - 1]
    return ln.index(part or needle) + 1


def errors_of(text) -> list[tuple]:
    with pytest.raises(EARGError) as info:
        loads_earg(text)
    err = info.value
    assert "Traceback" not in str(err)
    return [(d.code, d.line, d.column, d.message, d.hint) for d in err.diagnostics if d.is_error]


def test_base_document_loads() -> None:
    assert dump_earg(loads_earg(BASE)) == BASE
    assert dump_earg(loads_earg(BASE_JSON), "json") == BASE_JSON


def test_e100_yaml_syntax() -> None:
    text = BASE.replace("    replicas: 2\n", "    replicas: [2\n")
    (code, line, col, msg, hint), = errors_of(text)
    assert code == "E100" and msg.startswith("YAML syntax error: did not find expected ',' or ']'")
    assert (line, col) == (line_of(text, "replicas: [2") + 1, 14)
    assert hint == "check the indentation, colons and quotes around this position"


def test_e100_json_syntax() -> None:
    text = BASE_JSON.replace('"name": "t",', '"name": "t"')
    assert errors_of(text) == [("E100", 4, 3, "JSON syntax error: Expecting ',' delimiter",
                                "check the commas, quotes and brackets around this position")]


def test_e100_aliases_duplicate_keys_and_tags() -> None:
    assert errors_of("earg: 1\na: &x [1]\nb: *x\n") == [
        ("E100", 2, 4, "anchors and aliases are not allowed in EARG", "write the value out in full")]
    assert errors_of("earg: 1\nname: a\nname: b\n") == [
        ("E100", 3, 1, "duplicate key `name`", "each key may appear once in a mapping; remove one")]
    assert errors_of("earg: !!python/object:os.system ls\n")[0][0] == "E100"
    assert errors_of("earg: !!timestamp 2020-13-45\n")[0][:4] == (
        "E100", 1, 1, "cannot read a value: month must be in 1..12")
    assert errors_of("earg: 1\nname: !!bool maybe\n") == [
        ("E100", 2, 7, "tags are not allowed in EARG", "write plain values: EARG needs no `!!` tags, and numbers in range")]


def test_e101_unknown_key_with_suggestion() -> None:
    text = BASE.replace("    replicas: 2\n", "    replica: 2\n")
    assert errors_of(text) == [("E101", line_of(text, "replica: 2"), 5, "unknown key `replica` in node `xgb`",
                                "did you mean `replicas`?")]
    text = BASE.replace("stages:", "stagez:")
    assert errors_of(text) == [("E101", line_of(text, "stagez"), 1, "unknown key `stagez` at the top level",
                                "did you mean `stages`?")]
    text = BASE.replace("{cpu: 1, gpu: 0", "{cpu: 1, gpus: 0, gpu: 0", 1)
    assert errors_of(text) == [("E101", line_of(text, "gpus"), col_of(text, "gpus"),
                                "unknown key `gpus` in `resources` of node `xgb`", "did you mean `gpu`?")]


def test_e101_key_of_another_kind() -> None:
    text = BASE.replace("    replicas: 2\n", "    replicas: 2\n    route: /x\n")
    assert errors_of(text) == [("E101", line_of(text, "route: /x"), 5, "unknown key `route` in node `xgb`",
                                "only source nodes have `route`; remove it")]


def test_e102_wrong_type_and_range() -> None:
    text = BASE.replace("    replicas: 2\n", "    replicas: two\n")
    assert errors_of(text) == [(
        "E102", line_of(text, "replicas: two"), 15,
        'got "two" for `replicas` of node `xgb`; expected an integer >= 1 and <= 10000',
        "replicas: number of replica workers")]
    text = BASE.replace("    replicas: 2\n", "    replicas: '2'\n")
    assert errors_of(text)[0][4] == "write 2 without quotes"
    text = BASE.replace("    replicas: 2\n", "    replicas: 0\n")
    assert errors_of(text)[0][3] == "got 0 for `replicas` of node `xgb`; expected an integer >= 1 and <= 10000"
    text = BASE.replace("timeout_ms: 30000.0", "timeout_ms: 0", 1)
    assert errors_of(text)[0][3] == "got 0 for `timeout_ms` of node `a`; expected a number > 0 and <= 86400000"
    text = BASE.replace("{src: a, dst: m}", "{src: a, dst: m, when: 3}")
    assert errors_of(text) == [("E102", line_of(text, "when: 3"), col_of(text, "when: 3", "3"),
                                "got 3 for `when` of edge `a -> m`; expected a string", "when: value of the switch's impl "
                                'that selects this edge ("*" matches all)')]


def test_e102_enum_with_suggestion() -> None:
    text = BASE.replace("policy: restart", "policy: restrat", 1)
    assert errors_of(text) == [(
        "E102", line_of(text, "restrat"), col_of(text, "restrat"),
        'got "restrat" for `recovery.policy` of node `a`; expected one of `restart`, `failover`, `none`',
        "did you mean `restart`?")]


def test_e102_values_json_cannot_hold() -> None:
    text = BASE.replace("timeout_ms: 30000.0", "timeout_ms: .nan", 1)
    assert errors_of(text) == [("E102", line_of(text, ".nan"), col_of(text, ".nan"),
                                "got nan at `nodes[0].timeout_ms`; numbers must be finite", "write a finite number")]
    assert errors_of("earg: 1\n7: x\n") == [("E102", 2, 1, "got 7 as a key; keys must be strings", 'quote it: "7"')]
    assert errors_of("- 1\n")[0][:4] == ("E102", 1, 1, "got [1] for the document; expected a mapping")


def test_e102_recovery_arguments_need_restart() -> None:
    text = BASE.replace("policy: restart, max_restarts: 5", "policy: failover, max_restarts: 2", 1)
    (code, line, col, msg, _), = errors_of(text)
    assert (code, line, msg) == ("E102", line_of(text, "failover"),
                                 "`max_restarts` and `backoff_ms` of node `a` only apply to policy `restart`")


def test_e103_missing_key() -> None:
    text = BASE.replace("    impl: m:f\n", "")
    assert errors_of(text) == [("E103", line_of(text, "- name: xgb"), 5, "missing key `impl` in node `xgb`",
                                'add `impl` (what runs: "module:attr", a notebook name or a model artifact)')]
    assert errors_of("")[0][:4] == ("E103", 1, 1, "the document is empty")
    doc = yaml.safe_load(BASE)
    doc["placement"] = {"a/0": "worker-0"}
    assert [d.code for d in validate_earg(doc)] == ["E103"]


def test_e104_unsupported_version() -> None:
    text = BASE.replace("earg: 1", "earg: 2")
    assert errors_of(text) == [("E104", 1, 7, "unsupported EARG version 2",
                                "this hogar_nb reads `earg: 1`; export the graph again with it")]
    assert errors_of(BASE.replace("earg: 1", "earg: '1'"))[0][:4] == ("E104", 1, 7, 'unsupported EARG version "1"')


def test_e105_broken_references() -> None:
    text = BASE.replace("{src: m, dst: e}", "{src: mm, dst: e}")
    assert errors_of(text) == [("E105", line_of(text, "src: mm"), col_of(text, "mm"),
                                "edge `mm -> e` names unknown node `mm`", "did you mean `m`?")]
    text = BASE.replace("response: out", "response: xgb")
    assert errors_of(text) == [("E105", 4, 11, "`response` names `xgb`, a python node, not a sink",
                                "name a sink: `out`")]
    text = BASE.replace("- name: m\n", "- name: xgb\n")
    second = [i for i, ln in enumerate(text.splitlines(), 1) if ln == "  - name: xgb"][1]
    assert ("E105", second, 11, "duplicate node name `xgb`", "node names are unique; rename one of them") \
        in errors_of(text)
    text = BASE.replace("stages:", "layout: {zz: [1, 2]}\nstages:")
    assert errors_of(text) == [("E105", line_of(text, "layout"), 10, "`layout` names unknown node `zz`", "remove it")]


def test_e105_placement_references() -> None:
    doc = yaml.safe_load(BASE)
    doc["cluster"] = {"workers": 2, "cpu": 8, "gpu": 0, "memory_bytes": None}
    doc["placement"] = {"xgb/2": "worker-0", "a/0": "worker-5", "zz/0": "worker-0"}
    assert sorted(d.message for d in validate_earg(doc)) == [
        "`placement` entry `zz/0` names unknown node `zz`",
        "`placement` names replica `xgb/2`, but `xgb` has 2 replicas",
        "`placement` puts `a/0` on `worker-5`, but the cluster has 2 workers",
    ]


def test_e105_ensemble_weights_name_its_inputs() -> None:
    text = BASE.replace("    combine: mean\n", "    combine: mean\n    weights: {m: 0.5, xg: 0.5}\n")
    assert errors_of(text) == [
        ("E105", line_of(text, "weights:"), 14, "`weights` of ensemble `e` has no weight for input `xgb`",
         "give one weight per input"),
        ("E105", line_of(text, "weights:"), col_of(text, "xg:"),
         "`weights` of ensemble `e` names `xg`, which is not one of its inputs", "did you mean `xgb`?"),
    ]


def test_graph_checks_point_at_the_entry_they_are_about() -> None:
    text = BASE.replace("{src: e, dst: out}", "{src: e, dst: a}")
    got = errors_of(text)
    n = line_of(text, "src: e, dst: a")
    assert got == [
        ("E030", n, 5, "cycle: a -> m -> e -> a", "a serving graph is a DAG; remove one edge of the cycle"),
        ("E040", n, 5, "source `a` cannot receive edges", "a source is where requests enter; point the edge elsewhere"),
    ]


def test_response_must_agree_with_the_nodes() -> None:
    g = base_graph()
    g.set_attr("out", "response", True)
    g.add_node("audit", "sink", response=False)
    g.connect("xgb", "audit")
    text = dump_earg(g)
    doc = yaml.safe_load(text)
    assert doc["response"] == "out"
    bad = text.replace("response: out", "response: audit")
    assert errors_of(bad) == [("E105", 4, 11, "`response` is `audit`, but the nodes make `out` the response sink",
                               "mark `audit` with `response: true` and the other sinks with `response: false`")]


# ----------------------------------------------------------------- sources
def test_paths_strings_bytes_and_json_files(tmp_path: Path) -> None:
    y = tmp_path / "g.yaml"
    y.write_text(BASE, encoding="utf-8")
    j = tmp_path / "g.json"
    j.write_text(BASE_JSON, encoding="utf-8")
    for path in (y, str(y), j, str(j)):
        assert dump_earg(load_earg(path)) == BASE
    for text in (BASE.encode(), BASE_JSON):
        assert dump_earg(loads_earg(text)) == BASE
    bad = tmp_path / "bad.json"
    bad.write_text('{"earg": 2}', encoding="utf-8")
    with pytest.raises(EARGError) as info:
        load_earg(bad)
    assert info.value.filename == str(bad) and info.value.diagnostics[0].code == "E104"
    assert str(info.value).startswith(f"{bad}:1:10: error[E104]: unsupported EARG version 2")


def test_non_utf8_and_missing_files_are_diagnostics(tmp_path: Path) -> None:
    f = tmp_path / "g.yaml"
    f.write_bytes(b"earg: 1\nname: \xff\n")
    with pytest.raises(EARGError) as info:
        load_earg(f)
    d, = info.value.diagnostics
    assert (d.code, d.line, d.column) == ("E100", 2, 7) and "not valid UTF-8" in d.message
    with pytest.raises(EARGError) as info:
        load_earg(tmp_path / "missing.yaml")
    assert info.value.diagnostics[0].code == "E100"
    assert "cannot read" in info.value.diagnostics[0].message
    with pytest.raises(EARGError):
        load_earg(tmp_path)  # a directory
    with pytest.raises(EARGError):
        load_earg(12)  # type: ignore[arg-type]
    with pytest.raises(EARGError):
        loads_earg(12)  # type: ignore[arg-type]


def test_rendered_error_has_caret_and_hint() -> None:
    text = BASE.replace("    replicas: 2\n", "    replica: 2\n")
    with pytest.raises(EARGError) as info:
        loads_earg(text, filename="g.yaml")
    n = line_of(text, "replica: 2")
    assert str(info.value) == (
        f"g.yaml:{n}:5: error[E101]: unknown key `replica` in node `xgb`\n"
        f"{n:>4} |     replica: 2\n"
        f"     |     ^^^^^^^\n"
        f"     = hint: did you mean `replicas`?\n"
        f"1 error"
    )


# ------------------------------------------------------------------ fuzzing
def _check(source) -> None:
    try:
        graph = loads_earg(source)
    except EARGError as err:
        assert err.diagnostics and all(d.code and d.message and d.hint for d in err.diagnostics)
        str(err)
    else:
        assert isinstance(graph, Graph)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_random_text(text: str) -> None:
    _check(text)


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data: bytes) -> None:
    _check(data)
    _check(data.decode("utf-8", errors="replace"))
    _check(data.decode("latin-1"))


@FUZZ
@given(st.sampled_from(LINES), st.integers(0, len(BASE)), st.text(alphabet="{}[]:,-'\"&*!#\n abc1.", max_size=8))
def test_fuzz_text_edits(_line: str, at: int, insert: str) -> None:
    _check(BASE[:at] + insert + BASE[at:])
    _check(BASE_JSON[:at] + insert + BASE_JSON[at:])


WEIRD = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


DOC = yaml.safe_load(BASE)
PATHS = [p for p in _paths(DOC) if p]


@st.composite
def mutated(draw):
    doc = copy.deepcopy(DOC)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = doc
        try:
            for p in path[:-1]:
                parent = parent[p]
            action = draw(st.sampled_from(["drop", "replace", "extra"]))
            if action == "drop":
                del parent[path[-1]]
            elif action == "replace":
                parent[path[-1]] = draw(WEIRD)
            elif isinstance(parent[path[-1]], dict):
                parent[path[-1]][draw(st.text(min_size=1, max_size=6))] = draw(WEIRD)
        except (KeyError, IndexError, TypeError):
            pass
    return doc


@FUZZ
@given(mutated())
def test_fuzz_mutated_documents(doc) -> None:
    _check(yaml.safe_dump(doc, allow_unicode=True))
    try:
        text = json.dumps(doc)
    except ValueError:
        return
    _check(text)
    diags = validate_earg(doc)
    assert all(d.code.startswith("E1") for d in diags)


# ------------------------------------------------------- paths are not text
def test_load_earg_takes_a_path_and_never_echoes_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n" + "user:secret-token-123:1000:1000::/home:/bin/sh\n" * 50)
    with pytest.raises(EARGError) as info:
        load_earg(secret)
    text = str(info.value)
    assert "secret-token-123" not in text  # only the offending (first) line may be shown
    assert len(text.splitlines()) <= 6
    with pytest.raises(EARGError) as info:
        load_earg(BASE)  # a document passed where a path is expected
    assert info.value.diagnostics[0].hint == "pass the text to loads_earg(text)"
    assert BASE.splitlines()[3] not in str(info.value)
    with pytest.raises(EARGError) as info:
        loads_earg(str(secret))  # a path passed as text is read as (bad) YAML, not opened
    assert "secret-token-123" not in str(info.value)


def test_oversized_input_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    with pytest.raises(EARGError) as info:
        load_earg("/dev/zero")
    d, = info.value.diagnostics
    assert d.code == "E007" and "10 MiB" in d.message
    with pytest.raises(EARGError) as info:
        loads_earg("#" * (10 * 2**20 + 1))
    assert info.value.diagnostics[0].code == "E007"
