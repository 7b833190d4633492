"""Tab completion of ``%%udgl`` cells by the kernel: the words the lab extension offers.

IPython's completer hands every matcher the whole cell. :func:`udgl_matcher` answers
in a cell whose first line is the ``%%udgl`` magic, below that line, with what
:func:`~hogar_nb.jupyter.server.completion.complete_source` (the server extension's
completion) finds at the cursor, and asks IPython to leave Python's own matches out
when it has some. So Tab completes UDGL in any front end that asks the kernel
(classic Notebook, VS Code, ``jupyter console``, JupyterLab without the extension).
``%load_ext hogar_nb`` registers it.
"""

from __future__ import annotations

from typing import Any

from IPython.core.completer import (
    CompletionContext,
    SimpleCompletion,
    SimpleMatcherResult,
    context_matcher,
)

from .server.completion import complete_source, starting_with
from .server.service import MAGIC, split_magic

__all__ = ["IDENTIFIER", "register", "udgl_matcher", "unregister"]

IDENTIFIER = "udgl"  # as IPCompleter.disable_matchers and the completions' origin name it


def _is_udgl_cell(text: str) -> bool:
    magic = split_magic(text)[0].split()
    return bool(magic) and magic[0] == MAGIC


@context_matcher(identifier=IDENTIFIER)
def udgl_matcher(context: CompletionContext) -> SimpleMatcherResult:
    """UDGL completions at the cursor of a ``%%udgl`` cell; nothing anywhere else."""
    if context.cursor_line == 0 or not _is_udgl_cell(context.full_text):
        return {"completions": [], "suppress": False}
    reply = complete_source(context.full_text, context.cursor_line + 1, context.cursor_position + 1, cell=True)
    completions = [SimpleCompletion(item.get("apply", item["label"]), type=item["type"])
                   for item in starting_with(reply)]
    # ordered: as the kind table and the text list them, like the editor's list
    return {"completions": completions, "matched_fragment": reply["prefix"],
            "suppress": bool(completions), "ordered": True}


def register(shell: Any) -> None:
    """Add :func:`udgl_matcher` to ``shell``'s completer (once)."""
    matchers = shell.Completer.custom_matchers
    if udgl_matcher not in matchers:
        matchers.insert(0, udgl_matcher)


def unregister(shell: Any) -> None:
    """Remove :func:`udgl_matcher` from ``shell``'s completer."""
    matchers = shell.Completer.custom_matchers
    while udgl_matcher in matchers:
        matchers.remove(udgl_matcher)
