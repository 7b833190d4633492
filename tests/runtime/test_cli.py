"""``hogar run`` and UDGL text -> parse_udgl -> run, end to end."""

from __future__ import annotations

import argparse
import json

import pytest

import hogar_nb
from hogar_nb.runtime.cli import register

UDGL = """graph demo
source in
python dbl { impl = "tests.runtime.impls:double" replicas = 2 }
python inc { impl = "tests.runtime.impls:inc" }
sink out { response = true }
in -> dbl -> inc -> out
"""


def _earg_available() -> bool:
    try:
        hogar_nb.parse_udgl(UDGL).to_earg()
    except (ImportError, AttributeError):
        return False
    return True


needs_earg = pytest.mark.skipif(not _earg_available(), reason="Graph.to_earg is not available yet")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hogar")
    register(parser.add_subparsers(dest="command"))
    return parser


def test_missing_file_is_a_friendly_error(tmp_path, capsys):
    args = _parser().parse_args(["run", str(tmp_path / "nope.udgl")])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "no such graph file" in err and "Traceback" not in err


def test_bad_payload_is_a_friendly_error(tmp_path, capsys):
    args = _parser().parse_args(["run", str(tmp_path / "g.udgl"), "--payload", "{nope"])
    assert args.func(args) == 2
    assert "--payload is not valid JSON" in capsys.readouterr().err


@needs_earg
def test_udgl_text_runs_end_to_end(no_leaks):
    with hogar_nb.run(hogar_nb.parse_udgl(UDGL)) as dep:
        assert dep.call(5) == 11
        assert dep.metrics().node("dbl").replicas_alive == 2


@needs_earg
def test_run_command_with_load_prints_a_report(tmp_path, capsys, no_leaks):
    path = tmp_path / "demo.udgl"
    path.write_text(UDGL)
    args = _parser().parse_args(["run", str(path), "--rate", "200", "--duration", "0.3",
                                 "--payload", json.dumps(3)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "running 'demo'" in out and "lost 0" in out and "errors none" in out
    assert "dbl" in out and "2/2" in out, out


@needs_earg
def test_hogar_main_dispatches_run(tmp_path, capsys, no_leaks):
    from hogar_nb.cli import main

    path = tmp_path / "demo.udgl"
    path.write_text(UDGL)
    assert main(["run", str(path), "--duration", "0"]) == 0
    assert "running 'demo'" in capsys.readouterr().out
