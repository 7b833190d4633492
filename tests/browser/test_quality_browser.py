"""In JupyterLab with headless Chromium: a watched model's dashboard shows the Model
quality group, its drift strip turning red on the shifted feature and its quality line."""

from __future__ import annotations

import time

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

CELLS = [
    """\
%load_ext hogar_nb
import tempfile, pathlib, joblib, numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
import hogar_nb
folder = pathlib.Path(tempfile.mkdtemp())
x, y = load_iris(return_X_y=True)
joblib.dump(LogisticRegression(max_iter=1000).fit(x, y), folder / "iris.joblib")
(folder / "train.csv").write_text("a,b,c,d\\n" + "\\n".join(",".join(map(str, r)) for r in x) + "\\n")
graph = hogar_nb.parse_udgl('''graph iris
source score
model clf { impl = "iris.joblib", reference = "train.csv", drift_window = 200, feedback = true }
sink out
score -> clf -> out
''')
dep = hogar_nb.run(graph, base_dir=folder)
rng = np.random.default_rng(3)
for shift in (0.0, 2.0):
    picks = rng.integers(0, 150, 200)
    rows = np.round(x[picks] + rng.normal(0, 0.05, (200, 4)), 3)
    rows[:, 2] += shift * x[:, 2].std()
    futures = [dep.submit(r) for r in rows.tolist()]
    dep.quality_monitor().feedback([(f.context.request_id, int(t)) for f, t in zip(futures, y[picks]) if f.result() >= 0])
    dep.quality_monitor().evaluate()
dash = dep.monitor(interval=0.5, window=60)
""",
    "dash.close(); dep.stop()",
]

_QUALITY = """() => {
  const plots = document.querySelectorAll('.hogar-quality .js-plotly-plot');
  if (plots.length < 2) return null;
  const strip = plots[0].data && plots[0].data[0];
  const line = plots[1].data && plots[1].data[0];
  if (!strip || !strip.z || !line) return null;
  return {type: strip.type, features: strip.y, z: strip.z, line: line.name, points: (line.y || []).length,
          cells: plots[0].querySelectorAll('.heatmaplayer image, .hm image, image').length};
}"""


def poll(read, cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if cond(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        time.sleep(0.1)


def test_the_model_quality_group_renders(jupyter_server, page):
    name = jupyter_server.write_notebook("quality.ipynb", CELLS)
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, 1)
    page.wait_for_selector(".hogar-quality .hogar-panel", timeout=120_000)
    # the group is under the system panels: a panel is drawn once it is in view
    page.locator(".hogar-quality").scroll_into_view_if_needed()
    shown = poll(lambda: page.evaluate(_QUALITY), lambda v: v is not None and len(v["z"]) == 4
                 and len(v["z"][0]) >= 2, 120, "the Model quality group to draw")
    page.screenshot(path=str(ARTIFACTS / "quality-group.png"), full_page=True)
    assert shown["type"] == "heatmap" and list(shown["features"]) == ["a", "b", "c", "d"]
    assert shown["z"][2][-1] > 0.2 and all(row[-1] < 0.2 for i, row in enumerate(shown["z"]) if i != 2)
    assert shown["line"] == "clf accuracy" and shown["points"] >= 1
    assert shown["cells"] >= 1  # Plotly drew the strip as an image layer
    run_cells(page, 1, 1)
