"""A saved notebook with a monitor report, reopened: the graph picture and the six
charts show in JupyterLab, in Notebook 7 (both treat it as untrusted, so their HTML
sanitizer runs) and in nbconvert's static HTML, in headless Chromium; where Plotly
renders (JupyterLab, Notebook 7) the charts are interactive, latency samples drawn."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from notebook_page import ARTIFACTS, open_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

HERE = Path(__file__).resolve().parents[1] / "monitor"  # monitor_helpers lives there

CELLS = [
    f"%load_ext hogar_nb\nimport sys\nsys.path.insert(0, {str(HERE)!r})\nimport monitor_helpers as h\n"
    "dep = h.start(sample_interval=0.1)",
    "for i in range(40):\n    dep.call(i)\n"
    "dep.inject_fault('n1', 'error', rate=1.0)\n"
    "for i in range(10):\n    try:\n        dep.call(i)\n    except Exception:\n        pass",
    "dep.report()",
    "dep.stop()",
]

# in the report's cell: the graph picture (loaded), and each chart as Plotly or as a picture
_SHOWN = """() => {
  const cell = [...document.querySelectorAll('.jp-Cell')].find(c => c.innerText.includes('HOGAR monitor:'));
  if (!cell) return null;
  const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')];
  const graph = outputs[0].querySelector('img');
  const charts = outputs.slice(1).filter(o => o.querySelector('.js-plotly-plot .main-svg') ||
                                               [...o.querySelectorAll('img')].some(i => i.naturalWidth > 100));
  // JupyterLab puts the output class on the renderer's own node, the plot itself
  const plots = outputs.slice(1).map(o => o.matches('.js-plotly-plot') ? o : o.querySelector('.js-plotly-plot'));
  // drawn marks of the latency chart: its line segments and markers
  const latency = plots.find(p => p && p.layout && /Latency/.test(p.layout.title.text));
  const marks = latency ? latency.querySelectorAll('.scatterlayer .points path, .scatterlayer .js-line').length : 0;
  return {graph: graph ? graph.naturalWidth : 0, charts: charts.length, text: outputs[0].innerText.slice(0, 200),
          interactive: plots.filter(p => p && p.querySelector('.main-svg')).length, latency_marks: marks};
}"""

_STATIC = """() => {
  const graph = [...document.images].find(i => (i.getAttribute('src') || '').startsWith('data:image/svg+xml'));
  const charts = [...document.images].filter(i => (i.getAttribute('src') || '').startsWith('data:image/png')
                                                 && i.naturalWidth > 100);
  return {graph: graph ? graph.naturalWidth : 0, charts: charts.length};
}"""


def _wait_shown(page, script: str) -> dict:
    page.wait_for_function(f"() => {{ const s = ({script})(); return !!s && s.graph > 0 && s.charts >= 6; }}",
                           timeout=60_000, polling=200)
    return page.evaluate(script)


def test_saved_report_shows_its_pictures_in_lab_notebook7_and_nbconvert(jupyter_server, page, tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    nbformat.write(nb, jupyter_server.root / "report_saved.ipynb")  # unsigned: opened as untrusted

    found = {}
    for frontend, url in (("lab", f"{jupyter_server.url}/lab/tree/report_saved.ipynb"),
                          ("notebook7", f"{jupyter_server.url}/notebooks/report_saved.ipynb")):
        open_notebook(page, url)
        found[frontend] = _wait_shown(page, _SHOWN)
        assert "inline node" not in found[frontend]["text"]  # the picture, not its text
        # Plotly renders here: every chart is interactive (not a picture until hovered),
        # and the latency chart draws its samples
        page.wait_for_function(f"() => ({_SHOWN})().interactive >= 6", timeout=60_000, polling=200)
        found[frontend] = page.evaluate(_SHOWN)
        assert found[frontend]["latency_marks"] > 0, found[frontend]
        page.screenshot(path=str(ARTIFACTS / f"report-saved-{frontend}.png"), full_page=True)

    html = HTMLExporter().from_notebook_node(nb)[0]
    static = tmp_path / "report_saved.html"
    static.write_text(html)
    page.goto(static.as_uri())
    found["nbconvert"] = _wait_shown(page, _STATIC)
    page.screenshot(path=str(ARTIFACTS / "report-saved-nbconvert.png"), full_page=True)
    (ARTIFACTS / "report-saved.json").write_text(json.dumps(found, indent=1))
