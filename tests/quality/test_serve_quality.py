"""`hogar serve` of a graph with a reference and feedback, as a user runs it: drift
and quality over HTTP, and labels that arrive after a restart still find the
predictions the first process served (the store is a file beside the graph)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import iris_traffic

ROOT = Path(__file__).resolve().parents[2]
GRAPH = """graph iris_served
source score { route = "/score" }
model clf { impl = "iris.joblib", reference = "train.csv", drift_window = 100, feedback = true }
sink out
score -> clf -> out
alert drifted { when = drift_share(clf) >= 0.25 }
"""


def _serve(folder: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HOGAR_ADMIN_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "hogar_nb", "serve", str(folder / "iris.udgl"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=folder)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line:
        proc.kill()
        raise AssertionError(f"hogar serve printed nothing: {proc.communicate()[1]}")
    return proc, line.split()[-1]


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return err


def test_served_drift_quality_and_labels_across_a_restart(iris_dir: Path, tmp_path: Path) -> None:
    for name in ("iris.joblib", "train.csv"):
        shutil.copy(iris_dir / name, tmp_path / name)
    (tmp_path / "iris.udgl").write_text(GRAPH)
    proc, url = _serve(tmp_path)
    try:
        served = []
        for row in iris_traffic(100, seed=61, shift={3: 2.0}).tolist():
            r = httpx.post(url + "/score", json=row)
            assert r.status_code == 200
            served.append((r.headers["x-request-id"], r.json()))
        def evaluated() -> dict | None:  # drift computed over all 100 rows
            node = httpx.get(url + "/hogar/v1/quality").json()["nodes"]["clf"]
            return node if node["features"] and node["features"][0]["count"] == 100 else None

        while (node := evaluated()) is None:
            time.sleep(0.1)
        assert node["drifted"] == ["petal_width"]
        first_half = [{"request_id": rid, "label": answer} for rid, answer in served[:50]]
        assert httpx.post(url + "/hogar/v1/feedback", json=first_half).json()["matched"] == 50
        while "firing" not in [e["action"] for e in httpx.get(url + "/hogar/v1/events").json()]:
            time.sleep(0.1)
        metrics = httpx.get(url + "/metrics").text
        assert 'hogar_drift_score{feature="petal_width",graph="iris_served",metric="psi",node="clf"}' in metrics
        assert 'hogar_drift_pvalue{feature="petal_width",graph="iris_served",metric="ks",node="clf"}' in metrics
    finally:
        err = _stop(proc)
    assert "Traceback" not in err
    assert (tmp_path / ".hogar" / "iris_served.feedback.sqlite").is_file()
    proc, url = _serve(tmp_path)  # the same graph again: the labels of the rest arrive late
    try:
        rest = [{"request_id": rid, "label": answer} for rid, answer in served[50:]]
        assert httpx.post(url + "/hogar/v1/feedback", json=rest).json()["matched"] == 50
        while (q := httpx.get(url + "/hogar/v1/quality").json()["nodes"]["clf"]["quality"]).get("labelled", 0) < 100:
            time.sleep(0.1)
        assert q["accuracy"] == 1.0  # each label is the answer it was given
    finally:
        assert "Traceback" not in _stop(proc)
