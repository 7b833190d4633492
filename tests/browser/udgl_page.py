"""Helpers for the UDGL editing tests: notebooks with markdown cells, colours of
tokens in an editor, and the editor text as CodeMirror holds it."""

from __future__ import annotations

from pathlib import Path

import nbformat

# colour of the first element in the `index`-th editor whose text is exactly `text`
_TOKEN_COLOR = """([scope, index, text]) => {
  const editor = document.querySelectorAll(scope)[index];
  if (!editor) return null;
  for (const el of editor.querySelectorAll('.cm-line span')) {
    if (el.textContent === text && el.children.length === 0) return getComputedStyle(el).color;
  }
  return 'no such token';
}"""

_VAR_COLOR = """([name]) => {
  const probe = document.createElement('span');
  probe.style.color = `var(${name})`;
  document.querySelector('.cm-editor').appendChild(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color;
}"""

_PLAIN_COLOR = """([scope, index]) => getComputedStyle(document.querySelectorAll(scope)[index]
                                   .querySelector('.cm-content')).color"""

CELL_EDITORS = ".jp-Notebook .jp-Cell .cm-editor"
FILE_EDITOR = ".jp-FileEditor .cm-editor"


PYTHON_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python", "codemirror_mode": {"name": "ipython", "version": 3}},
}


def write_notebook(root: Path, name: str, cells: list[tuple[str, str]], metadata: dict | None = None) -> str:
    """A notebook of ``(cell_type, source)`` cells in the server's root dir (Python by default)."""
    nb = nbformat.v4.new_notebook()
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    nb.cells = [make[kind](src) for kind, src in cells]
    nb.metadata.update(metadata or PYTHON_METADATA)
    nbformat.write(nb, root / name)
    return name


def token_color(page, index: int, text: str, scope: str = CELL_EDITORS) -> str | None:
    return page.evaluate(_TOKEN_COLOR, [scope, index, text])


def var_color(page, name: str) -> str:
    return page.evaluate(_VAR_COLOR, [name])


def plain_color(page, index: int, scope: str = CELL_EDITORS) -> str:
    return page.evaluate(_PLAIN_COLOR, [scope, index])


def editor_text(page, index: int, scope: str = CELL_EDITORS) -> str:
    return page.evaluate(
        """([scope, i]) => [...document.querySelectorAll(scope)[i].querySelectorAll('.cm-line')]
                           .map(l => l.textContent).join('\\n')""", [scope, index])


def wait_for_token_color(page, index: int, text: str, variable: str, scope: str = CELL_EDITORS,
                         timeout: float = 30.0) -> None:
    """Wait until ``text`` in the ``index``-th editor has the colour of CSS ``variable``."""
    wait_for_colors(page, index, {text: variable}, scope, timeout)


def wait_for_colors(page, index: int, expected: dict[str, str], scope: str = CELL_EDITORS,
                    timeout: float = 30.0) -> None:
    """Wait until every token text in ``expected`` has the colour of its CSS variable
    (re-highlighting after a mime type change is asynchronous); assert with the
    colours found when it does not happen in time."""
    try:
        page.wait_for_function(
            f"""([scope, index, expected]) => Object.entries(expected).every(([text, name]) =>
                  ({_TOKEN_COLOR})([scope, index, text]) === ({_VAR_COLOR})([name]))""",
            arg=[scope, index, expected], timeout=timeout * 1000, polling=100)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: show what differs
        found = {t: token_color(page, index, t, scope) for t in expected}
        want = {t: var_color(page, v) for t, v in expected.items()}
        raise AssertionError(f"token colours {found} are not {want}") from None


def udgl_url(server, flavour: str, path: str) -> str:
    """The URL of ``path`` in JupyterLab (``flavour`` "lab") or Notebook 7 ("notebook7")."""
    return f"{server.url}/lab/tree/{path}?reset" if flavour == "lab" else f"{server.url}/notebooks/{path}"


def open_udgl_page(page, url: str, editors: str = ".jp-Notebook .jp-Cell .cm-content", kernel: bool = True) -> None:
    """Open ``url``; for a notebook with a ``kernel``, wait until it is idle: the kernel's
    language resets every code cell's mime type once, and the tests look at what follows."""
    page.goto(url)
    page.wait_for_selector(editors)
    if kernel and "Notebook" in editors:
        page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator, .jp-KernelStatus')]
                   .some(e => /idle/i.test(e.getAttribute('data-status') || e.getAttribute('title')
                                           || e.textContent))""", timeout=90_000)
