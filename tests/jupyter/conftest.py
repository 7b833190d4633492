"""A real IPython shell with ``%load_ext hogar_nb`` and helpers to read what cells display."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def ip():
    shell = start_ipython() or InteractiveShell.instance()
    # like a kernel, not a terminal: compute every mime type, not only text/plain
    shell.display_formatter.active_types = list(shell.display_formatter.format_types)
    shell.run_line_magic("load_ext", "hogar_nb")
    before = set(shell.user_ns)
    yield shell
    from hogar_nb.runtime.deployment import Deployment

    for key in set(shell.user_ns) - before:
        value = shell.user_ns.pop(key)
        if isinstance(value, Deployment):
            value.stop()


@pytest.fixture
def run_udgl(ip):
    """Run ``%%udgl line`` on ``cell``; return the captured outputs (a list of mime dicts)."""

    def run(line: str, cell: str):
        with capture_output() as cap:
            result = ip.run_cell_magic("udgl", line, cell)
        assert result is None
        return [out.data for out in cap.outputs], cap.stdout, cap.stderr

    return run
