"""The waterfall of a trace, drawn by Plotly in headless Chromium: one bar per span, rows
nested by parent, a failed attempt in red, the attributes on hover."""

from __future__ import annotations

from pathlib import Path

import pytest

import hogar_nb
from hogar_nb.jupyter.trace_view import COLOURS
from tests.runtime.conftest import chain

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

FAST_RESTART = {"policy": "restart", "max_restarts": 1000, "backoff_ms": 1.0}


def test_a_retried_requests_waterfall_in_chromium(browser, tmp_path: Path, no_leaks) -> None:
    import hogar_nb.jupyter  # noqa: F401  (registers the views)

    doc = chain("tests.runtime.impls:double", "tests.runtime.impls:inc", recovery=FAST_RESTART, retries=2)
    with hogar_nb.run(doc) as dep:
        dep.enable_tracing(export=False)
        dep.inject_fault("n0", "crash", count=1)
        fut = dep.submit(20)
        assert fut.result(30) == 41
        trace = dep.trace(fut.context.trace_id, wait=10)
        fig = dep.waterfall(fut.context.trace_id)
    spans = trace["spans"]
    assert sorted(s["name"] for s in spans if s["kind"] == "attempt") == ["n0 attempt 0", "n0 attempt 1",
                                                                          "n1 attempt 0"]
    page = browser.new_page()
    try:
        path = tmp_path / "waterfall.html"
        path.write_text(fig.to_html(include_plotlyjs=True, full_html=True), encoding="utf-8")
        page.goto(path.as_uri())
        page.wait_for_selector(".barlayer .point path")
        bars = page.locator(".barlayer .point path")
        assert bars.count() == len(spans)
        ticks = page.locator(".ytick text").all_text_contents()
        names = [t.replace("\u2003", "") for t in ticks]
        # the crashed attempt has no wait of its own (its replica never said when it took it)
        assert names[:6] == ["g src", "n0", "n0 attempt 0", "n0 queue", "n0 attempt 1", "n1"], names
        assert names[-1] == "n1 attempt 0" and len(names) == len(spans), names
        depth = {t.replace("\u2003", ""): len(t) - len(t.lstrip("\u2003")) for t in ticks}
        assert depth["n0"] == depth["n1"] == 1
        assert depth["n0 attempt 0"] == depth["n0 attempt 1"] == depth["n0 queue"] == 2
        red = page.locator(f'.barlayer .point path[style*="{_rgb(COLOURS["failed"][0])}"]')
        assert red.count() == 1  # the crashed attempt
        red.first.hover(force=True)
        hover = page.locator(".hoverlayer .hovertext").first
        hover.wait_for()
        text = hover.text_content() or ""
        assert "n0 attempt 0" in text and "hogar.outcome: crash" in text
    finally:
        page.close()


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"
