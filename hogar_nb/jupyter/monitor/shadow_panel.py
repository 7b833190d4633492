"""The dashboard's "Shadow traffic" group: each mirror's candidate beside its primary.

A table per mirror edge, the primary's column beside the shadow's: errors, p50 and
p99 latency (the copies sent and answered in its caption); under it the agreement of their answers and
the mean absolute difference. It reads a :class:`~hogar_nb.steer.ShadowMonitor`
that the dashboard opens on the deployment (so its counts start with the dashboard)
and closes with it.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

__all__ = ["ShadowPanel"]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def _table(r: Any) -> str:
    """One candidate's report as an HTML table (its names escaped)."""
    cand, prim = html.escape(r.candidate), html.escape(r.primary)
    errors = sum(r.errors.values())
    causes = ", ".join(f"{html.escape(k)} {v}" for k, v in sorted(r.errors.items()))
    agree = "—" if r.agreement is None else f"{r.agreement:.1%}"
    diff = "—" if r.mean_abs_diff is None else f"{r.mean_abs_diff:.4g}"
    rows = [("errors", f"{r.primary_errors}", f"{errors}" + (f" ({causes})" if causes else "")),
            ("p50", _ms(r.primary_p50_ms), _ms(r.candidate_p50_ms)),
            ("p99", _ms(r.primary_p99_ms), _ms(r.candidate_p99_ms))]
    body = "".join(f'<tr data-row="{name}"><th>{name}</th><td class="primary">{p}</td><td class="shadow">{s}</td></tr>'
                   for name, p, s in rows)
    return (f'<table class="hogar-shadow" data-candidate="{cand}"><caption>{cand} shadows {prim} '
            f"({r.share:.0%} mirrored): {r.mirrored} copies, {r.answered} answered</caption>"
            f"<thead><tr><th></th><th>primary: {prim}</th><th>shadow: {cand}</th></tr></thead><tbody>{body}</tbody>"
            f'<tfoot><tr data-row="agreement"><th>agreement</th><td colspan="2">{agree} of {r.compared} compared'
            f'</td></tr><tr data-row="diff"><th>mean |diff|</th><td colspan="2">{diff}</td></tr></tfoot></table>')


class ShadowPanel:
    """The group's box; :meth:`update` redraws it from ``monitor.report``."""

    def __init__(self, monitor: Any) -> None:
        self.monitor = monitor
        self.candidates = sorted(monitor.pairs)
        self.tables = widgets.HTML("")
        self.box = widgets.VBox([widgets.HTML("<b>Shadow traffic</b>"), self.tables])
        self.box.add_class("hogar-shadow-group")
        self.draws = 0
        self.update()

    def update(self) -> None:
        self.tables.value = "".join(_table(self.monitor.report(c)) for c in self.candidates)
        self.draws += 1

    def close(self) -> None:
        self.monitor.close()
