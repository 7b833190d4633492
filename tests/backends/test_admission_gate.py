"""The Ray ingress's gate: first come, first placed; resizable while calls wait;
a cancelled wait gives its place (or the slot it was just handed) back."""

from __future__ import annotations

import asyncio

from hogar_nb.backends.ray.admission import Gate, node_capacity


def test_capacity_is_slots_times_replicas_or_the_autoscalers_maximum() -> None:
    assert node_capacity({"max_ongoing_requests": 8, "num_replicas": 3, "max_queued_requests": 1024}) == (24, 1024)
    auto = {"max_ongoing_requests": 10, "autoscaling_config": {"min_replicas": 1, "max_replicas": 5}}
    assert node_capacity(auto) == (50, -1)


def test_calls_are_placed_in_arrival_order_and_never_past_the_limit() -> None:
    async def main() -> tuple[list[int], int]:
        gate = Gate(3)
        order: list[int] = []
        most = 0

        async def call(i: int) -> None:
            nonlocal most
            await gate.acquire()
            try:
                order.append(i)
                most = max(most, gate.held)
                await asyncio.sleep(0.001 * (i % 4))
            finally:
                gate.release()

        await asyncio.gather(*(call(i) for i in range(200)))
        assert (gate.held, gate.waiting) == (0, 0)
        return order, most

    order, most = asyncio.run(main())
    assert order == list(range(200)) and most == 3


def test_resizing_wakes_waiting_calls_and_shrinking_holds_new_ones() -> None:
    async def main() -> None:
        gate = Gate(1)
        await gate.acquire()
        waiters = [asyncio.ensure_future(gate.acquire()) for _ in range(4)]
        await asyncio.sleep(0)
        assert gate.waiting == 4
        gate.resize(3, -1)  # two more slots: the first two waiters are placed
        await asyncio.sleep(0)
        assert [w.done() for w in waiters] == [True, True, False, False] and gate.held == 3
        gate.resize(1, -1)  # smaller: nobody new is placed until the held ones leave
        for _ in range(2):
            gate.release()
        await asyncio.sleep(0)
        assert gate.held == 1 and not waiters[2].done()
        gate.release()
        await asyncio.sleep(0)
        assert waiters[2].done() and not waiters[3].done()
        waiters[3].cancel()
        gate.release()
        await asyncio.sleep(0)
        assert (gate.held, gate.waiting) == (0, 0)

    asyncio.run(main())


def test_a_wait_cancelled_just_as_its_slot_arrives_gives_the_slot_back() -> None:
    async def main() -> None:
        gate = Gate(1)
        await gate.acquire()
        waiter = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        gate.release()  # the slot is handed to the waiter...
        waiter.cancel()  # ...which is cancelled before it runs again
        await asyncio.gather(waiter, return_exceptions=True)
        assert waiter.cancelled() and gate.held == 0
        await asyncio.wait_for(gate.acquire(), 1)  # and the slot is free for the next call

    asyncio.run(main())


def test_full_only_when_no_slot_and_the_queue_is_at_its_bound() -> None:
    async def main() -> None:
        gate = Gate(1, queued=2)
        assert not gate.full()
        await gate.acquire()
        assert not gate.full()
        waiters = [asyncio.ensure_future(gate.acquire()) for _ in range(2)]
        await asyncio.sleep(0)
        assert gate.full()
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        assert not gate.full() and gate.waiting == 0
        assert not Gate(1, queued=-1).full()

    asyncio.run(main())
