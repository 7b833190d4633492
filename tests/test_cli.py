"""The `hogar` command line, driven as a user would."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from hogar_nb.cli import main

CASES = Path(__file__).parent / "core" / "cases"
DESIGN = CASES / "valid" / "design_example.udgl"


def test_check_ok(capsys, tmp_path) -> None:
    (tmp_path / "shop.py").write_text("def double(x):\n    return 2 * x\n")
    graph = tmp_path / "g.udgl"
    graph.write_text('source s\npython f { impl = "shop:double" }\nsink out\ns -> f -> out\n')
    assert main(["check", str(graph)]) == 0
    assert capsys.readouterr().out == f"{graph}: ok (3 nodes, 2 edges)\n"


def test_check_says_what_serve_would_before_starting(capsys) -> None:
    # the design brief's example is valid UDGL whose modules and artifacts do not exist here
    assert main(["check", str(DESIGN)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{DESIGN}: valid (9 nodes, 11 edges), but it would not start: 5 problems\n"
    assert f"{DESIGN}:10:11: warning[W040]: it would not start: node 'features': cannot import module 'fraud.features'" in err
    assert "model node 'xgb': artifact" in err and "does not exist" in err
    assert main(["check", "--strict", str(DESIGN)]) == 1


def test_check_json_lists_every_diagnostic_for_tools(capsys) -> None:
    assert main(["check", "--json", str(DESIGN)]) == 0
    out, err = capsys.readouterr()
    found = json.loads(out)
    unready = [d for d in found if d["code"] == "W040"]
    assert len(unready) == 5 and err == ""
    assert {"node": "features", "line": 10, "column": 11, "severity": "warning"}.items() <= unready[0].items()
    assert main(["check", "--json", "--strict", str(DESIGN)]) == 1
    capsys.readouterr()


def test_check_reports_errors_in_compiler_format(capsys) -> None:
    path = CASES / "invalid" / "unknown_node.udgl"
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{path}:4:11: error[E011]: unknown node `featurs`"
    assert err[1] == "   4 | ingest -> featurs -> out"
    assert err[2] == "     |           ^^^^^^^"
    assert err[3] == "     = hint: did you mean `features`?"
    assert err[-1] == "1 error"


def test_check_missing_file_is_a_clear_error(capsys, tmp_path) -> None:
    assert main(["check", str(tmp_path / "nope.udgl")]) == 2
    assert capsys.readouterr().err.startswith(f"hogar: error: cannot read {tmp_path / 'nope.udgl'}: ")


def test_check_non_utf8_file(capsys, tmp_path) -> None:
    path = tmp_path / "bad.udgl"
    path.write_bytes(b"source in\nsink out \xff\xfe\nin -> out\n")
    assert main(["check", str(path)]) == 1
    assert f"{path}:2:10: error[E004]: the file is not valid UTF-8 (byte 0xff)" in capsys.readouterr().err


def test_compile_yaml_and_json_agree_and_validate(tmp_path, capsys) -> None:
    out_yaml, out_json = tmp_path / "g.yaml", tmp_path / "g.json"
    assert main(["compile", str(DESIGN), "-o", str(out_yaml)]) == 0
    assert main(["compile", str(DESIGN), "-o", str(out_json)]) == 0
    doc = yaml.safe_load(out_yaml.read_text())
    assert doc == json.loads(out_json.read_text())
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, schema)
    assert doc["earg"] == 1 and doc["name"] == "fraud_scoring"


def test_compile_param_override(capsys) -> None:
    assert main(["compile", str(DESIGN), "--param", "threshold=0.95", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == {"threshold": 0.95}


def test_compile_is_deterministic(capsys) -> None:
    main(["compile", str(DESIGN)])
    first = capsys.readouterr().out
    main(["compile", str(DESIGN)])
    assert capsys.readouterr().out == first


def test_compiled_earg_checks_and_recompiles(tmp_path, capsys) -> None:
    earg = tmp_path / "g.yaml"
    main(["compile", str(DESIGN), "-o", str(earg)])
    assert main(["check", str(earg)]) == 0
    capsys.readouterr()
    main(["compile", str(earg)])
    assert capsys.readouterr().out == earg.read_text()


def test_analyze_prints_bottleneck_and_placement(capsys) -> None:
    assert main(["analyze", str(CASES / "valid" / "every_construct.udgl")]) == 0
    out = capsys.readouterr().out
    assert "bottleneck" in out and "worker-0" in out
    assert main(["analyze", "--json", str(DESIGN)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stages"][0] == ["ingest"]


def test_fmt_prints_check_and_write(tmp_path, capsys) -> None:
    path = tmp_path / "g.udgl"
    path.write_text("source in\nsink    out\nin->out\n")
    assert main(["fmt", "--check", str(path)]) == 1
    assert main(["fmt", "--write", str(path)]) == 0
    assert path.read_text() == "source in\nsink   out\nin -> out\n"
    assert main(["fmt", "--check", str(path)]) == 0
    commented = tmp_path / "c.udgl"
    commented.write_text("# keep me\nparam w=$x\nsource in   # entry\nsink out\nin -> out {when=$w}\n")
    assert main(["fmt", "--write", str(commented)]) == 1  # the text is checked first
    commented.write_text("# keep me\nparam share = 40%\nsource in   # entry\nsplit s\nsink out\npython b {impl=\"m:b\"}\n"
                         "in->s\ns -> out {weight=$share}\ns -> b {weight = 60%}\nb->out\n")
    assert main(["fmt", "--write", str(commented)]) == 0
    assert commented.read_text() == (
        '# keep me\nparam share = 40%\nsource in  # entry\nsplit  s\nsink   out\npython b   { impl = "m:b" }\n'
        "in -> s\ns -> out { weight = $share }\ns -> b { weight = 60% }\nb -> out\n")
    assert main(["check", str(commented), "--param", "share=50%"]) == 1  # the reference survived


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["compile"])
    assert info.value.code == 2
    assert main(["compile", str(DESIGN), "--param", "oops"]) == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err


def test_console_script_runs() -> None:
    exe = shutil.which("hogar", path=str(Path(sys.executable).parent))
    assert exe, "the hogar console script is installed with the package"
    proc = subprocess.run([exe, "check", str(DESIGN)], capture_output=True, text=True)
    assert proc.returncode == 0 and "valid (9 nodes" in proc.stdout


@pytest.mark.parametrize("argv", [["schema"], ["compile", str(DESIGN)], ["fmt", str(DESIGN)], ["analyze", str(DESIGN)]])
def test_piped_into_head_exits_quietly(argv) -> None:
    exe = shutil.which("hogar", path=str(Path(sys.executable).parent))
    hogar = subprocess.Popen([exe, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    hogar.stdout.read(1)  # `| head -c 1`: read a little, then go away
    hogar.stdout.close()
    err = hogar.stderr.read().decode()
    code = hogar.wait(timeout=60)
    assert err == "" and code in (0, 141)


def test_check_of_an_endless_file_is_a_clear_error(capsys) -> None:
    assert main(["check", "/dev/zero"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("/dev/zero: error[E007]: the input is over the 10 MiB limit of a graph file\n")
    assert "Traceback" not in err


def test_unnamed_graph_is_named_after_the_file(tmp_path, capsys) -> None:
    path = tmp_path / "ctr-model.udgl"
    path.write_text("source in\nsink out\nin -> out\n")
    assert main(["compile", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "ctr_model"
    assert main(["fmt", str(path)]) == 0
    assert not capsys.readouterr().out.startswith("graph")  # no header that was not there
    import hogar_nb

    with hogar_nb.run(path) as dep:  # what `hogar run` and `hogar serve` start
        assert dep.name == "ctr_model"
