"""The editor's attribute form at the window widths the editor tests use (headless
Chromium, JupyterLab): after a palette drop into a graph opened from a ``.udgl`` file,
the node's problem list sits above its fields, and the form scrolls inside its own
box: no row overlaps another or is squeezed below its field's height."""

from __future__ import annotations

import json

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells, wait_for_canvas

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

UDGL = """\
graph shop
source ingest { route = "/score" }
python featurize { impl = "svc:features", replicas = 2 }
model scorer { impl = "models/s.onnx", replicas = 3, batch = 16, batch_wait = 2ms }
sink out
ingest -> featurize -> scorer -> out
"""

CELLS = [
    f"%load_ext hogar_nb\nimport hogar_nb\nopen('shop.udgl', 'w').write({UDGL!r})",
    "editor = hogar_nb.edit('shop.udgl')\neditor",
]

# the form's box, the box it lives in, and every row of fields
_FORM = """() => {
  const form = document.querySelector('.hogar-editor-form');
  const body = form.parentElement.getBoundingClientRect();
  const box = form.getBoundingClientRect();
  const rows = [...form.querySelectorAll('.widget-hbox')].map(r => {
    const b = r.getBoundingClientRect();
    const field = r.querySelector('input, select');
    return {top: b.top, bottom: b.bottom, height: b.height,
            field: field ? field.getBoundingClientRect().height : 0};
  });
  const problems = form.querySelector('.hogar-editor-problems');
  return {body: [body.top, body.bottom], form: [box.top, box.bottom], rows,
          problems: problems ? problems.getBoundingClientRect().height : 0,
          scroll: [form.scrollHeight, form.clientHeight]};
}"""


def test_the_form_scrolls_in_its_box_and_no_row_overlaps(jupyter_server, page) -> None:
    name = jupyter_server.write_notebook("editor_form.ipynb", CELLS)
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, 2)
    wait_for_canvas(page, 0, 4)
    editor = page.locator(".hogar-graph-editor")
    editor.locator(".hogar-palette-model").click()  # a model node with no impl: problems listed
    wait_for_canvas(page, 0, 5)
    form = editor.locator(".hogar-editor-form")
    form.locator(".hogar-editor-problems").wait_for()
    form.locator(".hogar-field-replicas input").wait_for()
    found = {}
    for width in (1400, 900, 1800):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(500)
        editor.evaluate("e => e.scrollIntoView({block: 'nearest'})")
        shown = page.evaluate(_FORM)
        assert shown["problems"] > 0
        top, bottom = shown["form"]
        assert shown["body"][0] - 1 <= top and bottom <= shown["body"][1] + 1, shown  # inside its box
        rows = shown["rows"]
        assert len(rows) >= 10
        assert all(r["height"] >= r["field"] - 1 for r in rows), rows  # no row squeezed
        assert all(a["bottom"] <= b["top"] + 1 for a, b in zip(rows, rows[1:])), rows  # none overlaps
        assert shown["scroll"][0] > shown["scroll"][1]  # more than fits: it scrolls
        form.evaluate("f => { f.scrollTop = f.scrollHeight; }")
        last = form.locator(".widget-hbox").last.bounding_box()
        box = form.bounding_box()
        assert last["y"] + last["height"] <= box["y"] + box["height"] + 1  # the last row can be reached
        form.evaluate("f => { f.scrollTop = 0; }")
        editor.screenshot(path=str(ARTIFACTS / f"editor-form-{width}.png"))
        found[width] = {"rows": len(rows), "scroll": shown["scroll"]}
    (ARTIFACTS / "editor-form.json").write_text(json.dumps(found, indent=1))
