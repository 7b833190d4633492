"""RequestFuture keeps the concurrent.futures.Future contract while making its Condition
only on first use: results, errors, waits, callbacks, cancels and asyncio, settled from
other threads before and after anyone waits."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import threading

import pytest

import hogar_nb
from hogar_nb.runtime.future import RequestFuture

from .conftest import chain
from .impls import double


def test_a_result_set_before_anyone_waits_needs_no_condition() -> None:
    fut = RequestFuture()
    fut.set_result(42)
    assert "_condition" not in fut.__dict__
    assert (fut.done(), fut.result(), fut.exception(), fut.cancelled(), fut.running()) == (True, 42, None, False, False)
    failed = RequestFuture()
    failed.set_exception(KeyError("k"))
    with pytest.raises(KeyError):
        failed.result()
    assert isinstance(failed.exception(), KeyError)
    with pytest.raises(cf.InvalidStateError):
        fut.set_result(1)


def test_waiters_on_every_path_get_every_result_set_from_another_thread() -> None:
    futures = [RequestFuture() for _ in range(3000)]
    called: list[int] = []
    for i, fut in enumerate(futures[:1000]):  # callbacks added before the result
        fut.add_done_callback(lambda f, i=i: called.append(i))

    def settle() -> None:
        for i, fut in enumerate(futures):
            fut.set_result(i) if i % 7 else fut.set_exception(ValueError(i))

    thread = threading.Thread(target=settle)
    thread.start()
    done, not_done = cf.wait(futures[1000:2000], timeout=60)
    assert not not_done
    seen = [f.result() if f.exception() is None else -1 for f in cf.as_completed(futures[2000:], timeout=60)]
    outcomes = [f.exception() if f.exception() is not None else f.result(timeout=60) for f in futures]
    thread.join()
    assert sorted(called) == list(range(1000))
    assert len(seen) == 1000
    assert [isinstance(o, ValueError) if i % 7 == 0 else o == i for i, o in enumerate(outcomes)] == [True] * 3000
    late: list[int] = []
    futures[0].add_done_callback(lambda f: late.append(1))  # after the result: called at once
    assert late == [1]


def test_a_cancel_and_a_result_never_both_win() -> None:
    for _ in range(2000):
        fut = RequestFuture()
        outcome: list = []

        def settle(fut: RequestFuture = fut, outcome: list = outcome) -> None:
            try:
                fut.set_result(1)
                outcome.append("result")
            except cf.InvalidStateError:
                outcome.append("refused")

        thread = threading.Thread(target=settle)
        thread.start()
        cancelled = fut.cancel()
        thread.join()
        assert (cancelled, outcome) in ((True, ["refused"]), (False, ["result"]))
        assert fut.cancelled() == cancelled and fut.done()


def test_asyncio_wraps_it_and_a_deployment_returns_it() -> None:
    async def main() -> list:
        fut = RequestFuture()
        threading.Timer(0.01, fut.set_result, ("later",)).start()
        return [await asyncio.wrap_future(fut)]

    assert asyncio.run(main()) == ["later"]
    with hogar_nb.run(chain(double)) as dep:
        futures = [dep.submit(i) for i in range(500)]
        assert all(isinstance(f, RequestFuture) for f in futures)
        assert [f.result(timeout=60) for f in cf.as_completed(futures)] != []
        assert [f.result() for f in futures] == [2 * i for i in range(500)]


def test_asyncio_requests_from_several_loops_each_get_their_results(no_leaks) -> None:
    with hogar_nb.run(chain(double, double)) as dep:
        async def burst(n: int) -> list:
            return await asyncio.gather(*(dep.acall(i) for i in range(n)))

        for _ in range(3):  # a new loop each time: its futures are settled on it
            assert asyncio.run(burst(500)) == [4 * i for i in range(500)]
        # a loop closed while its requests are in flight: their outcomes are dropped,
        # and another loop's requests are answered as before
        gone = asyncio.new_event_loop()
        stranded = [dep._engine.submit(i, "src", wait=False, loop=gone).future for i in range(100)]
        gone.close()
        assert asyncio.run(burst(500)) == [4 * i for i in range(500)]
        assert not any(f.done() for f in stranded)
        assert gone not in dep._engine._inboxes
