"""Whether an uploaded graph would start under ``hogar serve``: ``hogar check --json`` run in
a child process set up as the server's would be (a folder of its own, the console's
environment), so the console says what ``hogar serve`` would, with the runtime's own check
before start, without importing a graph's impls or the runtime into its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["READINESS_CODE", "startup_warnings"]

#: the code ``hogar check`` gives each reason a valid graph would not start
READINESS_CODE = "W040"


def _warning(message: str) -> dict:
    return {"code": READINESS_CODE, "severity": "warning", "message": message, "line": None, "column": None,
            "hint": "the console checks this on upload; hogar serve checks it again before it starts"}


def startup_warnings(data: bytes, fmt: str, timeout: float = 60.0) -> list[dict]:
    """The check before start's warnings (as stored with a version) for an upload in ``fmt``
    (udgl or earg) that passed :func:`~hogar_nb.console.uploads.check_upload`."""
    with tempfile.TemporaryDirectory(prefix="hogar-readiness-") as folder:
        upload = Path(folder) / ("graph.udgl" if fmt == "udgl" else "graph.yaml")
        upload.write_bytes(data)
        env = {k: v for k, v in os.environ.items() if k != "HOGAR_ADMIN_TOKEN"}
        try:
            done = subprocess.run([sys.executable, "-m", "hogar_nb", "check", "--json", str(upload)],
                                  cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return [_warning(f"the check before start did not finish in {timeout:g} s (an impl that "
                             "takes this long to import delays hogar serve's start too)")]
        try:  # the last line: an impl may print while it is imported
            found = json.loads((done.stdout.strip().splitlines() or ["?"])[-1])
        except ValueError:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return [_warning(f"the check before start could not run: {last}")]
        return [d for d in found if isinstance(d, dict) and d.get("code") == READINESS_CODE]
