"""A monitor panel as a PNG image, for places that run no JavaScript.

A shared notebook shown on GitHub or in an offline viewer cannot draw a Plotly
figure, so :class:`~.report.Report` stores each panel twice: the Plotly JSON (the
interactive chart in JupyterLab, Notebook 7 and VS Code) and this picture, drawn
with matplotlib from the same traces: lines and markers of the scatter traces
(colour, width, dash, symbol), stacked or grouped bars, a heat strip, titles, axis range and
tick suffix, and a legend.
"""

from __future__ import annotations

import io
import math
from typing import Any

__all__ = ["draw", "figure_png"]

_PLOTLY_COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a",
                   "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52")
_DASHES = {"solid": "-", "dot": ":", "dash": "--", "longdash": "--", "dashdot": "-.", "longdashdot": "-."}
_SYMBOLS = {"x": "x", "circle": "o", "square": "s", "diamond": "D", "cross": "P", "triangle-up": "^"}


def _numbers(values: Any) -> list[float]:
    out = []
    for v in values or ():
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(math.nan)
    return out


def _scatter(ax: Any, trace: Any, colour: str) -> bool:
    x, y = _numbers(trace.x), _numbers(trace.y)
    if not any(math.isfinite(v) for v in y):
        return False
    mode = trace.mode or "lines"
    label = trace.name or None
    line = trace.line
    colour = (line.color if "lines" in mode else None) or trace.marker.color or colour
    if "lines" in mode:
        ax.plot(x, y, color=colour, linewidth=0.6 * (line.width or 2), linestyle=_DASHES.get(line.dash or "solid", "-"),
                label=label)
        label = None
    if "markers" in mode:
        marker = trace.marker
        ax.scatter(x, y, color=colour, s=2.0 * (marker.size or 6), marker=_SYMBOLS.get(marker.symbol or "circle", "o"),
                   alpha=marker.opacity if marker.opacity is not None else 1.0, label=label, zorder=3)
    return True


def _heatmap(ax: Any, trace: Any) -> bool:
    """A heat strip: rows ``y`` over times ``x``, ``None`` cells left blank."""
    import numpy as np

    rows = [list(r) for r in (trace.z or ())]
    xs = [x for x in (trace.x or ())]
    if not rows or not xs:
        return False
    z = np.array([[np.nan if v is None else float(v) for v in row] for row in rows])
    right = xs[-1] if xs[-1] > xs[0] else xs[0] + 1.0
    ax.imshow(z, aspect="auto", cmap="YlOrRd", origin="lower", interpolation="nearest",
              extent=(xs[0], right, -0.5, len(rows) - 0.5), vmin=0.0)
    ax.set_yticks(range(len(rows)), [str(y) for y in (trace.y or ())][:len(rows)], fontsize=7)
    return True


def _bars(ax: Any, traces: list[tuple[Any, str]], stacked: bool) -> bool:
    categories: list[str] = []
    for trace, _ in traces:
        categories += [str(c) for c in trace.x or () if str(c) not in categories]
    if not categories:
        return False
    index = {c: i for i, c in enumerate(categories)}
    bottom = [0.0] * len(categories)
    width = 0.8 if stacked else 0.8 / len(traces)
    for k, (trace, colour) in enumerate(traces):
        heights = [0.0] * len(categories)
        for c, v in zip(trace.x or (), _numbers(trace.y)):
            heights[index[str(c)]] = 0.0 if math.isnan(v) else v
        xs = [i if stacked else i - 0.4 + width * (k + 0.5) for i in range(len(categories))]
        ax.bar(xs, heights, width=width, bottom=bottom if stacked else None,
               color=trace.marker.color or colour, label=trace.name or None)
        if stacked:
            bottom = [b + h for b, h in zip(bottom, heights)]
    ax.set_xticks(range(len(categories)), categories, fontsize=7, rotation=20 if len(categories) > 4 else 0)
    return True


def draw(fig: Any, width_px: int = 480, height_px: int = 260, dpi: int = 100) -> Any:
    """``fig`` (a plotly Figure or FigureWidget) drawn as a matplotlib Figure."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    layout = fig.layout
    mfig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi, layout="constrained")
    ax = mfig.add_subplot()
    title = layout.title.text if layout.title else None
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    drawn = False
    bars: list[tuple[Any, str]] = []
    for i, trace in enumerate(fig.data):
        if trace.visible is False:
            continue
        colour = _PLOTLY_COLOURS[i % len(_PLOTLY_COLOURS)]
        if trace.type == "bar":
            bars.append((trace, colour))
        elif trace.type == "scatter":
            drawn = _scatter(ax, trace, colour) or drawn
        elif trace.type == "heatmap" and not drawn:  # the first strip with data (the quality group's)
            drawn = _heatmap(ax, trace)
    if bars:
        drawn = _bars(ax, bars, stacked=layout.barmode in ("stack", "relative")) or drawn
    xaxis = layout.xaxis
    if xaxis.range is not None and not bars:
        ax.set_xlim(*xaxis.range)
    if xaxis.ticksuffix:
        suffix = xaxis.ticksuffix
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}{suffix}"))
    if layout.yaxis.title and layout.yaxis.title.text:
        ax.set_ylabel(layout.yaxis.title.text, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    if not drawn:
        notes = [a.text for a in layout.annotations or () if a.text]
        ax.text(0.5, 0.5, notes[0] if notes else "no data yet", transform=ax.transAxes,
                ha="center", va="center", color="#888")
        if notes:
            ax.set_axis_off()
    elif any(artist.get_label() and not artist.get_label().startswith("_")
             for artist in (*ax.lines, *ax.collections, *ax.containers)):
        # under the plot, never over the lines or bars
        mfig.legend(fontsize=6, loc="outside lower center", ncols=4, frameon=False)
    return mfig


def figure_png(fig: Any, width_px: int = 480, height_px: int = 260, dpi: int = 100) -> bytes:
    """``fig`` (a plotly Figure or FigureWidget) drawn as PNG bytes."""
    mfig = draw(fig, width_px, height_px, dpi)
    buf = io.BytesIO()
    mfig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
