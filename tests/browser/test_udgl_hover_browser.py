"""Hovering a node's name in a `%%udgl` cell shows its input and output types, in
JupyterLab 4 and Notebook 7: the cell is typed by hand, key by key at 20-120 ms per
key, into a fresh cell; the lint that runs as it is typed brings the types, and the
mouse resting on a name in the edge line opens a tooltip naming that node's types."""

from __future__ import annotations

import random

import pytest
from notebook_page import ARTIFACTS
from test_udgl_typing_browser import (PageWatch, fresh_cell, loaded_extension_is_this_checkouts,
                                      type_like_a_person)
from udgl_page import editor_text, open_udgl_page, udgl_url, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

TYPED = """\
%%udgl g
source a { input = bytes[n] }
python f { impl = "m:f", output = int64[n] }
sink b
a -> f -> b"""

# what the hover says about each name of the last line
EXPECTED = {
    "a": "a: takes bytes[n], gives bytes[n]",
    "f": "f: takes bytes[n], gives int64[n]",
    "b": "b: takes int64[n], gives int64[n]",
}

# the middle of the `nth` occurrence of `word` (a whole word) in the cell's last line, in page pixels
_WORD_POINT = """([i, word]) => {
  const line = [...document.querySelectorAll('.jp-Notebook .jp-Cell')[i].querySelectorAll('.cm-line')].pop();
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  const re = new RegExp('(^|[^A-Za-z0-9_.])' + word + '($|[^A-Za-z0-9_.])');
  let text = '', nodes = [];
  while (walker.nextNode()) { nodes.push([walker.currentNode, text.length]); text += walker.currentNode.data; }
  const m = re.exec(text);
  if (!m) return null;
  const at = m.index + m[1].length + Math.floor(word.length / 2);
  const [node, start] = nodes.filter(([n, s]) => s <= at).pop();
  const range = document.createRange();
  range.setStart(node, at - start);
  range.setEnd(node, at - start + 1);
  const r = range.getBoundingClientRect();
  return {x: r.left + r.width / 2, y: r.top + r.height / 2};
}"""
_TOOLTIP = ".cm-tooltip .hogar-type-tooltip"


def hover_word(page, index: int, word: str) -> str:
    """Rest the mouse on ``word`` in cell ``index``'s last line; the tooltip's text.

    The mouse first leaves the editor, so a tooltip of the previous word closes; the
    move onto the word is repeated until the tooltip opens (lint may still be answering).
    """
    deadline_ms, waited = 20_000, 0
    while True:
        page.mouse.move(5, 5)
        page.locator(_TOOLTIP).wait_for(state="detached", timeout=10_000)
        point = page.evaluate(_WORD_POINT, [index, word])
        assert point is not None, f"{word!r} is not on the last line of cell {index}"
        page.mouse.move(point["x"] - 1, point["y"])
        page.mouse.move(point["x"], point["y"], steps=3)
        try:
            page.locator(_TOOLTIP).wait_for(timeout=2_000)
            return page.locator(_TOOLTIP).inner_text()
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: lint may not have answered yet
            waited += 2_000
            if waited >= deadline_ms:
                page.screenshot(path=str(ARTIFACTS / f"hover-{word}-failure.png"))
                raise AssertionError(f"no type tooltip over {word!r} in cell {index}") from None


@pytest.mark.parametrize("flavour", ["lab", "notebook7"])
def test_hovering_a_node_name_shows_its_types(jupyter_server, page, flavour) -> None:
    watch = PageWatch(page)
    name = write_notebook(jupyter_server.root, f"hover-{flavour}.ipynb", [("code", "")])
    open_udgl_page(page, udgl_url(jupyter_server, flavour, name))
    assert loaded_extension_is_this_checkouts(page)
    fresh_cell(page, 0)
    lints_before = watch.calls("lint")
    type_like_a_person(page, TYPED, random.Random(f"hover-{flavour}"))
    assert editor_text(page, 0) == TYPED, "keystrokes went astray"
    shown = {word: hover_word(page, 0, word) for word in EXPECTED}
    page.screenshot(path=str(ARTIFACTS / f"hover-types-{flavour}.png"))
    assert shown == EXPECTED
    assert watch.calls("lint") > lints_before
    assert watch.update_errors() == [] and watch.errors_from_this_extension() == []
