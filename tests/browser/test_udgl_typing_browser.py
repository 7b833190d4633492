"""`%%udgl` cells typed by hand, key by key at 20-120 ms per key, into fresh cells of
JupyterLab 4 and Notebook 7: the cell turns UDGL while it is being typed, lint
attaches (a `/hogar-nb/lint` request, the underline and the gutter marker of the
error), so does completion as you type, every keystroke lands, and the extension
raises no error. Each flavour types five fresh cells, so that an attach that works
only some of the time fails the test. Tab in such a cell lists UDGL's words first
and Enter inserts the one chosen."""

from __future__ import annotations

import json
import random
from urllib.parse import urlsplit

import pytest
from notebook_page import ARTIFACTS, BUILT_EXTENSION, run_cells
from udgl_page import editor_text, open_udgl_page, udgl_url, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

FRESH_CELLS = 5
TYPED = """\
%%udgl g
source ingest
python feat { impl = "m:f", replicas = 2 }
sink out
pyhton extra
ingest -> feat -> out"""

CELLS = ".jp-Notebook .jp-Cell"
# the texts of the error underlines in cell i, and its gutter's error markers
_MARKS = """([i]) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
  return {underlined: [...cell.querySelectorAll('.cm-lintRange-error')].map(e => e.textContent),
          gutter: cell.querySelectorAll('.cm-gutter-lint .cm-lint-marker-error').length};
}"""
_ONLY_THE_TYPO_MARKED = f"""([i]) => {{ const m = ({_MARKS})([i]);
  return m.underlined.length === 1 && m.underlined[0] === 'pyhton' && m.gutter === 1; }}"""


class PageWatch:
    """The page's console errors and uncaught exceptions, and its `/hogar-nb/` requests."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: self.errors.append(f"uncaught: {err.stack}"))
        page.on("request", lambda req: self.requests.append(req.url) if "/hogar-nb/" in req.url else None)

    def calls(self, endpoint: str) -> int:
        return sum(urlsplit(url).path.endswith(f"/hogar-nb/{endpoint}") for url in self.requests)

    def errors_from_this_extension(self) -> list[str]:
        """Errors raised in this extension's bundle (the stack names its URL)."""
        return [e for e in self.errors if "/extensions/hogar_nb/" in e]

    def update_errors(self) -> list[str]:
        return [e for e in self.errors if "EditorView.update" in e or "update is in progress" in e]


def type_like_a_person(page, text: str, rng: random.Random) -> None:
    """Type ``text`` one key at a time, 20 to 120 ms apart (Enter for a newline)."""
    for ch in text:
        page.keyboard.type(ch)
        page.wait_for_timeout(rng.uniform(20, 120))


def fresh_cell(page, index: int) -> None:
    """Edit a new empty cell at ``index``: the notebook's first cell, else one inserted
    below the active cell with the command-mode key B."""
    if index > 0:
        page.keyboard.press("Escape")  # a completion list open at the end closes first
        if page.locator(".jp-Notebook.jp-mod-commandMode").count() == 0:
            page.keyboard.press("Escape")
        page.locator(".jp-Notebook.jp-mod-commandMode").wait_for()
        page.keyboard.press("b")
        page.locator(CELLS).nth(index).wait_for()
        page.keyboard.press("Enter")
    else:
        page.locator(CELLS).nth(0).locator(".cm-content").click()
    assert editor_text(page, index) == ""


def loaded_extension_is_this_checkouts(page) -> bool:
    """Is the page's hogar_nb bundle the one built from these sources?"""
    built = json.loads((BUILT_EXTENSION / "package.json").read_text())["jupyterlab"]["_build"]["load"]
    return page.evaluate(
        """([load]) => JSON.parse(document.getElementById('jupyter-config-data').textContent)
                         .federated_extensions.some(e => e.name === 'hogar_nb' && e.load === load)""",
        [built])


@pytest.mark.parametrize("flavour", ["lab", "notebook7"])
def test_lint_attaches_in_every_cell_typed_by_hand(jupyter_server, page, flavour) -> None:
    watch = PageWatch(page)
    name = write_notebook(jupyter_server.root, f"typed-{flavour}.ipynb", [("code", "")])
    open_udgl_page(page, udgl_url(jupyter_server, flavour, name))
    assert loaded_extension_is_this_checkouts(page)
    rng = random.Random(f"typing-{flavour}")
    for index in range(FRESH_CELLS):
        fresh_cell(page, index)
        lints_before, completions_before = watch.calls("lint"), watch.calls("complete")
        type_like_a_person(page, TYPED, rng)
        # lint answers while the text is being typed too: wait for the answer to all of it
        try:
            page.wait_for_function(_ONLY_THE_TYPO_MARKED, arg=[index], timeout=15_000, polling=50)
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: say which cell and why
            page.screenshot(path=str(ARTIFACTS / f"typed-{flavour}-cell{index}.png"))
            raise AssertionError(f"cell {index}: the typo is not marked alone; marks "
                                 f"{page.evaluate(_MARKS, [index])}, /hogar-nb/ requests {watch.requests[-3:]}, "
                                 f"console errors {watch.errors[-3:]}") from None
        assert editor_text(page, index) == TYPED, f"cell {index}: keystrokes went astray"
        assert watch.calls("lint") > lints_before
        assert watch.calls("complete") > completions_before  # the as-you-type list asked too
        assert watch.update_errors() == []
    page.screenshot(path=str(ARTIFACTS / f"typed-{flavour}.png"))
    assert watch.errors_from_this_extension() == []


# ---------------------------------------------------------------- Tab completion
TAB_CELL = """\
%%udgl g
source ingest
python monitor { impl = "m:f" }
sink out
ingest -> monitor -> out
"""
_TAB_LIST = ".jp-Completer:not(.lm-mod-hidden)"
_LAST_LINE = """(i) => [...document.querySelectorAll('.jp-Notebook .jp-Cell .cm-editor')[i]
                  .querySelectorAll('.cm-line')].pop().textContent"""
_LABELS = """() => [...document.querySelectorAll('.jp-Completer:not(.lm-mod-hidden) .jp-Completer-item')]
                  .map(li => li.querySelector('.jp-Completer-match').textContent)"""


def tab_complete(page, index: int, typed_line: str) -> list[str]:
    """Press Tab at the end of the cell's last line (``typed_line`` so far); return the
    labels JupyterLab's list showed ([] when its only item was inserted at once)."""
    page.keyboard.press("Tab")
    page.wait_for_function(
        f"""([i, typed]) => document.querySelector('{_TAB_LIST}') !== null || ({_LAST_LINE})(i) !== typed""",
        arg=[index, typed_line], timeout=15_000)
    return page.evaluate(_LABELS) if page.locator(_TAB_LIST).count() else []


def accept_first(page, labels: list[str]) -> None:
    """Accept the first item of an open list with Enter (an only item went in already)."""
    if labels:
        page.keyboard.press("Enter")
        page.locator(_TAB_LIST).wait_for(state="detached")


@pytest.mark.parametrize("flavour", ["lab", "notebook7"])
def test_tab_offers_udgl_words_first_and_inserts_the_one_accepted(jupyter_server, page, flavour) -> None:
    """The notebook loaded the extension (as every notebook with `%%udgl` cells does), so
    the kernel completes UDGL too, and Python's words stay out of a `%%udgl` cell."""
    watch = PageWatch(page)
    name = write_notebook(jupyter_server.root, f"tab-{flavour}.ipynb", [("code", "%load_ext hogar_nb"), ("code", "")])
    open_udgl_page(page, udgl_url(jupyter_server, flavour, name))
    run_cells(page, 0, 1)
    page.wait_for_function("""() => /\\[1\\]/.test(document.querySelectorAll('.jp-Notebook .jp-Cell')[0]
                                            .querySelector('.jp-InputPrompt').textContent)""", timeout=60_000)
    page.locator(CELLS).nth(1).locator(".cm-content").click()
    rng = random.Random(f"tab-{flavour}")
    type_like_a_person(page, TAB_CELL + "mo", rng)
    labels = tab_complete(page, 1, "mo")
    assert labels[:2] == ["model", "monitor"], labels
    assert "%more" not in labels
    page.screenshot(path=str(ARTIFACTS / f"tab-model-{flavour}.png"))
    accept_first(page, labels)
    assert editor_text(page, 1).split("\n")[-1] == "model"

    type_like_a_person(page, " extra { isolation = p", rng)
    labels = tab_complete(page, 1, "model extra { isolation = p")
    assert labels == [] or labels[0] == "process", labels  # an only item goes in at once
    accept_first(page, labels)
    assert editor_text(page, 1).split("\n")[-1] == "model extra { isolation = process"

    type_like_a_person(page, " }\nout -> ", rng)
    labels = tab_complete(page, 1, "out -> ")
    assert labels[:4] == ["ingest", "monitor", "out", "extra"], labels
    assert not {"abs", "print", "%%bash", "%more"} & set(labels)  # no Python builtins, no magics
    page.screenshot(path=str(ARTIFACTS / f"tab-nodes-{flavour}.png"))
    accept_first(page, labels)
    assert editor_text(page, 1) == TAB_CELL + "model extra { isolation = process }\nout -> ingest"
    assert watch.update_errors() == [] and watch.errors_from_this_extension() == []


def test_tab_ranks_udgl_first_before_the_extension_is_loaded(jupyter_server, page) -> None:
    """Before `%load_ext hogar_nb` the kernel offers Python's words: UDGL's come first."""
    name = write_notebook(jupyter_server.root, "tab-unloaded.ipynb", [("code", "")])
    open_udgl_page(page, udgl_url(jupyter_server, "lab", name))
    fresh_cell(page, 0)
    type_like_a_person(page, TAB_CELL + "out -> ", random.Random("tab-unloaded"))
    labels = tab_complete(page, 0, "out -> ")
    assert labels[:3] == ["ingest", "monitor", "out"], labels
    assert len(labels) > 3  # the kernel's words follow (the list renders only what fits)
