"""UDGL editing in JupyterLab and Notebook 7 (headless Chromium): a `%%udgl` cell is
highlighted and linted as you type (underline, message and did-you-mean) without being
run, the mark goes when the text is fixed, markdown and Python cells keep their own
highlighting, completion offers a node's attributes, Format UDGL rewrites a messy cell,
and a `.udgl` file opens highlighted."""

from __future__ import annotations

import json
import time

import pytest
from notebook_page import ARTIFACTS
from udgl_page import (
    CELL_EDITORS,
    FILE_EDITOR,
    editor_text,
    open_udgl_page,
    plain_color,
    token_color,
    udgl_url,
    var_color,
    wait_for_colors,
    wait_for_token_color,
    write_notebook,
)

from hogar_nb.core.udgl import parse_udgl

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

UDGL_CELL = """\
%%udgl demo
# a small graph
source ingest { route = "/score" }
python feat { impl = "m:f", timeout = 250ms, replicas = 2 }
sink out
ingest -> feat -> out"""

MARKDOWN = "# Heading\n\nSome *emphasis* and `code`."
PYTHON = "def double(x):\n    return 2 * x  # twice"
LINT_DEADLINE = 1.5  # seconds from the keystroke to the underline

_LINT_MARKS = """([i]) => document.querySelectorAll('.jp-Notebook .jp-Cell .cm-editor')[i]
                        .querySelectorAll('.cm-lintRange-error').length"""


def wait_for_udgl(page, index: int, scope: str = CELL_EDITORS) -> None:
    """Wait until the editor reads UDGL: `250ms` is one number (Python splits it in two)."""
    wait_for_token_color(page, index, "250ms", "--jp-mirror-editor-number-color", scope=scope)


def _cursor_in_cell(page, index: int, line: int, from_end: int) -> None:
    """Put the cursor in cell ``index`` at ``line`` (0-based), ``from_end`` characters before its end."""
    editor = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+Home")
    for _ in range(line):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    for _ in range(from_end):
        page.keyboard.press("ArrowLeft")


def _hover_until_tooltip(page, target, timeout: float = 10.0):
    """Hover ``target`` until CodeMirror shows its lint tooltip (hover needs the mouse
    to move onto the text and rest there); returns the tooltip."""
    tooltip = page.locator(".cm-tooltip-lint")
    deadline = time.monotonic() + timeout
    shift = 0
    while True:
        box = target.bounding_box()
        page.mouse.move(box["x"] + 2 + shift % 5, box["y"] + box["height"] / 2, steps=4)
        try:
            tooltip.wait_for(timeout=800)
            return tooltip
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: move again
            if time.monotonic() > deadline:
                raise
            shift += 1


def _timing(name: str, seconds: float) -> None:
    path = ARTIFACTS / "udgl-editing-timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = round(seconds, 3)
    path.write_text(json.dumps(data, indent=2))


@pytest.mark.parametrize("flavour", ["lab", "notebook7"])
def test_udgl_cell_is_highlighted_and_linted_as_you_type(jupyter_server, page, flavour) -> None:
    name = write_notebook(jupyter_server.root, f"lint-{flavour}.ipynb",
                          [("code", UDGL_CELL), ("markdown", MARKDOWN), ("code", PYTHON)])
    open_udgl_page(page, udgl_url(jupyter_server, flavour, name))
    # the %%udgl cell reads as UDGL: magic line, kinds, names, attributes, units, arrows
    wait_for_udgl(page, 0)
    expected = {
        "%%udgl demo": "--jp-mirror-editor-meta-color",
        "source": "--jp-mirror-editor-builtin-color", "ingest": "--jp-mirror-editor-def-color",
        "250ms": "--jp-mirror-editor-number-color",
        "->": "--jp-mirror-editor-operator-color", '"/score"': "--jp-mirror-editor-string-color",
        "# a small graph": "--jp-mirror-editor-comment-color",
    }
    wait_for_colors(page, 0, expected)
    assert token_color(page, 0, "route") not in (None, "no such token", plain_color(page, 0))  # attributes
    # a markdown cell keeps markdown highlighting (rendered cells: open the editor first)
    page.locator(".jp-Notebook .jp-Cell").nth(1).dblclick()
    wait_for_token_color(page, 1, " Heading", "--jp-mirror-editor-header-color")
    # a Python cell keeps Python highlighting
    wait_for_colors(page, 2, {"def": "--jp-mirror-editor-keyword-color",
                              "# twice": "--jp-mirror-editor-comment-color"})
    assert page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".cm-gutter-lint").count() == 0

    # misspell `replicas` -> `replicass`: underline + message + hint, the cell never runs
    _cursor_in_cell(page, 0, 3, len(" = 2 }"))
    assert page.evaluate(_LINT_MARKS, [0]) == 0
    page.keyboard.type("s")
    typed = time.monotonic()
    page.wait_for_function(f"() => ({_LINT_MARKS})([0]) > 0", timeout=10_000, polling=20)
    elapsed = time.monotonic() - typed
    _timing(f"keystroke_to_underline_{flavour}", elapsed)
    assert elapsed < LINT_DEADLINE, f"the underline took {elapsed:.2f}s"
    mark = page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".cm-lintRange-error").first
    assert mark.text_content() == "replicass = 2"
    tooltip = _hover_until_tooltip(page, mark)
    assert "E012: unknown attribute `replicass` of python node `feat`" in tooltip.text_content()
    assert "hint: did you mean `replicas`?" in tooltip.text_content()
    page.screenshot(path=str(ARTIFACTS / f"udgl-lint-{flavour}.png"))
    prompt = page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-InputPrompt").text_content()
    assert "[*]" not in prompt and not any(ch.isdigit() for ch in prompt)

    # fix it: the mark goes
    page.mouse.move(0, 0)
    page.keyboard.press("Backspace")
    page.wait_for_function(f"() => ({_LINT_MARKS})([0]) === 0", timeout=int(LINT_DEADLINE * 1000), polling=20)
    assert editor_text(page, 0) == UDGL_CELL
    page.screenshot(path=str(ARTIFACTS / f"udgl-lint-fixed-{flavour}.png"))


def test_other_kernels_notebooks_are_left_alone(jupyter_server, page) -> None:
    r_notebook = {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"},
                  "language_info": {"name": "R", "codemirror_mode": "r"}}
    name = write_notebook(jupyter_server.root, "other-kernel.ipynb",
                          [("code", UDGL_CELL), ("code", "twice <- function(x) 2 * x")], r_notebook)
    open_udgl_page(page, udgl_url(jupyter_server, "lab", name), kernel=False)  # no R kernel here
    # once R colours `function`, the notebook's language is in place in every cell
    wait_for_token_color(page, 1, "function", "--jp-mirror-editor-keyword-color")
    assert token_color(page, 0, "250ms") == "no such token"  # R reads `250` and `ms`
    assert page.locator(".jp-Notebook .cm-gutter-lint").count() == 0


def test_completion_offers_the_attributes_of_the_nodes_kind(jupyter_server, page) -> None:
    name = write_notebook(jupyter_server.root, "complete.ipynb", [("code", UDGL_CELL)])
    open_udgl_page(page, udgl_url(jupyter_server, "lab", name))
    wait_for_udgl(page, 0)
    _cursor_in_cell(page, 0, 3, len(" }"))
    page.keyboard.type(", ba")
    popup = page.locator(".cm-tooltip-autocomplete")
    popup.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cm-tooltip-autocomplete .cm-completionLabel')]"
        ".map(e => e.textContent).includes('batch_wait')", timeout=10_000)
    labels = popup.locator(".cm-completionLabel").all_text_contents()
    assert labels[:2] == ["batch", "batch_wait"] and "route" not in labels
    page.wait_for_selector(".cm-completionInfo")
    assert "largest dynamic batch" in page.locator(".cm-completionInfo").text_content()
    page.screenshot(path=str(ARTIFACTS / "udgl-completion.png"))
    page.keyboard.press("Enter")  # accept `batch` -> `batch = `
    page.keyboard.type("8")
    assert editor_text(page, 0).split("\n")[3].endswith("replicas = 2, batch = 8 }")


def test_format_command_rewrites_a_messy_cell(jupyter_server, page) -> None:
    messy = ('%%udgl demo\nsource   ingest{route="/x"}\npython f {impl="m:f",timeout=250ms}\n'
             'sink out\ningest->f\nf->out')
    name = write_notebook(jupyter_server.root, "format.ipynb", [("code", messy), ("code", PYTHON)])
    open_udgl_page(page, udgl_url(jupyter_server, "lab", name))
    wait_for_udgl(page, 0)
    page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".cm-content").click(button="right")
    item = page.locator(".lm-Menu-item", has_text="Format UDGL")
    item.click()
    canonical = "%%udgl demo\n" + parse_udgl(messy.split("\n", 1)[1]).to_udgl().rstrip("\n")
    page.wait_for_function(
        """([text]) => [...document.querySelectorAll('.jp-Notebook .jp-Cell .cm-editor')[0]
                       .querySelectorAll('.cm-line')].map(l => l.textContent).join('\\n') === text""",
        arg=[canonical.rstrip("\n") + "\n"], timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "udgl-format.png"))
    # the command is not offered for a Python cell (cell commands act on the active cell)
    page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".cm-content").click()
    page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".cm-content").click(button="right")
    page.locator(".lm-Menu-item", has_text="Cut Cell").first.wait_for()
    assert page.locator(".lm-Menu-item:visible", has_text="Format UDGL").count() == 0
    page.keyboard.press("Escape")
    assert editor_text(page, 1) == PYTHON


def test_udgl_file_opens_highlighted_and_linted(jupyter_server, page) -> None:
    text = UDGL_CELL.split("\n", 1)[1].replace("sink out", "sink out\npyhton extra")
    (jupyter_server.root / "scoring.udgl").write_text(text + "\n")
    open_udgl_page(page, f"{jupyter_server.url}/lab/tree/scoring.udgl?reset", ".jp-FileEditor .cm-content")
    wait_for_colors(page, 0, {"source": "--jp-mirror-editor-builtin-color", "feat": "--jp-mirror-editor-def-color",
                              "250ms": "--jp-mirror-editor-number-color"}, FILE_EDITOR)
    assert plain_color(page, 0, FILE_EDITOR) != var_color(page, "--jp-mirror-editor-number-color")
    page.wait_for_selector(".jp-FileEditor .cm-lintRange-error")
    assert page.locator(".jp-FileEditor .cm-lintRange-error").first.text_content() == "pyhton"
    assert page.locator(".jp-FileEditor .cm-gutter-lint .cm-lint-marker-error").count() >= 1
    icon = page.locator('.jp-DirListing-item[data-file-type="udgl"] .jp-DirListing-itemIcon svg')
    assert icon.count() >= 1
    page.screenshot(path=str(ARTIFACTS / "udgl-file.png"))


def test_new_udgl_file_from_the_launcher_then_open_it_in_the_graph_editor(jupyter_server, page) -> None:
    page.goto(f"{jupyter_server.url}/lab?reset")
    # File > New lists the entry
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-item", has_text="New").first.hover()
    page.locator(".lm-Menu-item", has_text="UDGL Graph File").wait_for()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    # the launcher card creates a .udgl file and opens it highlighted
    before = set(p.name for p in jupyter_server.root.glob("*.udgl"))
    page.locator(".jp-LauncherCard", has_text="UDGL Graph").click()
    page.wait_for_selector(".jp-FileEditor .cm-content")
    wait_for_colors(page, 0, {"source": "--jp-mirror-editor-builtin-color",
                              "250ms": "--jp-mirror-editor-number-color"}, FILE_EDITOR)
    [created] = set(p.name for p in jupyter_server.root.glob("*.udgl")) - before
    assert parse_udgl((jupyter_server.root / created).read_text()).name == "my_graph"
    # Open in Graph Editor: a notebook next to the file shows its graph in the editor widget
    page.locator(".jp-FileEditor .cm-content").click(button="right")
    page.locator(".lm-Menu-item", has_text="Open in Graph Editor").click()
    page.wait_for_function(
        """() => { const el = document.querySelector('.hogar-editor-canvas');
                   const cy = el && el._cyreg && el._cyreg.cy;
                   return !!cy && cy.nodes().map(n => n.id()).sort().join() === 'ingest,out,predict'; }""",
        timeout=90_000, polling=200)
    source = page.locator(".jp-Notebook .jp-Cell .cm-content").first.inner_text()
    assert f'hogar_nb.edit("{created}")' in source
    page.screenshot(path=str(ARTIFACTS / "udgl-open-in-graph-editor.png"))
