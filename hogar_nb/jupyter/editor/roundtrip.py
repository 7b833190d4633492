"""Leaving the editor: canonical UDGL text, a ``%%udgl`` cell, the EARG file, a run.

In JupyterLab a button callback cannot create a cell (``set_next_input`` only works
while a cell executes, and outputs may not run JavaScript), so "To UDGL" shows the
text to copy, and ``editor.to_cell()`` called from a cell inserts the ``%%udgl``
cell below that cell.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ...errors import HogarError

if TYPE_CHECKING:  # pragma: no cover
    from .widget import GraphEditor

__all__ = ["RoundTrip", "default_earg_path", "earg_format"]


def default_earg_path(graph_name: str) -> str:
    return f"{graph_name}.earg.yaml"


def earg_format(path: str | Path) -> str:
    """JSON for ``.json`` files, YAML for anything else."""
    return "json" if str(path).lower().endswith(".json") else "yaml"


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the editor needs IPython anyway
        return None
    return get_ipython()


class RoundTrip(widgets.VBox):
    """The EARG path field, the UDGL text box and the run output under the editor."""

    def __init__(self, editor: "GraphEditor", *, path: str | None = None, variable: str | None = None) -> None:
        self.editor = editor
        self.variable = variable
        self.deployment: Any = None
        self.dashboard: Any = None
        self.path = widgets.Text(value=path or default_earg_path(editor.graph.name), description="EARG file",
                                 layout=widgets.Layout(width="420px"))
        self.path.add_class("hogar-editor-path")
        self.udgl = widgets.Textarea(layout=widgets.Layout(width="100%", height="180px", display="none"))
        self.udgl.add_class("hogar-editor-udgl")
        self.hint = widgets.HTML()
        self.run_box = widgets.VBox()
        super().__init__([self.path, self.hint, self.udgl, self.run_box])

    def show_udgl(self) -> str:
        """Show the canonical UDGL text (read-only copy) and return it."""
        text = self.editor.to_udgl()
        self.udgl.value = text
        self.udgl.layout.display = None
        self.hint.value = ('<div style="font-size:11px;color:#555">Copy it into a <code>%%udgl</code> cell, '
                           "or run <code>editor.to_cell()</code> in a cell to insert one below it.</div>")
        return text

    def to_cell(self, variable: str | None = None) -> str:
        """Queue a ``%%udgl [variable]`` cell with the graph below the running cell."""
        variable = variable or self.variable
        text = f"%%udgl{' ' + variable if variable else ''}\n{self.show_udgl()}"
        shell = _ipython()
        if shell is None:
            raise RuntimeError("to_cell() needs IPython: call it from a notebook cell")
        shell.set_next_input(text, replace=False)
        return text

    def save_earg(self, path: str | None = None, format: str | None = None) -> str:
        """Write the EARG file (format from the suffix unless given); returns the path."""
        path = path or self.path.value.strip() or default_earg_path(self.editor.graph.name)
        text = self.editor.to_earg(format or earg_format(path))
        Path(path).write_text(text, encoding="utf-8")
        self.path.value = path
        self.editor.say(f"saved {path} ({len(text.encode())} bytes)")
        return path

    def run(self, namespace: dict | None = None) -> Any:
        """Start the graph on the embedded engine (stopping the previous run) and monitor it."""
        from ...dispatch import run

        self.stop()
        if namespace is None:
            shell = _ipython()
            namespace = shell.user_ns if shell is not None else self.editor.graph.namespace
        self.editor.graph.validate()
        dep = self.deployment = run(self.editor.graph, namespace=namespace)
        name = self.editor.graph.name
        self.editor.say(f"running `{name}` on the embedded engine")
        try:
            self.dashboard = dep.monitor(display=False)
            self.run_box.children = (self.dashboard,)
            # the deployment stopped some other way (dep.stop(), %hogar stop): say so
            self.dashboard.on_stopped.append(lambda _d: self._stopped(dep, name))
        except (ImportError, HogarError) as err:  # no monitor in this installation
            self.run_box.children = (widgets.HTML(f"<pre>{escape(repr(dep))}\n({escape(str(err))})</pre>"),)
        return dep

    def stop(self) -> None:
        """Stop the monitor and the deployment that :meth:`run` started, if any; the
        dashboard stays, showing the final figures."""
        dep = self.deployment
        if dep is not None:
            dep.stop()
        if self.dashboard is not None:
            self.dashboard.refresh()  # draws the stopped graph before the thread ends
            self.dashboard.stop()
            self.dashboard = None
        if dep is not None:
            self._stopped(dep, self.editor.graph.name)
        self.deployment = None

    def _stopped(self, dep: Any, name: str) -> None:
        if not dep.running and (self.deployment is None or dep is self.deployment):
            self.editor.say(f"`{name}` stopped; the monitor shows its final figures")
