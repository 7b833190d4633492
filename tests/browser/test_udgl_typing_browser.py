"""`%%udgl` cells typed by hand, key by key at 20-120 ms per key, into fresh cells of
JupyterLab 4 and Notebook 7: the cell turns UDGL while it is being typed, lint
attaches (a `/hogar-nb/lint` request, the underline and the gutter marker of the
error), every keystroke lands, and the page logs no error. Each flavour types five
fresh cells, so that an attach that works only some of the time fails the test."""

from __future__ import annotations

import json
import random
from urllib.parse import urlsplit

import pytest
from notebook_page import ARTIFACTS, BUILT_EXTENSION
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
        lints_before = watch.calls("lint")
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
        assert watch.update_errors() == []
    page.screenshot(path=str(ARTIFACTS / f"typed-{flavour}.png"))
    assert watch.errors_from_this_extension() == []
