"""The palette: one button per node kind and per template of the graph."""

from __future__ import annotations

from typing import Callable

import ipywidgets as widgets

from ...core.kinds import KINDS
from ..style import KIND_STYLE

__all__ = ["PALETTE_CLASS", "Palette"]

PALETTE_CLASS = "hogar-editor-palette"


class Palette(widgets.VBox):
    """Click a kind (or drag it onto the canvas, see :mod:`.gestures`) to place a node of it;
    ``buttons[kind]`` for the Python side."""

    def __init__(self, on_pick: Callable[[str], None]) -> None:
        self.on_pick = on_pick
        self.buttons: dict[str, widgets.Button] = {}
        self.link = widgets.Checkbox(value=True, description="link from selected", indent=False,
                                     tooltip="connect the selected node to the node you add",
                                     layout=widgets.Layout(width="150px"))
        self._templates = widgets.VBox()
        kinds = [self._button(kind, kind, KINDS[kind]) for kind in KINDS]
        super().__init__(
            [widgets.HTML("<b style='font-size:12px'>Add</b>"), *kinds, self._templates, self.link],
            layout=widgets.Layout(width="150px", flex="0 0 150px", padding="0 6px 0 0"),
        )
        self.add_class(PALETTE_CLASS)

    def _button(self, key: str, kind: str, doc: str) -> widgets.Button:
        colour = KIND_STYLE.get(kind, ("", "#555", ""))[1]
        button = widgets.Button(description=key, tooltip=doc, layout=widgets.Layout(width="140px"))
        button.style.button_color = colour
        button.style.text_color = "white"
        button.add_class(f"hogar-palette-{key}")
        button.on_click(lambda _b, k=key: self.on_pick(k))
        self.buttons[key] = button
        return button

    def set_templates(self, templates: dict[str, str]) -> None:
        """``{template name: kind}``: the graph's templates, below the kinds."""
        for name in [k for k in self.buttons if k not in KINDS and k not in templates]:
            del self.buttons[name]
        rows = [self.buttons.get(name) or self._button(name, kind, f"template ({kind})")
                for name, kind in templates.items()]
        head = [widgets.HTML("<b style='font-size:12px'>Templates</b>")] if rows else []
        if [getattr(b, "description", None) for b in self._templates.children[len(head):]] != list(templates):
            self._templates.children = head + rows


def help_html() -> str:
    """The one-line help shown above the canvas."""
    lines = ("<b>Add</b>: drag a kind onto the canvas, or click it (the node appears next to the selected "
             "one); it is linked from the selected node · "
             "<b>Move</b>: drag nodes · <b>Connect</b>: toggle it, then drag from one node to another "
             "(or click both) · <b>Edit</b>: click a node or edge · problems are outlined in red "
             "(amber: warnings); point at one to read why · <b>Keys</b> (click the canvas first): "
             "Delete, Ctrl+Z / Ctrl+Shift+Z, Esc")
    return f'<div class="hogar-editor-help" style="font-size:11px;color:#555">{lines}</div>'
