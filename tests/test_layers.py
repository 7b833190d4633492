"""The layers import only downwards: the core needs no Jupyter, widget or plotting
package, the runtime no Jupyter layer, and `import hogar_nb` stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from import_graph import Import, imports

HEAVY = ["IPython", "ipywidgets", "anywidget", "plotly", "ipykernel", "jupyterlab", "notebook"]


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


def test_tracing_loads_no_http_library_and_costs_no_import_while_off() -> None:
    off = _top(_modules_after(
        "import hogar_nb\ng = hogar_nb.parse_udgl('source a\\nsink b\\na -> b\\n')\n"
        "dep = hogar_nb.run(g); dep.call(1); dep.stop()\n"))
    assert "opentelemetry" not in off
    on = _modules_after(
        "import hogar_nb\ng = hogar_nb.parse_udgl('source a\\nsink b\\na -> b\\n')\n"
        "dep = hogar_nb.run(g); dep.enable_tracing(export=False); dep.call(1); dep.stop()\n")
    assert "hogar_nb.observe" in on and "opentelemetry" in _top(on)
    assert not _top(on) & {*HEAVY, *SERVING_LIBS}


def test_type_inference_imports_no_model_library_until_an_artifact_is_read() -> None:
    code = (
        "import hogar_nb\n"
        "from hogar_nb.core.types import node_types, parse_type\n"
        "g = hogar_nb.parse_udgl('source a { input = float32[n, 4] }\\npython p { impl = \"m:f\" }\\n"
        "sink b\\na -> p -> b\\n')\n"
        "assert str(node_types(g)['a'].output) == 'float32[n, 4]'\n"
    )
    mods = _top(_modules_after(code))
    assert not mods & {*HEAVY, *SERVING_LIBS, *MODEL_LIBS, "onnx"}


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


# The rooms of DESIGN.md and what each may not import. A module obeys the rules of
# every room it sits in (runtime/walk those of runtime and of walk). Imports inside
# functions, under TYPE_CHECKING and module paths written as strings all count.
TOP = ["hogar_nb.dispatch", "hogar_nb.cli", "hogar_nb.console", "hogar_nb.jupyter"]
UPPER = ["hogar_nb.runtime", "hogar_nb.backends", "hogar_nb.serving", "hogar_nb.export", "hogar_nb.models",
         "hogar_nb.observe", "hogar_nb.quality", "hogar_nb.steer"]
# the walker may lock (several drivers' threads call it) but does no I/O and waits on nothing
IO = ["asyncio", "queue", "socket", "selectors", "subprocess", "multiprocessing",
      "concurrent", "http", "urllib", "starlette", "uvicorn", "httpx", "ray"]
ENGINE = ["hogar_nb.runtime.engine", "hogar_nb.runtime.node", "hogar_nb.runtime.replica",
          "hogar_nb.runtime.process_replica", "hogar_nb.runtime.procworker", "hogar_nb.runtime.recovery",
          "hogar_nb.runtime.deployment", "hogar_nb.runtime.prometheus", "hogar_nb.runtime.embedded"]
CONSOLE_FORBIDDEN = ["hogar_nb.runtime", "hogar_nb.serving", "hogar_nb.backends", "hogar_nb.jupyter",
                     "hogar_nb.models"]


def _but(*allowed: str) -> list[str]:
    return [m for m in UPPER if m not in allowed]


RULES: dict[str, list[str]] = {
    "hogar_nb.errors": [*TOP, *UPPER],
    "hogar_nb._frontends": ["hogar_nb.core", *TOP, *UPPER],  # a registry: the layers above fill it
    "hogar_nb.core": [*TOP, *UPPER, *HEAVY, "ray"],
    # payload types and their checks: the language and the EARG reader use them
    "hogar_nb.core.types": ["hogar_nb.core.udgl", "hogar_nb.core.earg", "hogar_nb.core.graph_file"],
    # model libraries are read only inside the functions that read an artifact (never at import)
    "hogar_nb.core.types.tensor": MODEL_LIBS, "hogar_nb.core.types.infer": MODEL_LIBS,
    "hogar_nb.core.types.view": MODEL_LIBS, "hogar_nb.core.types.payload": MODEL_LIBS,
    "hogar_nb.models": [*TOP, *_but("hogar_nb.models"), *HEAVY, "ray"],
    "hogar_nb.export": [*TOP, *_but("hogar_nb.export"), *HEAVY, "ray"],
    "hogar_nb.runtime": [*TOP, *_but("hogar_nb.runtime", "hogar_nb.models"), *HEAVY, "ray"],
    # the walker: a pure state machine over events, driven by every backend
    "hogar_nb.runtime.walk": [*ENGINE, *IO],
    # traces: fed by walker events through the Deployment base; the core and the runtime only
    "hogar_nb.observe": [*TOP, *_but("hogar_nb.observe", "hogar_nb.runtime"), *HEAVY, *SERVING_LIBS, "ray"],
    # references, drift, feedback and alerts: over the core and the runtime's Deployment only
    "hogar_nb.quality": [*TOP, *_but("hogar_nb.runtime", "hogar_nb.quality"), *HEAVY, "ray"],
    # acts through the Deployment base's scale and reconfigure, never backend internals
    # (the core and the Deployment base only)
    "hogar_nb.steer": [*TOP, *_but("hogar_nb.steer", "hogar_nb.runtime"), *ENGINE, "hogar_nb.runtime.walk",
                       *HEAVY, "ray"],
    # any backend, by protocol; it drives rollouts through steer
    "hogar_nb.serving": [*TOP, "hogar_nb.backends", *HEAVY, "ray"],
    "hogar_nb.backends": [*TOP, "hogar_nb.serving", "hogar_nb.steer", *HEAVY],
    # the server extension runs the core only
    "hogar_nb.jupyter.server": [*HEAVY, *UPPER, "hogar_nb.dispatch", "hogar_nb.jupyter.magics",
                                "hogar_nb.jupyter.editor", "hogar_nb.jupyter.monitor", "hogar_nb.jupyter.graph_view"],
    # talks to deployments over HTTP: never the engine or the front
    "hogar_nb.console": [*CONSOLE_FORBIDDEN, "hogar_nb.dispatch", "hogar_nb.cli", "hogar_nb.steer"],
}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_offences(found: list[Import]) -> list[str]:
    """Each import that breaks a rule of a room its module sits in."""
    return [
        f"{imp.where()}: {imp.source} imports {imp.target} ({imp.how}), which {room} may not"
        for imp in found
        for room, forbidden in RULES.items()
        if _within(imp.source, room) and any(_within(imp.target, f) for f in forbidden)
    ]


@pytest.mark.parametrize("room", sorted(RULES))
def test_no_room_imports_what_its_layer_may_not(room: str) -> None:
    offences = layer_offences([i for i in imports() if _within(i.source, room)])
    assert offences == []


def test_the_layer_rules_see_strings_and_deferred_imports(tmp_path: Path) -> None:
    package = tmp_path / "hogar_nb" / "runtime"
    (package / "walk").mkdir(parents=True)
    (tmp_path / "hogar_nb" / "backends" / "ray").mkdir(parents=True)
    for init in ("", "runtime/", "runtime/walk/", "backends/", "backends/ray/"):
        (tmp_path / "hogar_nb" / init / "__init__.py").write_text("")
    (package / "registry.py").write_text("PLACES = {'ray': ('hogar_nb.backends.ray', 'run')}\n")
    (package / "walk" / "machine.py").write_text("def f():\n    import asyncio\n")
    assert sorted(layer_offences(imports(tmp_path))) == [
        "hogar_nb/runtime/registry.py:1: hogar_nb.runtime.registry imports hogar_nb.backends.ray (string), "
        "which hogar_nb.runtime may not",
        "hogar_nb/runtime/walk/machine.py:2: hogar_nb.runtime.walk.machine imports asyncio (import), "
        "which hogar_nb.runtime.walk may not",
    ]


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
