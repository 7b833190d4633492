"""Every UDGL example in the docs and the design brief compiles without errors, and every
example in docs/udgl.md runs as written with the files the page gives."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hogar_nb import parse_udgl

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"```udgl\n(.*?)```", re.S)
_FILE = re.compile(r"```(?:python|udgl)\n# file: (\S+)\n(.*?)```", re.S)
FEATURES = [0.1, 0.2, 0.3, 0.4]
TRANSACTION = {"amount": 120.0, "hour": 23, "country_risk": 0.3, "merchant_risk": 0.1}


def _examples() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "udgl.md").read_text()
    return [(f"udgl.md#{i}", block) for i, block in enumerate(_BLOCK.findall(text), 1)]


@pytest.fixture(scope="module")
def graph_files(tmp_path_factory) -> Path:
    """The graph files the page's examples `use`, saved as a user would."""
    folder = tmp_path_factory.mktemp("docs-graphs")
    for name, body in _FILE.findall((ROOT / "docs" / "udgl.md").read_text()):
        if name.endswith(".udgl"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(body)
    return folder


@pytest.mark.parametrize(("where", "text"), _examples(), ids=[w for w, _ in _examples()])
def test_docs_example_compiles(graph_files: Path, where: str, text: str) -> None:
    graph = parse_udgl(text, base_dir=graph_files)
    assert graph.to_earg()["nodes"]


def test_docs_have_an_example_per_section() -> None:
    assert len(_examples()) >= 10


def test_design_example_stages_edges_and_cluster(design_example: str) -> None:
    # its nodes are pinned in test_earg_udgl.py
    earg = parse_udgl(design_example).to_earg()
    assert earg["stages"] == [["ingest"], ["features"], ["nn", "xgb"], ["blend"], ["gate"],
                              ["canary"], ["review_v2"], ["out"]]
    assert earg["edges"][:2] == [{"src": "blend", "dst": "gate"}, {"src": "canary", "dst": "out", "weight": 0.9}]
    assert earg["response"] == "out"
    assert earg["cluster"] == {"workers": 3, "cpu": 8, "gpu": 1, "memory_bytes": 34359738368}


@pytest.fixture(scope="module")
def example_folder(tmp_path_factory) -> Path:
    """The files docs/udgl.md gives for its examples, saved as a user would, models made."""
    folder = tmp_path_factory.mktemp("docs")
    files = _FILE.findall((ROOT / "docs" / "udgl.md").read_text())
    assert {name for name, _ in files} >= {"svc.py", "make_models.py"}
    for name, body in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body)
    subprocess.run([sys.executable, "make_models.py"], cwd=folder, check=True, timeout=300)
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    for mod in [m for m in sys.modules if m.split(".")[0] in ("svc", "fraud", "my_service")]:
        del sys.modules[mod]


@pytest.mark.parametrize(("where", "text"), _examples(), ids=[w for w, _ in _examples()])
def test_docs_example_runs_as_written(example_folder: Path, where: str, text: str) -> None:
    from hogar_nb import run
    from hogar_nb.runtime.readiness import startup_diagnostics

    graph = parse_udgl(text, base_dir=example_folder)
    assert startup_diagnostics(graph, example_folder, load_models=True) == []  # `hogar check` has nothing to warn about
    payload = TRANSACTION if "fraud." in text else FEATURES
    with run(graph, base_dir=example_folder) as dep:
        for source in dep.sources:
            assert dep.call(payload, timeout=60, source=source) is not None


def test_the_types_and_subgraphs_sections_say_what_the_compiler_does(example_folder: Path) -> None:
    text = (ROOT / "docs" / "udgl.md").read_text()
    typed, main = (b for b in _BLOCK.findall(text) if "graph typed" in b or 'use prep = "blocks' in b)
    analysis = parse_udgl(typed, base_dir=example_folder).analyze().summary()
    shown = text.split("```text\ntypes (what travels", 1)[1].split("```", 1)[0]
    assert "types (what travels" + shown.rstrip("\n") in analysis
    doc = parse_udgl(main, base_dir=example_folder).to_earg()
    (clean,) = [n for n in doc["nodes"] if n["name"] == "features.clean"]
    assert clean["origin"] == {"file": "blocks/prep.udgl", "line": 4, "use": "features"}
    from hogar_nb.core.udgl import compile_udgl

    graph, diags = compile_udgl("source ingest { input = float32[n, 4] }\nmodel nn { impl = \"models/nn.onnx\" }\n"
                                "python post { impl = \"svc:b\", input = float32[n, 2] }\nsink out\n"
                                "ingest -> nn -> post -> out\n", base_dir=example_folder)
    assert graph is not None
    (d,) = diags
    assert d.format(graph.source, "graph.udgl") in text
