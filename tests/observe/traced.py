"""The traced graph of the tests (4 workers, a switch and an ensemble) and what one
request's trace must look like, whichever backend ran it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

IMPLS = "tests.observe.impls"

FOUR = f"""graph four
source api {{ route = "/score" }}
python f {{ impl = "{IMPLS}:double", replicas = 2 }}
switch w {{ impl = "{IMPLS}:gate" }}
python even {{ impl = "{IMPLS}:plus_one" }}
python odd {{ impl = "{IMPLS}:minus_one" }}
ensemble e {{ combine = first }}
sink out
api -> f -> w
w -> even {{ when = "even" }}
w -> odd {{ when = "odd" }}
[even, odd] -> e -> out
"""


def expected(x: int) -> tuple[int, str]:
    """The result of input ``x`` and the branch the switch takes."""
    return (2 * x + 1, "even") if x % 2 == 0 else (2 * x - 1, "odd")


def normalise(spans: Iterable[Any]) -> list[dict[str, Any]]:
    """Spans from the store's JSON or the SDK's ReadableSpans as one plain form."""
    out = []
    for s in spans:
        if isinstance(s, dict):
            out.append({"trace_id": s["trace_id"], "span_id": s["span_id"], "parent_id": s["parent_id"],
                        "name": s["name"], "kind": s["kind"], "ok": s["status"] == "ok",
                        "start": s["start"], "end": s["end"], "attrs": s["attributes"]})
        else:
            attrs = dict(s.attributes)
            out.append({"trace_id": format(s.context.trace_id, "032x"), "span_id": format(s.context.span_id, "016x"),
                        "parent_id": format(s.parent.span_id, "016x") if s.parent else None, "name": s.name,
                        "kind": attrs.pop("hogar.kind"), "ok": s.status.is_ok, "start": s.start_time / 1e9,
                        "end": s.end_time / 1e9, "attrs": {k: list(v) if isinstance(v, tuple) else v
                                                           for k, v in attrs.items()}})
    return out


def by_trace(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in spans:
        grouped[s["trace_id"]].append(s)
    return grouped


def check_four(spans: list[dict[str, Any]], x: int, traceparent: str, request_id: str,
               caller: str | None = None) -> dict[str, Any]:
    """Assert ``spans`` are one connected trace of request ``x`` through FOUR, its root
    the span ``traceparent`` names (a child of ``caller``'s span, if given); returns
    the root."""
    _v, trace_id, root_id, _flags = traceparent.split("-")
    assert {s["trace_id"] for s in spans} == {trace_id}
    ids = [s["span_id"] for s in spans]
    assert len(ids) == len(set(ids)), "span ids are unique"
    roots = [s for s in spans if s["kind"] == "request"]
    assert len(roots) == 1 and roots[0]["span_id"] == root_id
    root = roots[0]
    assert root["parent_id"] == (caller.split("-")[2] if caller else None)
    assert all(s["parent_id"] in ids for s in spans if s is not root), "one connected trace"
    _value, branch = expected(x)
    other = "odd" if branch == "even" else "even"
    assert root["ok"] and root["attrs"]["hogar.status"] == "ok"
    assert root["attrs"]["hogar.request_id"] == request_id and root["attrs"]["hogar.source"] == "api"
    assert root["attrs"]["hogar.skipped"] == [other]
    nodes = {s["name"]: s for s in spans if s["kind"] == "node"}
    assert set(nodes) == {"f", "w", branch}
    assert all(n["parent_id"] == root_id for n in nodes.values())
    assert nodes["w"]["attrs"]["hogar.choice"] == branch
    for name, node in nodes.items():
        children = [s for s in spans if s["parent_id"] == node["span_id"]]
        attempts = [s for s in children if s["kind"] == "attempt"]
        assert [a["attrs"]["hogar.outcome"] for a in attempts] == ["ok"], name
        assert attempts[0]["attrs"]["hogar.batch_size"] >= 1 and "hogar.replica" in attempts[0]["attrs"]
        assert {s["kind"] for s in children} <= {"attempt", "queue"}
        assert root["start"] <= node["start"] <= attempts[0]["start"] <= attempts[0]["end"] <= root["end"]
    return root
