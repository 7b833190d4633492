"""nbclient runs notebooks/03_run_and_recover.ipynb: the dashboard is shown, the injected
fault turns `scorer` red, and the static report lands in the saved outputs."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.notebooks, pytest.mark.timeout(180)]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_run_and_recover.ipynb"


def _outputs(nb, needle: str) -> list:
    cells = [c for c in nb.cells if c.cell_type == "code" and needle in c.source]
    assert len(cells) == 1, needle
    return cells[0].outputs


def test_run_and_recover_notebook_monitors_a_fault(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []

    shown = _outputs(nb, "shop_dep.monitor(")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in shown)

    fault = _outputs(nb, 'inject_fault("scorer", kind="error"')
    assert "scorer: failing" in "".join(o.get("text", "") for o in fault)

    report = _outputs(nb, "shop_dep.report()")
    data = [o["data"] for o in report if o.output_type == "display_data"]
    header = data[0]["text/html"]
    picture = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', header).group(1)).decode()
    assert "<svg" in picture and "scorer" in picture and "failing" in header
    plots = [d for d in data if "application/vnd.plotly.v1+json" in d]
    assert len(plots) == 6
    # seen without JavaScript too, as a picture in HTML (an image/png would be shown by
    # Plotly's JupyterLab renderer in place of the interactive chart)
    assert all(d["text/html"].startswith("<img") and "image/png" not in d for d in plots)
    latency = next(d["application/vnd.plotly.v1+json"] for d in plots
                   if "Latency" in d["application/vnd.plotly.v1+json"]["layout"]["title"]["text"])
    sampled = [t for t in latency["data"] if any(y is not None for y in t.get("y", ()))]
    assert sampled and all("markers" in t["mode"] for t in sampled)  # lone samples are drawn
    errors_fig = next(d["application/vnd.plotly.v1+json"] for d in plots
                      if "Errors" in d["application/vnd.plotly.v1+json"]["layout"]["title"]["text"])
    bars = {t["name"]: dict(zip(t["x"], t["y"])) for t in errors_fig["data"]}
    assert bars["error"]["scorer"] > 0
    nbformat.validate(nb)  # the executed notebook, with the report, is a valid file to share
