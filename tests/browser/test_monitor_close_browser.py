"""A live dashboard names every trace in its legends, and closing it (its Close button
or ``dash.close()``) removes it from the page without widget errors in the browser
console ("no comm channel defined"), also when it is closed while its widgets still
start in the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from notebook_page import ARTIFACTS, open_notebook, run_cells

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

HERE = Path(__file__).resolve().parents[1] / "monitor"  # monitor_helpers lives there

CELLS = [
    f"%load_ext hogar_nb\nimport sys\nsys.path.insert(0, {str(HERE)!r})\nimport monitor_helpers as h\n"
    "dep = h.start(sample_interval=0.25)\nfor i in range(20):\n    dep.call(i)\n"
    "dash = dep.monitor(interval=0.5, window=60)",
    "dash.close(); print('closed')",
    # shown and closed at once: the page still starts its widgets when the close comes
    "dashes = [dep.monitor(interval=0.5, window=60) for _ in range(3)]\nfor d in dashes:\n    d.close()\n"
    "print('closed at once')",
    # every widget of those is closed by now or soon (once its view started, or after a
    # grace period); the page gets the closes before this cell's output
    "import time\nfrom hogar_nb.jupyter.monitor.dashboard import _descendants\nend = time.monotonic() + 30\n"
    "while time.monotonic() < end and any(w.comm is not None for d in dashes for w in _descendants(d)):\n"
    "    time.sleep(0.1)\nprint('widgets closed:', all(w.comm is None for d in dashes for w in _descendants(d)))",
    "dep.stop(); print('stopped')",
]


def test_dashboard_names_its_traces_and_closes_without_widget_errors(jupyter_server, page) -> None:
    name = jupyter_server.write_notebook("monitor_close.ipynb", CELLS)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    open_notebook(page, f"{jupyter_server.url}/lab/tree/{name}")
    run_cells(page, 0, 1)
    page.wait_for_function("() => document.querySelectorAll('.hogar-monitor .hogar-panel').length >= 6",
                           timeout=90_000)
    page.wait_for_function("() => /live · \\d+ requests/.test(document.body.innerText)", timeout=30_000)
    # a panel is drawn once it is in view: bring each one in and wait for its drawing
    for i in range(6):
        page.locator(".hogar-monitor .hogar-panel").nth(i).scroll_into_view_if_needed()
        page.wait_for_function("(i) => document.querySelectorAll('.hogar-monitor .hogar-panel')[i]"
                               ".querySelector('.main-svg') !== null", arg=i, timeout=60_000)
    legends = page.evaluate("""() => [...document.querySelectorAll('.hogar-monitor .js-plotly-plot')].map(
        p => [...p.querySelectorAll('.legend .traces .legendtext')].map(t => t.textContent))""")
    (ARTIFACTS / "monitor-legends.json").write_text(json.dumps(legends))
    page.locator(".hogar-monitor").screenshot(path=str(ARTIFACTS / "monitor-legends.png"))
    assert [t for panel in legends for t in panel if re.fullmatch(r"trace \d+", t)] == [], legends
    assert any("queued (all)" in panel for panel in legends) and any("end-to-end" in panel for panel in legends)

    run_cells(page, 1, 1)
    page.get_by_text("closed", exact=True).wait_for()
    page.wait_for_function("() => document.querySelectorAll('.hogar-monitor').length === 0", timeout=30_000)
    run_cells(page, 2, 1)
    page.get_by_text("closed at once", exact=True).wait_for()
    page.wait_for_function("() => document.querySelectorAll('.hogar-monitor').length === 0", timeout=30_000)
    run_cells(page, 3, 1)
    page.get_by_text("widgets closed: True", exact=True).wait_for()
    run_cells(page, 4, 1)  # a round trip after the closes: late view messages arrive before it
    page.get_by_text("stopped", exact=True).wait_for()
    (ARTIFACTS / "monitor-close-console.txt").write_text("\n".join(console))
    bad = [m for m in console if "comm" in m.lower() or m.startswith(("error", "pageerror"))]
    assert bad == [], bad
