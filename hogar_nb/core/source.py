"""Graph file text: bytes to text without ever raising on bad encodings, within a size limit.

The parsers read their input through this module; :mod:`.graph_file` reads a whole file
into a Graph with either of them."""

from __future__ import annotations

import contextlib
import contextvars
from pathlib import Path
from typing import Iterator

from .diagnostics import Diagnostic

__all__ = ["EARG_SUFFIXES", "MAX_SOURCE_BYTES", "decode_source", "files_allowed", "read_limited", "too_large",
           "without_files"]

EARG_SUFFIXES = (".yaml", ".yml", ".json")
MAX_SOURCE_BYTES = 10 * 2**20  # a graph file is a few KB; anything past this is not one


def too_large(size: int | None = None) -> Diagnostic:
    """The diagnostic for an input over :data:`MAX_SOURCE_BYTES`."""
    got = "" if size is None else f" {size:,} characters,"
    return Diagnostic(
        "E007", "error", f"the input is{got} over the {MAX_SOURCE_BYTES // 2**20} MiB limit of a graph file",
        hint="a graph file is text of a few KB; check that this is the file you meant",
    )


def read_limited(path: Path) -> tuple[bytes | None, list[Diagnostic]]:
    """The bytes of ``path`` (at most :data:`MAX_SOURCE_BYTES`; never reads without bound,
    so ``/dev/zero`` or a FIFO is refused), or None and a diagnostic."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SOURCE_BYTES + 1)
    except (OSError, ValueError) as err:
        message = getattr(err, "strerror", None) or str(err)
        return None, [Diagnostic("E100", "error", f"cannot read {_short(str(path))}: {message}",
                                 hint="check the path")]
    if len(data) > MAX_SOURCE_BYTES:
        return None, [too_large()]
    return data, []


def _short(text: str, most: int = 200) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= most else text[: most - 3] + "..."


def decode_source(data: bytes) -> tuple[str, list[Diagnostic]]:
    """UTF-8 text of ``data``; bytes that are not UTF-8 become U+FFFD and one diagnostic."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as err:
        text = data.decode("utf-8", errors="replace")
        before = data[: err.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return text, [Diagnostic(
            "E004", "error", f"the file is not valid UTF-8 (byte 0x{data[err.start]:02x})",
            line, column, line, column + 1, hint="save the file as UTF-8",
        )]


_FILES: contextvars.ContextVar[bool] = contextvars.ContextVar("hogar_graph_files", default=True)


@contextlib.contextmanager
def without_files() -> Iterator[None]:
    """Read graphs that have no folder of their own (a web upload): their ``use``
    statements and model artifact paths read no file of the machine that checks them."""
    token = _FILES.set(False)
    try:
        yield
    finally:
        _FILES.reset(token)


def files_allowed() -> bool:
    """Whether the graph being read may read the files it names (see :func:`without_files`)."""
    return _FILES.get()
