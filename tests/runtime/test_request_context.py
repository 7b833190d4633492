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


def test_ids_filled_in_one_go_are_fresh_unique_and_agree_with_readers() -> None:
    from hogar_nb.runtime.walk.context import fill_request_ids

    named = RequestContext("given")
    contexts = [RequestContext() for _ in range(5_000)]
    readers_saw: list[str] = []
    go = threading.Barrier(2)

    def read() -> None:  # a reader making ids one by one while the batch is filled
        go.wait()
        readers_saw.extend(c.request_id for c in contexts[::7])

    reader = threading.Thread(target=read)
    reader.start()
    go.wait()
    fill_request_ids([named, None, *contexts])
    reader.join()
    ids = [c.request_id for c in contexts]
    assert named.request_id == "given"
    assert len(set(ids)) == 5_000 and all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    assert readers_saw == ids[::7], "an id read once never changes"
    assert RequestContext().request_id not in set(ids)
