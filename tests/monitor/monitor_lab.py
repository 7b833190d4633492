"""A minimal JupyterLab server + headless Chromium for the monitor's browser test.

127.0.0.1, random port, no token, temporary root and settings. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab: ``url``, ``root``; :meth:`stop` ends it."""

    def __init__(self, base: Path) -> None:
        self.root = base / "root"
        settings = base / "settings"
        for d in (self.root, settings, base / "workspaces"):
            d.mkdir(parents=True, exist_ok=True)
        note = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = ARTIFACTS / "monitor-jupyter-server.log"
        port = _free_port()
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(base / "config"),
               "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
               "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
               f"--ServerApp.root_dir={self.root}", f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={base / 'workspaces'}"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.root)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"JupyterLab did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.3)

    def write_notebook(self, name: str, cells: list[str]) -> str:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, self.root / name)
        return name

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def open_notebook(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator, .jp-KernelStatus')]
               .some(e => /idle/i.test(e.getAttribute('data-status') || e.getAttribute('title') || e.textContent))""",
        timeout=90_000)


def run_cell(page, index: int, attempts: int = 4) -> None:
    """Select cell ``index`` and run it (Shift+Enter), until its prompt shows it ran.

    Right after the kernel reports idle a request can still be dropped, so the key
    press is repeated (a few times at most) while the prompt stays ``[ ]``.
    """
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(attempts):
        prompt.click()
        page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            if any(c.isdigit() or c == "*" for c in prompt.inner_text()):
                return
            time.sleep(0.1)
    raise AssertionError(f"cell {index} did not start running")
