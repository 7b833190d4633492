"""``Deployment.map``: score an iterable of payloads with bounded memory."""

from __future__ import annotations

import queue
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .base import DeploymentBase

__all__ = ["map_requests"]

_REFRESH = 0.2  # seconds between progress bar updates


def _outcome(fut: Future) -> Any:
    exc = fut.exception()
    return fut.result() if exc is None else exc


def _interactive() -> bool:
    from .impls import in_notebook

    return sys.stderr.isatty() or in_notebook()


class _Progress:
    """A one-line progress bar on stderr, redrawn at most every ``_REFRESH`` s."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.done = 0
        self.errors = 0
        self.t0 = self.shown = time.monotonic()

    def step(self, failed: bool) -> None:
        self.done += 1
        self.errors += failed
        now = time.monotonic()
        if now - self.shown >= _REFRESH:
            self.shown = now
            self.draw(now)

    def draw(self, now: float, end: str = "") -> None:
        rate = self.done / max(now - self.t0, 1e-9)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30) + "-" * (30 - int(frac * 30))
            head = f"[{bar}] {frac:4.0%}  {self.done}/{self.total}"
        else:
            head = f"{self.done} done"
        sys.stderr.write(f"\r{head}  errors {self.errors}  {rate:.0f}/s{end}")
        sys.stderr.flush()


def map_requests(dep: DeploymentBase, payloads: Iterable[Any], source: str, concurrency: int | None,
                 ordered: bool, timeout: float | None, progress: bool | None) -> Iterator[Any]:
    """The generator behind :meth:`DeploymentBase.map` (arguments already checked)."""
    limit = concurrency if concurrency is not None else dep._default_concurrency(source)
    if limit < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency!r}")
    total = len(payloads) if hasattr(payloads, "__len__") else None  # type: ignore[arg-type]
    bar = _Progress(total) if (_interactive() if progress is None else progress) else None
    gen = _ordered(dep, payloads, source, limit, timeout) if ordered else \
        _unordered(dep, payloads, source, limit, timeout)
    return gen if bar is None else _with_bar(gen, bar)


def _with_bar(gen: Iterator[Any], bar: _Progress) -> Iterator[Any]:
    from .errors import RequestError

    try:
        for item in gen:
            bar.step(isinstance(item, RequestError))
            yield item
    finally:
        bar.draw(time.monotonic(), "\n")


def _ordered(dep: DeploymentBase, payloads: Iterable[Any], source: str, limit: int,
             timeout: float | None) -> Iterator[Any]:
    window: deque[Future] = deque()
    submit = dep.submit
    for payload in payloads:
        window.append(submit(payload, source, timeout))
        if len(window) >= limit:
            yield _outcome(window.popleft())
    while window:
        yield _outcome(window.popleft())


def _unordered(dep: DeploymentBase, payloads: Iterable[Any], source: str, limit: int,
               timeout: float | None) -> Iterator[Any]:
    finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
    in_flight = 0
    for payload in payloads:
        dep.submit(payload, source, timeout).add_done_callback(finished.put)
        in_flight += 1
        while in_flight >= limit or not finished.empty():
            yield _outcome(finished.get())
            in_flight -= 1
    while in_flight:
        yield _outcome(finished.get())
        in_flight -= 1
