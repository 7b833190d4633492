"""Subgraphs: `use` a graph file as a kind, expand its instances into namespaced nodes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typed_models import build_models

from hogar_nb.core.graph_file import load_graph_file
from hogar_nb.core.udgl import compile_udgl
from hogar_nb.errors import UDGLError

ROOT = Path(__file__).resolve().parents[2]

PREPROCESS = """\
graph preprocess "Cleans and scales the features"
param factor = 2
source raw { input = float32[n, 4] }
python clean { impl = "svc:clean", replicas = 2 }
python scale { impl = "svc:scale", timeout = 500ms }
sink scaled
raw -> clean -> scale -> scaled
"""

MAIN = """\
use preprocess = "blocks/preprocess.udgl"
source ingest { route = "/score" }
preprocess prep { factor = 3 }
python score { impl = "svc:score" }
sink out
ingest -> prep -> score -> out
"""

FLAT = """\
source ingest { route = "/score" }
python prep.clean { impl = "svc:clean", replicas = 2, input = float32[n, 4] }
python prep.scale { impl = "svc:scale", timeout = 500ms }
python score { impl = "svc:score" }
sink out
ingest -> prep.clean -> prep.scale -> score -> out
"""


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def _without_origin(doc: dict) -> dict:
    return {**doc, "nodes": [{k: v for k, v in n.items() if k != "origin"} for n in doc["nodes"]]}


def test_expansion_equals_the_hand_flattened_graph(tmp_path: Path) -> None:
    _write(tmp_path, {"blocks/preprocess.udgl": PREPROCESS, "main.udgl": MAIN, "flat.udgl": FLAT})
    expanded = load_graph_file(tmp_path / "main.udgl").to_earg()
    flat = load_graph_file(tmp_path / "flat.udgl").to_earg()
    flat["name"] = expanded["name"]
    assert _without_origin(expanded) == flat
    origins = {n["name"]: n.get("origin") for n in expanded["nodes"]}
    assert origins == {"ingest": None, "score": None, "out": None,
                       "prep.clean": {"file": "blocks/preprocess.udgl", "line": 4, "use": "prep"},
                       "prep.scale": {"file": "blocks/preprocess.udgl", "line": 5, "use": "prep"}}
    assert [n["name"] for n in expanded["nodes"]] == ["ingest", "prep.clean", "prep.scale", "score", "out"]


def test_the_flat_earg_loads_back_with_its_origins(tmp_path: Path) -> None:
    from hogar_nb.core.earg import dump_earg, loads_earg

    _write(tmp_path, {"blocks/preprocess.udgl": PREPROCESS, "main.udgl": MAIN})
    graph = load_graph_file(tmp_path / "main.udgl")
    again = loads_earg(dump_earg(graph))
    assert again.to_earg() == graph.to_earg()
    assert compile_udgl(again.to_udgl())[1] == []  # dotted names read back as UDGL


def test_two_instances_of_one_file_and_a_param_from_the_including_graph(tmp_path: Path) -> None:
    main = ('use preprocess = "blocks/preprocess.udgl"\nparam f = 5\nsource ingest\n'
            'preprocess a { factor = $f }\npreprocess b\nensemble both { combine = concat }\nsink out\n'
            'ingest -> [a, b] -> both -> out\n')
    _write(tmp_path, {"blocks/preprocess.udgl": PREPROCESS, "main.udgl": main})
    doc = load_graph_file(tmp_path / "main.udgl").to_earg()
    assert {e["src"] + " -> " + e["dst"] for e in doc["edges"]} == {
        "ingest -> a.clean", "ingest -> b.clean", "a.clean -> a.scale", "b.clean -> b.scale",
        "a.scale -> both", "b.scale -> both", "both -> out"}


def test_a_problem_inside_an_included_file_points_at_its_file_and_line(tmp_path: Path) -> None:
    broken = PREPROCESS.replace('python scale { impl = "svc:scale"', 'python scale { impl = "svc:scale", replicass = 2')
    _write(tmp_path, {"blocks/preprocess.udgl": broken, "main.udgl": MAIN})
    with pytest.raises(UDGLError) as err:
        load_graph_file(tmp_path / "main.udgl")
    (d,) = err.value.diagnostics
    assert (d.code, d.line, d.column) == ("E012", 3, 12)  # the instance, in main.udgl
    assert d.message.startswith("in blocks/preprocess.udgl:5:36: unknown attribute `replicass`")
    assert d.extra == {"file": "blocks/preprocess.udgl", "line": 5, "column": 36}
    text = err.value.render()
    assert "main.udgl:3:12: error[E012]: in blocks/preprocess.udgl:5:36:" in text
    assert "preprocess prep { factor = 3 }" in text  # the line it is used from, with a caret


def test_nested_includes_resolve_paths_against_each_including_file(tmp_path: Path) -> None:
    inner = 'source x\npython twice { impl = "svc:twice" }\nsink y\nx -> twice -> y\n'
    middle = ('use inner = "parts/inner.udgl"\nsource raw\ninner deep\npython tail { impl = "svc:tail" }\n'
              'sink done\nraw -> deep -> tail -> done\n')
    main = 'use middle = "blocks/middle.udgl"\nsource ingest\nmiddle m\nsink out\ningest -> m -> out\n'
    _write(tmp_path, {"blocks/parts/inner.udgl": inner, "blocks/middle.udgl": middle, "main.udgl": main})
    doc = load_graph_file(tmp_path / "main.udgl").to_earg()
    origins = {n["name"]: n.get("origin") for n in doc["nodes"]}
    assert origins["m.deep.twice"] == {"file": "blocks/parts/inner.udgl", "line": 2, "use": "m.deep"}
    assert origins["m.tail"] == {"file": "blocks/middle.udgl", "line": 4, "use": "m"}
    assert [(e["src"], e["dst"]) for e in doc["edges"]] == [
        ("ingest", "m.deep.twice"), ("m.deep.twice", "m.tail"), ("m.tail", "out")]


def test_artifacts_written_in_an_included_file_are_relative_to_it(tmp_path: Path) -> None:
    block = 'source raw\nmodel lin { impl = "weights/lin.json" }\nsink y\nraw -> lin -> y\n'
    _write(tmp_path, {"blocks/scoring.udgl": block, "blocks/weights/lin.json": '{"weights": [1, 2], "bias": 0}',
                      "main.udgl": 'use scoring = "blocks/scoring.udgl"\nsource s\nscoring sc\nsink o\ns -> sc -> o\n'})
    graph = load_graph_file(tmp_path / "main.udgl")
    (lin,) = [n for n in graph.to_earg()["nodes"] if n["name"] == "sc.lin"]
    assert lin["impl"] == "blocks/weights/lin.json"
    assert lin["types"] == {"input": "number[n, 2]", "output": "float64[n]", "origin": "linear"}
    from hogar_nb import run

    with run(graph, base_dir=tmp_path) as dep:
        assert dep.call([1.0, 1.0], timeout=30) == 3.0


def test_includes_are_cycle_checked(tmp_path: Path) -> None:
    _write(tmp_path, {
        "a.udgl": 'use b = "sub/b.udgl"\nsource s\nb inner\nsink t\ns -> inner -> t\n',
        "sub/b.udgl": 'use a = "../a.udgl"\nsource s\na again\nsink t\ns -> again -> t\n',
    })
    with pytest.raises(UDGLError) as err:
        load_graph_file(tmp_path / "a.udgl")
    (d,) = err.value.diagnostics
    assert d.code == "E091" and (d.line, d.column) == (3, 3)
    assert "in sub/b.udgl:1:9: `../a.udgl` includes itself: a.udgl -> b.udgl -> a.udgl" in d.message


@pytest.mark.parametrize(("edges", "code", "words"), [
    ("ingest -> prep.rw\nprep -> out", "E092", "`prep` has no input `rw`"),
    ("ingest -> prep\nprep.raw -> out", "E092", "`prep.raw` is an input of `prep`, not an output"),
])
def test_bad_ports_are_one_diagnostic_each(tmp_path: Path, edges: str, code: str, words: str) -> None:
    main = 'use preprocess = "blocks/preprocess.udgl"\nsource ingest\npreprocess prep\nsink out\n' + edges + "\n"
    _write(tmp_path, {"blocks/preprocess.udgl": PREPROCESS, "main.udgl": main})
    with pytest.raises(UDGLError) as err:
        load_graph_file(tmp_path / "main.udgl")
    assert [(d.code, d.message) for d in err.value.diagnostics] == [(code, words)]


def test_an_unknown_param_and_a_missing_file(tmp_path: Path) -> None:
    main = ('use preprocess = "blocks/preprocess.udgl"\nuse gone = "blocks/gone.udgl"\nsource ingest\n'
            'preprocess prep { factr = 1 }\ngone g\nsink out\ningest -> [prep, g] -> out\n')
    _write(tmp_path, {"blocks/preprocess.udgl": PREPROCESS, "main.udgl": main})
    with pytest.raises(UDGLError) as err:
        load_graph_file(tmp_path / "main.udgl")
    got = [(d.code, d.line, d.message, d.hint) for d in err.value.diagnostics]
    assert got[0][:2] == ("E090", 2) and "blocks/gone.udgl" in got[0][2]
    assert got[1] == ("E012", 4, "`preprocess` (blocks/preprocess.udgl) has no param `factr`",
                      "did you mean `factor`?")
    assert len(got) == 2


def test_a_port_type_is_checked_against_what_feeds_it(tmp_path: Path) -> None:
    main = ('use preprocess = "blocks/preprocess.udgl"\nsource ingest { input = float32[n, 3] }\n'
            'preprocess prep\nsink out\ningest -> prep -> out\n')
    _write(tmp_path, {"blocks/preprocess.udgl": PREPROCESS, "main.udgl": main})
    with pytest.raises(UDGLError) as err:
        load_graph_file(tmp_path / "main.udgl")
    (d,) = err.value.diagnostics
    assert d.code == "E081" and d.edge == ("ingest", "prep.clean") and d.line == 5
    assert d.message == "`prep.clean` expects float32[n, 4] but `ingest` produces float32[n, 3]"


def test_a_subgraph_of_real_models_types_its_output_port(tmp_path: Path) -> None:
    build_models(tmp_path)
    block = ('source raw { input = float32[n, 4] }\nmodel lr { impl = "../clf.onnx", method = predict_proba }\n'
             'sink probs\nraw -> lr -> probs\n')
    main = ('use classify = "blocks/classify.udgl"\nsource ingest { input = float32[n, 4] }\nclassify c\n'
            'python post { impl = "m:f", input = float32[n, 2] }\nsink out\ningest -> c -> post -> out\n')
    _write(tmp_path, {"blocks/classify.udgl": block, "main.udgl": main})
    with pytest.raises(UDGLError) as err:
        load_graph_file(tmp_path / "main.udgl")
    (d,) = err.value.diagnostics
    assert d.message == "`post` expects float32[n, 2] but `c.lr` produces float32[n, 3]"


def test_fmt_keeps_use_lines_and_instances(tmp_path: Path) -> None:
    messy = MAIN.replace('use preprocess = "blocks/preprocess.udgl"', 'use   preprocess="blocks/preprocess.udgl"')
    _write(tmp_path, {"blocks/preprocess.udgl": PREPROCESS, "main.udgl": messy})
    out = subprocess.run([sys.executable, "-m", "hogar_nb", "fmt", str(tmp_path / "main.udgl")],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == 'use preprocess = "blocks/preprocess.udgl"'
    assert "preprocess prep   { factor = 3 }" in out.stdout and "prep.clean" not in out.stdout


def test_an_included_file_checks_on_its_own(tmp_path: Path) -> None:
    _write(tmp_path, {"blocks/preprocess.udgl": PREPROCESS})
    assert load_graph_file(tmp_path / "blocks/preprocess.udgl").ok


def test_a_file_used_exponentially_often_is_compiled_once_and_bounded(tmp_path: Path) -> None:
    leaf = 'source s\npython f { impl = "m:f" }\nsink t\ns -> f -> t\n'
    files = {"l0.udgl": leaf}
    for level in range(1, 6):  # each level uses the one below 12 times: 12^5 leaves, if nothing bounded it
        names = [f"i{k}" for k in range(12)]
        files[f"l{level}.udgl"] = (f'use below = "l{level - 1}.udgl"\nsource s\n'
                                   + "".join(f"below {n}\n" for n in names)
                                   + "ensemble e { combine = first }\nsink t\n"
                                   + f"s -> [{', '.join(names)}] -> e -> t\n")
    _write(tmp_path, files)
    with pytest.raises(UDGLError) as err:
        load_graph_file(tmp_path / "l5.udgl")
    assert {d.code for d in err.value.diagnostics} == {"E007"}
    assert "more than 20,000 nodes" in err.value.diagnostics[0].message
    assert len(load_graph_file(tmp_path / "l3.udgl").nodes) == 12 ** 3 * 1 + 12 ** 2 + 12 + 3  # leaves, ensembles


def test_an_uploaded_graph_reads_no_file_of_the_machine(tmp_path: Path, monkeypatch) -> None:
    from hogar_nb.console.uploads import check_upload

    secret = tmp_path / "secret.udgl"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "w.json").write_text('{"weights": [1, 2, 3], "bias": 0}')
    monkeypatch.chdir(tmp_path)
    upload = f'use s = "{secret}"\nsource a\ns x\nsink b\na -> x -> b\n'.encode()
    result = check_upload(upload, "g.udgl")
    assert [d.code for d in result.diagnostics] == ["E090"]
    assert "root:x" not in str([d.message for d in result.diagnostics])
    typed = b'source a { input = float32[n, 2] }\nmodel m { impl = "w.json" }\nsink b\na -> m -> b\n'
    result = check_upload(typed, "g.udgl")
    assert result.ok  # the artifact's 3 weights would contradict the 2 columns: it was not read
    (m,) = [n for n in result.graph.to_earg()["nodes"] if n["name"] == "m"]
    assert m["types"] == {"input": "float32[n, 2]"}  # what arrives; nothing from the artifact
    assert compile_udgl(typed.decode())[1][0].code == "E081"  # read from its folder, it is
