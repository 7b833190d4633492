"""`hogar_nb.run` picks the backend; the embedded engine's own `run` knows no other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import hogar_nb
from hogar_nb.cli import main
from hogar_nb.dispatch import run

ROOT = Path(__file__).resolve().parent.parent
GRAPH = "source a { route = \"/echo\" }\nsink b\na -> b\n"


def test_hogar_nb_run_is_the_dispatcher() -> None:
    assert hogar_nb.run is run


def test_an_unknown_backend_is_named_with_the_known_ones() -> None:
    with pytest.raises(hogar_nb.HogarError, match="unknown backend 'nope'; expected embedded or ray"):
        hogar_nb.run(hogar_nb.parse_udgl(GRAPH), backend="nope")


def test_the_embedded_run_answers_and_refuses_a_backend_option() -> None:
    from hogar_nb.runtime import run as run_embedded

    with run(hogar_nb.parse_udgl(GRAPH)) as dep:
        assert dep.call({"x": 1}) == {"x": 1}
    with pytest.raises(TypeError, match=r"unexpected options \[.backend.\] for the embedded backend"):
        run_embedded(hogar_nb.parse_udgl(GRAPH), backend="ray")


def test_a_deployment_from_the_runtime_alone_serves_http() -> None:
    """The HTTP front reaches the runtime through the front-end registry, filled when
    hogar_nb is imported: no import of the serving layer is needed first."""
    code = (
        "import httpx\n"
        "from hogar_nb.core.udgl import parse_udgl\n"
        "from hogar_nb.runtime.deployment import run\n"
        f"dep = run(parse_udgl({GRAPH!r}))\n"
        "try:\n"
        "    url = dep.serve_http()\n"
        "    print(httpx.post(url + '/echo', json={'x': 2}).json())\n"
        "finally:\n"
        "    dep.stop()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert out.stdout.strip() == "{'x': 2}"


def test_hogar_serve_refuses_an_address_without_a_backend_that_takes_one(tmp_path: Path, capsys) -> None:
    (tmp_path / "g.udgl").write_text(GRAPH)
    assert main(["serve", str(tmp_path / "g.udgl"), "--address", "127.0.0.1:6379"]) == 2
    assert capsys.readouterr().err == "hogar: error: --address needs --backend ray\n"
