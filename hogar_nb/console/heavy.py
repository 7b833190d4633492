"""Work that takes seconds (exports of large graphs): done once per graph version, off the
thread that serves every page, and at most ``HOGAR_CONSOLE_HEAVY_PER_USER`` at a time per
user (default 1) and ``HOGAR_CONSOLE_HEAVY_TOTAL`` in all (default 2)."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from .config import ConsoleError, data_dir

__all__ = ["Busy", "HEAVY", "HeavyWork", "cached"]


class Busy(ConsoleError):
    """The user already has as much heavy work under way as allowed."""


class HeavyWork:
    """Slots for heavy work: ``per_user`` each, ``total`` in all (later ones wait for a slot)."""

    def __init__(self, per_user: int, total: int) -> None:
        self.per_user = per_user
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()
        self._total = threading.BoundedSemaphore(total)

    @contextmanager
    def slot(self, user: str, what: str) -> Iterator[None]:
        with self._lock:
            if self._running[user] >= self.per_user:
                raise Busy(f"{what} waits for your {self._running[user]} other export"
                           f"{'s' * (self._running[user] != 1)} in progress; try again when "
                           f"{'it is' if self._running[user] == 1 else 'they are'} done")
            self._running[user] += 1
        try:
            with self._total:
                yield
        finally:
            with self._lock:
                self._running[user] -= 1


HEAVY = HeavyWork(int(os.environ.get("HOGAR_CONSOLE_HEAVY_PER_USER", 1)),
                  int(os.environ.get("HOGAR_CONSOLE_HEAVY_TOTAL", 2)))


def _cache_path(key: str) -> Path:
    from .._version import __version__

    folder = data_dir() / "exports"
    folder.mkdir(exist_ok=True, mode=0o700)
    return folder / f"{key}-{__version__}.txt"


def cached(key: str, user: str, what: str, make: Callable[[], tuple[int, str]]) -> tuple[int, str]:
    """``(status, text)`` made once by ``make`` for ``key`` (e.g. one graph version's export)
    and kept in the data directory; making it takes a slot of ``user``'s (:class:`Busy`)."""
    path = _cache_path(key)
    try:
        status, _, text = path.read_text(encoding="utf-8").partition("\n")
        return int(status), text
    except (FileNotFoundError, ValueError):
        pass
    with HEAVY.slot(user, what):
        try:  # made meanwhile by another request
            status, _, text = path.read_text(encoding="utf-8").partition("\n")
            return int(status), text
        except (FileNotFoundError, ValueError):
            pass
        status_code, text = make()
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_text(f"{status_code}\n{text}", encoding="utf-8")
        tmp.replace(path)
        return status_code, text
