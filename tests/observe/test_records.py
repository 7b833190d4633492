"""A traced request is kept as a record of plain values; its spans are built when read."""

from __future__ import annotations

import gc

import pytest

import hogar_nb
from hogar_nb.observe import records
from hogar_nb.core.trail import ANSWERED, ENQUEUED, PASSED, STARTED, STEP, started, trail_steps
from hogar_nb.runtime.walk import STEP_FIELDS, RequestContext, Step
from tests.runtime.conftest import chain, wait_for


def fail_on_7(x):
    if x % 10 == 7:
        raise ValueError(f"seven: {x}")
    return x


def test_the_record_layout_follows_the_walkers_steps() -> None:
    assert records.STEP_FIELDS == STEP_FIELDS == len(Step._fields)
    assert Step._fields[11] == "error" and Step._fields[1:3] == ("time", "node")


def test_a_trail_reads_back_as_the_steps_written() -> None:
    # times in the writer's clock; the started step's offset makes them epoch seconds
    trail = [STARTED, 0.0, "src", 1000.0, ENQUEUED, 0.25, "a", ANSWERED, 0.75, "a", 0, "2", 0.5, 4,
             STEP, "retry", 1.0, "b", 1, "timeout", None, 0.05, None, None, 1, False, None,
             STEP, "attempt", 1.5, "b", 1, "error", None, 0.0, "0", 1.25, 1, True, "ValueError: no",
             PASSED, 2.0, "b", 2, "1", 1.75, 1, "c"]
    steps = [Step._make(s) for s in trail_steps(trail)]
    assert [(s.kind, s.time, s.node) for s in steps] == [
        ("started", 1000.0, "src"), ("enqueued", 1000.25, "a"), ("attempt", 1000.75, "a"), ("retry", 1001.0, "b"),
        ("attempt", 1001.5, "b"), ("attempt", 1002.0, "b"), ("enqueued", 1002.0, "c")]
    # an answer passed straight on is the attempt and the next node's enqueue, at one time
    assert steps[5] == Step("attempt", 1002.0, "b", 2, "ok", None, 0.0, "1", 1001.75, 1, False, None)
    assert steps[6] == Step("enqueued", 1002.0, "c", 0, "", None, 0.0, None, None, 1, False, None)
    assert steps[2] == Step("attempt", 1000.75, "a", 0, "ok", None, 0.0, "2", 1000.5, 4, False, None)
    assert steps[1] == Step("enqueued", 1000.25, "a", 0, "", None, 0.0, None, None, 1, False, None)
    assert steps[3].delay == 0.05 and steps[3].began is None
    assert steps[4].shadow and steps[4].error == "ValueError: no" and steps[4].began == 1001.25
    assert started(trail) == 1000.0
    assert trail_steps(trail, 4)[0][:3] == ("enqueued", 0.25, "a"), "read from the middle: no offset known"
    with pytest.raises(ValueError, match="code"):
        trail_steps([STARTED, 1.0, "src", 0.0, "enqueued"])


def test_kept_traces_are_plain_values_the_garbage_collector_stops_following(no_leaks) -> None:
    with hogar_nb.run(chain(fail_on_7, "tests.runtime.impls:double")) as dep:
        tracing = dep.enable_tracing(export=False, recent=500)
        futures = [dep.submit(i, context=RequestContext(f"r{i}")) for i in range(400)]
        errors = [f.exception(30) for f in futures]
        assert sum(e is not None for e in errors) == 40
        wait_for(lambda: tracing.store.added == 400, 30, "every trace")
        kept = list(tracing.store._recent)
        assert len(kept) == 400 and all(type(r) is tuple for r in kept)
        gc.collect()
        gc.collect()  # a tuple in a tuple (a walked request's trail) may take a collection per level
        assert not any(gc.is_tracked(r) for r in kept), "a kept trace holds no object the collector follows"
        # a request that succeeded is kept walked: its root span's ids, request id, route, end and trail
        walked = [r for r in kept if len(r) == records.WALKED]
        assert len(walked) == 360
        ids = {f.context.request_id: f.context.attrs["trace"] for f in futures}
        for trace, span, parent, request_id, route, end, trail in walked:
            assert (trace, span, parent) == (ids[request_id].trace_id, ids[request_id].span_id, 0)
            assert route is None and type(end) is float and type(trail) is tuple and trail[0] == STARTED
        # a failed one as its record: the error as its text, no exception (nor its frames)
        failed = [r for r in kept if len(r) != records.WALKED]
        assert len(failed) == 40 and all(r[records.ERROR_NODE] == "n0" for r in failed)
        assert all("seven" in r[records.ERROR] for r in failed)
        steps = [Step._make(s) for s in trail_steps(failed[0], records.HEAD)]
        (attempt,) = [s for s in steps if s.kind == "attempt" and s.outcome != "ok"]
        assert attempt.node == "n0" and attempt.error.startswith("ValueError: seven")
        # read, every request is a record, in the order they ended
        settled = tracing.store.recent()
        assert len(settled) == 400 and all(len(r) > records.HEAD for r in settled)
        assert sorted(r[records.REQUEST_ID] for r in settled) == sorted(f"r{i}" for i in range(400))
        assert [r[records.END] for r in settled] == sorted(r[records.END] for r in settled)
        first = next(r for r in settled if r[records.CAUSE] is None)
        assert first[records.HEAD:] == walked[0][6] and first[records.START] == started(walked[0][6])


def test_a_record_builds_the_same_spans_whenever_it_is_read(no_leaks) -> None:
    with hogar_nb.run(chain("tests.runtime.impls:double", "tests.runtime.impls:double")) as dep:
        dep.enable_tracing(export=False)
        fut = dep.submit(3, context=RequestContext("again"))
        assert fut.result(10) == 12
        first = dep.trace(fut.context.trace_id, wait=5)
        assert first is not None
        second = dep.trace(fut.context.trace_id)
        assert first == second
        spans = first["spans"]
        ids = [s["span_id"] for s in spans]
        assert len(set(ids)) == len(ids)
        kinds = [s["kind"] for s in spans]
        assert kinds.count("request") == 1 and kinds.count("node") == 2 and kinds.count("attempt") == 2
        assert set(kinds) <= {"request", "node", "queue", "attempt"}
        root = spans[0]
        assert root["kind"] == "request" and root["span_id"] == fut.context.attrs["trace"].span_hex
        assert all(s["parent_id"] in ids for s in spans[1:])
        assert [s["name"] for s in spans if s["kind"] == "node"] == ["n0", "n1"]
