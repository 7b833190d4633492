"""Editor lint speed: the round trip of ``POST /hogar-nb/lint`` on a real Jupyter
server for generated graphs of 10, 300 and 5,000 nodes, one value changed between two
lints as while typing, side by side with the same lint called in-process (the HTTP
share is the difference), and the time from a
keystroke to the underline in JupyterLab (headless Chromium) for a 300-node
``%%udgl`` cell, side by side with the lint delay the editor waits by design.

Targets: endpoint p50 under 50 ms at 300 nodes; keystroke to underline under 1 s.
Run: ``.venv/bin/python benchmarks/lint.py`` (``--no-browser`` skips the browser part).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphs import generate_udgl  # noqa: E402

from hogar_nb.jupyter.server.service import lint  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LINT_DELAY_MS = 300  # labextension/src/lint.ts: LINT_DELAY


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """``jupyter lab`` on 127.0.0.1 with a token, in a temporary root dir."""

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="hogar-lint-bench-")
        self.root = Path(self.dir.name) / "root"
        self.root.mkdir()
        self.token = secrets.token_hex(16)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": f"{self.dir.name}/config",
               "JUPYTER_RUNTIME_DIR": f"{self.dir.name}/runtime"}
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               f"--LabApp.user_settings_dir={self.dir.name}/settings",
               f"--LabApp.workspaces_dir={self.dir.name}/workspaces"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                self.post_raw("lint", b'{"text": ""}')
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("jupyter lab did not start")

    def post_raw(self, endpoint: str, body: bytes) -> bytes:
        req = urllib.request.Request(f"{self.url}/hogar-nb/{endpoint}", body, method="POST",
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.dir.cleanup()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def endpoint(lab: Lab, sizes: list[int], seconds: float) -> None:
    print(f"{'nodes':>6} {'text KiB':>8} {'runs':>5} {'in-process p50':>15} {'endpoint p50':>13} "
          f"{'endpoint p95':>13} {'HTTP share':>10}")
    for n in sizes:
        text = generate_udgl(n)
        body = json.dumps({"text": text, "cell": False}).encode()
        assert json.loads(lab.post_raw("lint", body))["errors"] == 0
        local, remote = [], []
        spots = [m.start() for m in re.finditer("latency = 5ms", text)]
        end = time.monotonic() + seconds
        while time.monotonic() < end or len(remote) < 5:
            # one value changed between two lints, as while typing (each side keeps the
            # statements it parsed before: an unchanged text would be all reused)
            at = spots[len(remote) % len(spots)]
            edited = f"{text[:at]}latency = {6 + len(remote)}ms{text[at + len('latency = 5ms'):]}"
            body = json.dumps({"text": edited, "cell": False}).encode()
            t0 = time.perf_counter()
            lint(edited)
            t1 = time.perf_counter()
            lab.post_raw("lint", body)
            t2 = time.perf_counter()
            local.append(t1 - t0)
            remote.append(t2 - t1)
        lp50, _ = _percentiles(local)
        rp50, rp95 = _percentiles(remote)
        print(f"{n:>6} {len(text) / 1024:>8.1f} {len(remote):>5} {lp50 * 1000:>12.1f} ms "
              f"{rp50 * 1000:>10.1f} ms {rp95 * 1000:>10.1f} ms {(rp50 - lp50) / rp50:>9.0%}")
    print("target: endpoint p50 < 50 ms at 300 nodes")


_MARKS = "() => document.querySelectorAll('.jp-Notebook .jp-Cell .cm-lintRange-error').length"


def keystroke(lab: Lab, nodes: int, rounds: int) -> None:
    import nbformat
    from playwright.sync_api import sync_playwright

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%%udgl bench\n" + generate_udgl(nodes))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lab.root / "bench.ipynb")
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{lab.url}/lab/tree/bench.ipynb?reset&token={lab.token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content")
        # the cell reads as UDGL once `250ms` is a single token
        page.wait_for_function("""() => [...document.querySelectorAll('.jp-Notebook .cm-line span')]
                                  .some(s => s.textContent === '250ms')""", timeout=60_000)
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.press("Control+Home")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")   # `defaults { timeout = $budget, ...`
        page.keyboard.press("End")
        page.wait_for_function(f"() => ({_MARKS})() === 0", timeout=30_000)
        for _ in range(rounds):
            page.keyboard.type("x")        # `... }x`: a syntax error on this line
            t0 = time.perf_counter()
            page.wait_for_function(f"() => ({_MARKS})() > 0", timeout=30_000, polling="raf")
            times.append(time.perf_counter() - t0)
            page.keyboard.press("Backspace")
            page.wait_for_function(f"() => ({_MARKS})() === 0", timeout=30_000, polling="raf")
        browser.close()
    p50, p95 = _percentiles(times)
    print(f"keystroke to underline, {nodes}-node cell, {rounds} edits: p50 {p50 * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms; of which the lint delay {LINT_DELAY_MS} ms "
          f"({LINT_DELAY_MS / 1000 / p50:.0%} of p50)")
    print("target: keystroke to underline < 1 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10,300,5000")
    ap.add_argument("--seconds", type=float, default=3.0, help="time spent per size")
    ap.add_argument("--rounds", type=int, default=8, help="edits timed in the browser")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    lab = Lab()
    try:
        endpoint(lab, [int(s) for s in args.sizes.split(",")], args.seconds)
        if not args.no_browser:
            keystroke(lab, 300, args.rounds)
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
