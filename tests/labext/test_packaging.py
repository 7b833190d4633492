"""`pip install` is the whole install: the prebuilt extension and the server
extension's switch land in the environment's share/ and etc/ directories."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PREFIX = Path(sys.prefix)


def test_labextension_list_shows_it_enabled_and_ok() -> None:
    out = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                         capture_output=True, text=True, check=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert re.search(r"hogar_nb v\S+ enabled OK \(python, hogar_nb\)", text), text


def test_the_wheel_data_is_installed() -> None:
    ext = PREFIX / "share" / "jupyter" / "labextensions" / "hogar_nb"
    assert json.loads((ext / "install.json").read_text())["packageName"] == "hogar_nb"
    meta = json.loads((ext / "package.json").read_text())
    assert meta["name"] == "hogar_nb" and meta["jupyterlab"]["_build"]["load"].startswith("static/")
    assert (ext / meta["jupyterlab"]["_build"]["load"]).exists()
    config = PREFIX / "etc" / "jupyter" / "jupyter_server_config.d" / "hogar_nb.json"
    assert json.loads(config.read_text()) == {"ServerApp": {"jpserver_extensions": {"hogar_nb.jupyter.server": True}}}
