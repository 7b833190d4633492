"""A request's id is made on first use, and every thread that reads it sees the same one."""

from __future__ import annotations

import threading

from hogar_nb.runtime.walk import RequestContext


def test_threads_reading_a_fresh_id_at_once_see_one_id() -> None:
    contexts = [RequestContext() for _ in range(2_000)]
    seen: list[list[str]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def read(out: list[str]) -> None:
        start.wait()
        out.extend(c.request_id for c in contexts)

    threads = [threading.Thread(target=read, args=(out,)) for out in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(out == seen[0] for out in seen)
    assert len(set(seen[0])) == 2_000
