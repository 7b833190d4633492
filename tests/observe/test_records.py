"""A traced request is kept as a record of plain values; its spans are built when read."""

from __future__ import annotations

import gc

import hogar_nb
from hogar_nb.observe import records
from hogar_nb.runtime.walk import STEP_FIELDS, RequestContext, Step
from tests.runtime.conftest import chain, wait_for


def fail_on_7(x):
    if x % 10 == 7:
        raise ValueError(f"seven: {x}")
    return x


def test_the_record_layout_follows_the_walkers_steps() -> None:
    assert records.STEP_FIELDS == STEP_FIELDS == len(Step._fields)
    assert Step._fields[11] == "error" and Step._fields[1:3] == ("time", "node")


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
        assert not any(gc.is_tracked(r) for r in kept), "a record holds no object the collector follows"
        failed = [r for r in kept if r[records.CAUSE] is not None]
        assert len(failed) == 40 and all(r[records.ERROR_NODE] == "n0" for r in failed)
        assert all("seven" in r[records.ERROR] for r in failed)
        # the failed attempt's exception is kept as its text, in its step
        steps = [Step._make(failed[0][i:i + STEP_FIELDS]) for i in range(records.HEAD, len(failed[0]), STEP_FIELDS)]
        (attempt,) = [s for s in steps if s.kind == "attempt" and s.outcome != "ok"]
        assert attempt.node == "n0" and attempt.error.startswith("ValueError: seven")


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
