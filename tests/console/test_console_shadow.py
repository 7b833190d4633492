"""The console keeps a served graph's shadow and placement reports to numbers and the
graph's own names (the page itself is drawn in Chromium by test_console_versions_browser
and tests/on_ray/test_console_on_ray)."""

from __future__ import annotations

import hogar_nb
from hogar_nb.console.shadow import placement_rows, shadow_rows

GRAPH = """graph shadowed
source ingest { route = "/score" }
python v1 { impl = "tests.steer.impls:primary" }
python v2 { impl = "tests.steer.impls:candidate" }
sink out
ingest -> v1 -> out
ingest -> v2 { mirror = 100% }
"""


def test_a_hostile_shadow_report_is_kept_to_numbers_and_known_names() -> None:
    doc = hogar_nb.parse_udgl(GRAPH).to_earg()
    report = {"shadows": {
        "v2": {"primary": "<script>x</script>", "share": "all", "mirrored": float("nan"), "answered": 5,
               "errors": {"error": 2, "timeout": "many"}, "agreement": True, "mean_abs_diff": 0.5,
               "candidate_p50_ms": float("inf"), "extra": "dropped"},
        "intruder": {"mirrored": 1}}}
    rows = shadow_rows(report, doc)
    assert rows == [{"candidate": "v2", "primary": "—", "share": None, "errors": 2, "mirrored": 0, "answered": 5,
                     "primary_errors": 0, "compared": 0, "agreement": None, "mean_abs_diff": 0.5,
                     "candidate_p50_ms": None, "candidate_p99_ms": None, "primary_p50_ms": None,
                     "primary_p99_ms": None}]
    assert shadow_rows(["not", "a", "report"], doc) == [] and shadow_rows({"shadows": 3}, doc) == []


def test_a_hostile_placement_report_is_kept_to_counts_and_known_nodes() -> None:
    doc = hogar_nb.parse_udgl(GRAPH).to_earg()
    report = {"nodes": {"v1": {"planned": {"worker-0": 1, "worker-1": "x"}, "running": {"node:" + "a" * 200: 2.0}},
                        "v2": {"planned": [], "running": None}, "intruder": {"planned": {"w": 1}}}}
    assert placement_rows(report, doc) == [
        {"node": "v1", "planned": {"worker-0": 1}, "running": {"node:" + "a" * 95: 2}},
        {"node": "v2", "planned": {}, "running": {}}]
    assert placement_rows({"nodes": "x"}, doc) == [] and placement_rows(None, doc) == []
