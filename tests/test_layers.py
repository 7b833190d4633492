"""The layers import only downwards: the core needs no Jupyter, widget or plotting
package, the runtime no Jupyter layer, and `import hogar_nb` stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ["IPython", "ipywidgets", "ipycytoscape", "plotly", "ipykernel", "jupyterlab", "notebook"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def _top(mods: set[str]) -> set[str]:
    return {m.split(".")[0] for m in mods}


SERVING_LIBS = ["starlette", "uvicorn", "orjson", "httpx", "anyio"]
MODEL_LIBS = ["numpy", "sklearn", "onnxruntime", "skl2onnx", "xgboost", "joblib"]


def test_import_hogar_nb_is_light() -> None:
    mods = _top(_modules_after("import hogar_nb"))
    assert not mods & {*HEAVY, "lark", "networkx", "yaml", "jsonschema", *SERVING_LIBS, *MODEL_LIBS}


def test_running_a_graph_loads_no_http_or_model_library() -> None:
    code = (
        "import hogar_nb, hogar_nb.serving, hogar_nb.models\n"
        "g = hogar_nb.parse_udgl('source a\\nsink b\\na -> b\\n')\n"
        "dep = hogar_nb.run(g); dep.call(1); dep.stop()\n"
    )
    mods = _top(_modules_after(code))
    assert not mods & {*HEAVY, *SERVING_LIBS, *MODEL_LIBS}


def test_core_works_without_jupyter_packages() -> None:
    code = (
        "import hogar_nb\n"
        "g = hogar_nb.parse_udgl(open(%r).read())\n"
        "g.analyze(); g.to_udgl(); hogar_nb.dump_earg(g)\n"
    ) % str(Path(__file__).parent / "core" / "cases" / "valid" / "design_example.udgl")
    mods = _top(_modules_after(code))
    assert not mods & set(HEAVY)
    assert "hogar_nb" in mods


def test_export_imports_no_runtime_and_no_ray() -> None:
    mods = _modules_after("import hogar_nb.export, hogar_nb.export.kserve, hogar_nb.export.ray_serve, "
                          "hogar_nb.export.cli")
    assert not {m for m in mods if m.startswith(("hogar_nb.runtime", "hogar_nb.backends", "ray"))}
    assert not _top(mods) & {*HEAVY, "ray"}


@pytest.mark.parametrize("package", ["hogar_nb/core", "hogar_nb/runtime", "hogar_nb/export",
                                     "hogar_nb/backends", "hogar_nb/models", "hogar_nb/serving",
                                     "hogar_nb/jupyter/server"])
def test_no_upward_imports_in_source(package: str) -> None:
    root = Path(__file__).resolve().parent.parent
    forbidden = ["hogar_nb.jupyter", "from ..jupyter", "from ...jupyter", *HEAVY]
    if package == "hogar_nb/core":
        forbidden += ["hogar_nb.runtime", "from ..runtime", "hogar_nb.backends"]
    if package == "hogar_nb/export":
        forbidden += ["hogar_nb.runtime", "from ..runtime", "hogar_nb.backends", "from ..backends",
                      "ray", "hogar_nb.serving", "from ..serving"]
    if package == "hogar_nb/backends":
        forbidden += ["hogar_nb.serving", "from ...serving", "hogar_nb.console", "from ...console"]
    if package == "hogar_nb/core":
        forbidden += ["hogar_nb.models", "from ..models"]
    if package == "hogar_nb/models":
        forbidden += ["hogar_nb.runtime", "from ..runtime", "hogar_nb.backends", "from ..backends"]
    if package in ("hogar_nb/core", "hogar_nb/runtime", "hogar_nb/models"):
        forbidden += ["hogar_nb.serving", "from ..serving", "from ...serving"]
    if package == "hogar_nb/serving":  # serves any backend through the protocol
        forbidden += ["hogar_nb.backends", "from ..backends", "hogar_nb.console", "from ..console"]
    if package == "hogar_nb/jupyter/server":  # the server extension runs the core only
        forbidden = [*HEAVY, "hogar_nb.runtime", "from ...runtime", "from ..magics", "from ..editor",
                     "from ..monitor", "from ..graph_view"]
    offenders = []
    for path in (root / package).rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if not stripped.startswith(("import ", "from ")):
                continue
            words = stripped.replace(",", " ").split()
            if any(w == f or w.startswith(f + ".") or (f.startswith("from") and stripped.startswith(f))
                   for f in forbidden for w in words[:4]):
                offenders.append(f"{path.relative_to(root)}:{n}: {stripped}")
    assert offenders == []


CONSOLE_FORBIDDEN = ["hogar_nb.runtime", "hogar_nb.serving", "hogar_nb.backends", "hogar_nb.jupyter",
                     "hogar_nb.models"]


def test_console_imports_only_the_core_in_source() -> None:
    """The console talks to deployments over HTTP: it never imports the engine or the front."""
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in (root / "hogar_nb" / "console").rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            words = line.strip().replace(",", " ").split()
            if words[:1] not in (["import"], ["from"]) or len(words) < 2:
                continue
            module = words[1]
            if module.startswith("."):
                depth = len(module) - len(module.lstrip("."))
                package = path.relative_to(root).parent.parts
                module = ".".join(package[: len(package) - depth + 1]) + "." + module.lstrip(".")
            if any(module == f or module.startswith(f + ".") for f in CONSOLE_FORBIDDEN):
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []


def test_no_layer_below_imports_the_console() -> None:
    root = Path(__file__).resolve().parent.parent
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for package in ("core", "runtime", "jupyter")
        for path in (root / "hogar_nb" / package).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if line.strip().startswith(("import ", "from ")) and ("console" in line.split("#")[0])
    ]
    assert offenders == []


def test_the_loaded_console_pulls_in_no_engine_or_jupyter_module(tmp_path) -> None:
    code = (
        "import os; os.environ['HOGAR_CONSOLE_DATA'] = %r\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'hogar_nb.console.settings'\n"
        "import django; django.setup()\n"
        "import hogar_nb.console.urls, hogar_nb.console.asgi, hogar_nb.console.services\n"
    ) % str(tmp_path)
    mods = _modules_after(code)
    assert not {m for m in mods if any(m == f or m.startswith(f + ".") for f in CONSOLE_FORBIDDEN)}
    assert not _top(mods) & set(HEAVY)


def test_hogar_cli_loads_no_django() -> None:
    mods = _top(_modules_after("import hogar_nb.cli; hogar_nb.cli.build_parser()"))
    assert "django" not in mods
