"""Hovering a node's name in the editor shows its types: the extension's hover helpers
(run under Node, as built) on the types the lint endpoint answers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from hogar_nb.jupyter.server.service import lint

ROOT = Path(__file__).resolve().parents[2]
LABEXT = ROOT / "labextension"

TEXT = ('use prep = "blocks/prep.udgl"\nsource ingest { input = float32[n, 4] }\n'
        'python f { impl = "m:f", output = int64[n] }\nsink out\ningest -> f -> out\n')


def test_hovering_a_node_name_shows_what_lint_inferred() -> None:
    node = shutil.which("node")
    assert node, "Node.js is missing: `make install` installs it"
    assert (LABEXT / "lib" / "hover.js").exists(), "the extension is not built: run `make install`"
    types = lint(TEXT.split("\n", 1)[1])["types"]
    lines = TEXT.split("\n")
    cases = [[lines[4], 1, types], [lines[4], 11, types], [lines[4], 16, types], [lines[2], 0, types],
             ["a -> prep.clean", 9, {"prep.clean": {"input": "float32[n, 4]"}}], ["   ", 1, types]]
    out = subprocess.run([node, str(Path(__file__).with_name("hover_types.mjs")), str(LABEXT)],
                         input=json.dumps(cases), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        ["ingest", "takes float32[n, 4], gives float32[n, 4]"],
        ["f", "takes float32[n, 4], gives int64[n]"],
        ["out", "takes int64[n], gives int64[n]"],
        ["python", None],
        ["prep.clean", "takes float32[n, 4]"],
        None,
    ]
