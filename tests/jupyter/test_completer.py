"""Tab completion of `%%udgl` cells by the kernel: through a real IPython shell's
completer (what ipykernel answers a `complete_request` with), and through a real kernel."""

from __future__ import annotations

import pytest
from IPython.core.completer import provisionalcompleter

from hogar_nb.core import kinds
from hogar_nb.jupyter.completer import udgl_matcher
from hogar_nb.jupyter.server.completion import complete_source, starting_with

CELL = """\
%%udgl scoring
param threshold = 0.5
source ingest { route = "/score" }
python monitor { impl = "m:f" }
sink out
ingest -> monitor -> out
"""


def _complete(ip, text: str, cursor: int | None = None) -> list[tuple[str, str, str]]:
    """(text, type, replaced text) of every completion at ``cursor`` (default: the end)."""
    cursor = len(text) if cursor is None else cursor
    with provisionalcompleter():
        return [(c.text, c.type, text[c.start:c.end]) for c in ip.Completer.completions(text, cursor)]


def test_a_statement_start_offers_udgl_words_not_magics(ip) -> None:
    found = _complete(ip, CELL + "mo")
    assert found == [("model", "type", "mo"), ("monitor", "variable", "mo")]
    assert "%more" in [text for text, _, _ in _complete(ip, "mo")]  # a Python cell still gets magics


def test_after_an_arrow_the_cells_nodes_are_offered(ip) -> None:
    found = _complete(ip, CELL + "out -> ")
    assert [text for text, _, _ in found] == ["ingest", "monitor", "out"]
    assert {kind for _, kind, _ in found} == {"variable"}


def test_an_enum_value_is_completed_from_the_kind_table(ip) -> None:
    text = CELL + 'python extra { impl = "m:g", isolation = p'
    assert _complete(ip, text) == [("process", "enum", "p")]
    assert "process" in kinds.ISOLATION_MODES


def test_attributes_insert_their_equals_sign_and_params_their_dollar(ip) -> None:
    found = _complete(ip, CELL + "python extra { impl = \"m:g\", repl")
    assert found == [("replicas = ", "property", "repl")]
    found = _complete(ip, CELL + "python extra { impl = \"m:g\", timeout = $th")
    assert found == [("$threshold", "variable", "$th")]


def test_the_cursor_may_sit_in_the_middle_of_the_cell(ip) -> None:
    text = CELL.replace("python monitor {", "python monitor { isol")
    cursor = text.index("isol") + len("isol")
    assert _complete(ip, text, cursor) == [("isolation = ", "property", "isol")]


def test_the_magic_line_and_python_cells_keep_ipythons_completion(ip) -> None:
    assert not any(kind == "type" for _, kind, _ in _complete(ip, "%%udgl mo"))
    assert ("print", "function", "pri") in _complete(ip, "x = 1\npri")
    # a cell magic other than %%udgl is not UDGL
    assert ("model", "type", "mo") not in _complete(ip, "%%time\nmo")


def test_nothing_to_offer_leaves_the_other_matchers_alone(ip) -> None:
    # a number is being typed: UDGL has nothing, IPython's matchers keep their say
    text = CELL + "python extra { replicas = 1"
    assert not any(kind in ("type", "property", "enum") for _, kind, _ in _complete(ip, text))


def test_the_kernel_offers_what_the_server_extension_offers(ip) -> None:
    """At the end of every prefix of every line, the kernel's completions are the
    server's items that extend the word typed, in the server's order, and nothing else."""
    offered = 0
    lines = CELL.splitlines()
    for number, line in enumerate(lines[1:], start=2):
        for column in range(1, len(line) + 2):
            text = "\n".join(lines[: number - 1] + [line[: column - 1]])
            server = [item.get("apply", item["label"])
                      for item in starting_with(complete_source(text, number, column, cell=True))]
            if server:
                assert [t for t, _, _ in _complete(ip, text)] == server, (number, column)
                offered += 1
    assert offered > 20


def test_loading_twice_registers_one_matcher_and_unloading_removes_it(ip) -> None:
    ip.run_line_magic("reload_ext", "hogar_nb")
    assert ip.Completer.custom_matchers.count(udgl_matcher) == 1
    ip.run_line_magic("unload_ext", "hogar_nb")
    try:
        assert udgl_matcher not in ip.Completer.custom_matchers
        assert ("model", "type", "mo") not in _complete(ip, CELL + "mo")
    finally:
        ip.run_line_magic("load_ext", "hogar_nb")


@pytest.mark.timeout(120)
def test_a_running_kernel_answers_a_complete_request_with_udgl(tmp_path) -> None:
    """What classic Notebook, VS Code or `jupyter console` ask: `complete_request`."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", extra_arguments=["--HistoryManager.enabled=False"],
                              cwd=str(tmp_path))
    try:
        reply = kc.execute_interactive("%load_ext hogar_nb", timeout=60)
        assert reply["content"]["status"] == "ok"
        code = CELL + "python extra { isolation = p"
        reply = kc.complete(code, len(code), reply=True, timeout=60)["content"]
        assert reply["status"] == "ok"
        assert reply["matches"] == ["process"]
        assert code[reply["cursor_start"]:reply["cursor_end"]] == "p"
        code = CELL + "mo"
        matches = kc.complete(code, len(code), reply=True, timeout=60)["content"]["matches"]
        assert matches == ["model", "monitor"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
