"""``%hogar status``: a table per deployment from its metrics snapshot."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["StatusTable"]

_COLUMNS = ("node", "requests", "errors", "restarts", "p50 ms", "p95 ms", "replicas", "req/s")


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _row(m: Any) -> tuple[str, ...]:
    return (m.name, str(m.requests), str(m.errors), str(m.restarts), _ms(m.p50_ms), _ms(m.p95_ms),
            f"{m.replicas_alive}/{m.replicas}", f"{m.rps:.1f}")


class StatusTable:
    """Graph and per-node totals of each deployment (``{variable: Deployment}``)."""

    def __init__(self, deployments: dict[str, Any]) -> None:
        self.entries = []
        for key, dep in deployments.items():
            snap = dep.metrics()
            rows = [_row(snap.graph)] + [_row(m) for m in snap.nodes.values()]
            self.entries.append((key, dep, rows, snap.events))

    def __repr__(self) -> str:
        if not self.entries:
            return "no deployments in this notebook (start one with %%udgl --run or hogar_nb.run)"
        out = []
        for key, dep, rows, events in self.entries:
            state = "running" if dep.running else "stopped"
            out.append(f"{key}: graph {dep.name!r}, {state}, {len(events)} recovery events")
            widths = [max(len(r[i]) for r in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
            for r in [_COLUMNS, *rows]:
                out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)))
        return "\n".join(out)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        if not self.entries:
            return f"<div class='hogar-status'>{escape(repr(self))}</div>"
        parts = []
        for key, dep, rows, events in self.entries:
            state = "running" if dep.running else "stopped"
            head = "".join(f"<th style='padding:2px 8px'>{c}</th>" for c in _COLUMNS)
            body = "".join(
                "<tr>" + "".join(f"<td style='padding:2px 8px'>{escape(c)}</td>" for c in r) + "</tr>"
                for r in rows
            )
            parts.append(
                f"<div><b>{escape(key)}</b>: graph <code>{escape(dep.name)}</code>, {state}, "
                f"{len(events)} recovery events<table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table></div>"
            )
        return f"<div class='hogar-status' style='font-family:sans-serif;font-size:12px'>{''.join(parts)}</div>"
