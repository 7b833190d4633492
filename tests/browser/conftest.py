"""A JupyterLab server (which also serves Notebook 7) and headless Debian Chromium.

The server runs on 127.0.0.1 on a free port, without token or password, with a
temporary root dir and temporary settings; kernels use this venv's python (the
``python3`` kernelspec's ``python`` is replaced by the server's interpreter).
Screenshots and timings go to ``test-artifacts/`` at the repository root.

The page loads this checkout's build of the lab extension (``hogar_nb/labextension``,
what ``jlpm build:prod`` or the install writes) ahead of the copy that ``pip install``
put in the environment, so the tests exercise the sources next to them.
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
import pytest

from notebook_page import ARTIFACTS, BUILT_EXTENSION



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quiet_lab_settings(settings: Path) -> None:
    """No news or update toasts over the notebook, and every cell kept in the DOM.

    JupyterLab 4 windows long notebooks by default: cells out of view are detached
    and re-created while scrolling, which makes a located prompt go stale between
    two actions. The tests' notebooks are short, so they turn windowing off.
    """
    lab = settings / "@jupyterlab"
    for plugin, values in {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        target = lab / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))


#: lab extensions of packages the project has stopped depending on; an environment
#: made before may still hold them, a fresh install does not
_DROPPED = {"ipycytoscape": "jupyter-cytoscape"}


def _as_freshly_installed(config: Path, served: Path, first: list[Path]) -> list[str]:
    """Serve only the lab extensions a fresh install has: those of the environment,
    without the ones of packages that ``pyproject.toml`` no longer names (JupyterLab
    loads the module of every extension it finds, even a disabled one). ``served``
    becomes a directory of links to them (from the directories ``first``, then the
    environment's), which the servers that ``config`` configures use alone; returns
    the extensions left out."""
    import tomllib

    from jupyter_core.paths import jupyter_path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    wanted = " ".join([*project["dependencies"], *sum(project["optional-dependencies"].values(), [])])
    dropped = {ext for package, ext in _DROPPED.items() if package not in wanted}
    served.mkdir(parents=True, exist_ok=True)
    for root in [*first, *map(Path, jupyter_path("labextensions"))]:
        for package in [*root.glob("*/package.json"), *root.glob("@*/*/package.json")]:
            name = package.parent.relative_to(root).as_posix()
            link = served / name
            if name in dropped or link.exists() or link.is_symlink():
                continue  # left out, or a directory earlier on the path has it
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(package.parent, target_is_directory=True)
    paths = {"labextensions_path": [str(served)]}
    config.mkdir(parents=True, exist_ok=True)
    for name in ("jupyter_server_config.json", "jupyter_lab_config.json", "jupyter_notebook_config.json"):
        (config / name).write_text(json.dumps({"LabApp": paths, "JupyterNotebookApp": paths}))
    return sorted(dropped)


class JupyterServer:
    def __init__(self, root: Path, url: str, proc: subprocess.Popen, log: Path) -> None:
        self.root, self.url, self.proc, self.log = root, url, proc, log

    def write_notebook(self, name: str, cells: list[str]) -> str:
        """Write a notebook of code cells into the root dir; returns its name."""
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, self.root / name)
        return name


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyter")
    root, settings, workspaces = base / "root", base / "settings", base / "workspaces"
    for d in (root, settings, workspaces):
        d.mkdir()
    _quiet_lab_settings(settings)
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "udgl-jupyter-server.log"
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(base / "config"),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "PYTHONUNBUFFERED": "1"}
    if (BUILT_EXTENSION / "package.json").exists():
        # the first labextensions directory that has an extension wins
        data = base / "data"
        (data / "labextensions").mkdir(parents=True)
        (data / "labextensions" / "hogar_nb").symlink_to(BUILT_EXTENSION, target_is_directory=True)
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(data), os.environ.get("JUPYTER_PATH")]))
    first = [base / "data" / "labextensions"] if (base / "data").exists() else []
    _as_freshly_installed(base / "config", base / "served" / "labextensions", first)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
           f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
           f"--LabApp.workspaces_dir={workspaces}"]
    if os.geteuid() == 0:  # containers and CI often run as root
        cmd.append("--allow-root")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"JupyterLab did not start; see {log}:\n{log.read_text()[-2000:]}")
        time.sleep(0.3)
    yield JupyterServer(root, url, proc, log)
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
