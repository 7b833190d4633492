"""The dashboard's "Model quality" group: drift heat strips and quality lines drawn
from a served model's quality monitor."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import hogar_nb
from hogar_nb.jupyter.monitor import Dashboard, DeploymentSource, report

GRAPH = """graph iris
source score
model clf { impl = "iris.joblib", reference = "train.csv", drift_window = 200, feedback = true }
sink out
score -> clf -> out
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("iris")
    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1_000).fit(x, y), path / "iris.joblib")
    (path / "train.csv").write_text("a,b,c,d\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in x) + "\n")
    return path


def test_drift_strips_and_quality_lines_follow_the_monitor(folder: Path) -> None:
    x, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(51)
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH), base_dir=folder) as dep:
        monitor = dep.quality_monitor()
        for shift in (0.0, 2.0):
            picks = rng.integers(0, len(x), 200)
            rows = np.round(x[picks] + rng.normal(0, 0.05, (200, 4)), 3)
            rows[:, 2] += shift * x[:, 2].std()
            futures = [dep.submit(r) for r in rows.tolist()]
            monitor.feedback([(f.context.request_id, int(t)) for f, t in zip(futures, y[picks]) if f.result() >= 0])
            monitor.evaluate()
        dash = Dashboard(DeploymentSource(dep), start=False)
        assert dash.quality is not None and dash.quality.box in dash.children
        dash.refresh()
        strip = dash.quality.drift.data[0]
        assert list(strip.y) == ["a", "b", "c", "d"]
        assert len(strip.x) == 2 and all(t <= 0 for t in strip.x)
        assert strip.z[2][0] < 0.2 < strip.z[2][1]  # feature c: calm, then shifted
        assert all(row[1] < 0.2 for i, row in enumerate(strip.z) if i != 2)
        line = dash.quality.quality.data[0]
        assert line.name == "clf accuracy"
        assert line.y[-1] == dep.quality()["nodes"]["clf"]["quality"]["accuracy"]
        dash.close()
        rep = report(dep, display=False)
        assert rep is not None and {"drift", "quality"} <= set(rep.figures)
        assert rep.figures["drift"].data[0].type == "heatmap"
        assert list(rep.figures["drift"].data[0].y) == ["a", "b", "c", "d"]
        assert "Model quality" in rep.figures["quality"].layout.title.text
        bundles = rep.bundles()  # the saved pictures: the strip and the line are drawn
        pictures = {b["text/plain"]: b["text/html"] for b in bundles[1:]}
        assert pictures["<drift panel>"].startswith('<img class="hogar-report-panel"')
        strip = Image.open(io.BytesIO(base64.b64decode(pictures["<drift panel>"].split("base64,")[1].split('"')[0])))
        reds = sum(n for n, (r, g, b) in strip.convert("RGB").getcolors(1_000_000) or ()
                   if r > 100 and g < 60 and b < 80)
        assert reds > 100  # the shifted feature's cells, deep red


def test_a_graph_without_quality_has_no_group(folder: Path) -> None:
    graph = hogar_nb.parse_udgl('source a\nmodel m { impl = "iris.joblib" }\nsink b\na -> m -> b\n')
    with hogar_nb.run(graph, base_dir=folder) as dep:
        dash = Dashboard(DeploymentSource(dep), start=False)
        assert dash.quality is None
        dash.refresh()
        dash.close()
