"""The dashboard's "Shadow traffic" group: the mirror's candidate beside its primary,
the figures of its own shadow monitor, drawn on refresh and closed with the dashboard."""

from __future__ import annotations

import re

import hogar_nb
from hogar_nb.jupyter.monitor import Dashboard, DeploymentSource

from monitor_helpers import wait_for

GRAPH = """graph shadowed
source ingest
python v1 { impl = "tests.steer.impls:primary", replicas = 2 }
python v2 { impl = "tests.steer.impls:candidate" }
sink out
ingest -> v1 -> out
ingest -> v2 { mirror = 100% }
"""
N = 700  # v2 fails on the 100 multiples of 7 and is off by one on the 60 other multiples of 10


def _cells(html: str, row: str) -> list[str]:
    found = re.search(rf'<tr data-row="{row}"><th>{row}</th>(.*?)</tr>', html)
    assert found, html
    return re.findall(r"<td[^>]*>(.*?)</td>", found.group(1))


def test_the_shadow_group_shows_both_sides() -> None:
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH)) as dep:
        dash = Dashboard(DeploymentSource(dep), start=False)
        assert dash.shadow is not None and dash.shadow.box in dash.children
        assert list(dep.map(range(N), concurrency=32, progress=False)) == [2 * i for i in range(N)]
        shadow = dash.shadow.monitor
        wait_for(lambda: shadow.report().compared + sum(shadow.report().errors.values()) == N,
                 what="every copy compared or failed")
        dash.refresh()
        html = dash.shadow.tables.value
        r = shadow.report()
        assert '<table class="hogar-shadow" data-candidate="v2">' in html
        assert f"<caption>v2 shadows v1 (100% mirrored): {N} copies, {N - 100} answered</caption>" in html
        assert _cells(html, "errors") == ["0", "100 (error 100)"]
        assert _cells(html, "p50") == [f"{r.primary_p50_ms:.1f} ms", f"{r.candidate_p50_ms:.1f} ms"]
        assert _cells(html, "p99") == [f"{r.primary_p99_ms:.1f} ms", f"{r.candidate_p99_ms:.1f} ms"]
        assert '<td colspan="2">90.0% of 600 compared</td>' in html
        assert f'<td colspan="2">{r.mean_abs_diff:.4g}</td>' in html and abs(r.mean_abs_diff - 0.1) < 1e-12
        dash.close()
        assert shadow.subscription.closed


def test_a_graph_without_mirrors_has_no_shadow_group() -> None:
    graph = GRAPH.replace("ingest -> v2 { mirror = 100% }\n", "").replace(
        'python v2 { impl = "tests.steer.impls:candidate" }\n', "")
    with hogar_nb.run(hogar_nb.parse_udgl(graph)) as dep:
        dash = Dashboard(DeploymentSource(dep), start=False)
        assert dash.shadow is None
        dash.close()
