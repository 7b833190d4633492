"""The error wire form: every exception class of the runtime goes to JSON and back unchanged."""

from __future__ import annotations

import json

import pytest

from hogar_nb.core.error_wire import HTTP_STATUS, ErrorWire
from hogar_nb.runtime.errors import CAUSES, ERROR_CLASSES, OverloadError, RequestError, error_from_wire


@pytest.mark.parametrize("cause", CAUSES)
def test_each_cause_round_trips_through_json(cause: str) -> None:
    err = ERROR_CLASSES[cause](f"something about {cause}", "node-1")
    wire = ErrorWire.of(err, "rid-7")
    body = json.loads(json.dumps(wire.to_json()))
    assert body == {"error": {"cause": cause, "message": f"something about {cause}", "node": "node-1",
                              "request_id": "rid-7"}}
    back = error_from_wire(ErrorWire.from_json(body))
    assert type(back) is type(err) and (str(back), back.node, back.cause) == (str(err), "node-1", cause)
    assert wire.status == HTTP_STATUS[cause]
    assert wire.headers().get("retry-after") == ("1" if wire.status == 503 else None)
    assert wire.headers()["x-request-id"] == "rid-7"


def test_a_trace_id_travels_beside_the_request_id() -> None:
    wire = ErrorWire.of(OverloadError("full", "a"), "rid-8", "0af7651916cd43dd8448eb211c80319c")
    body = json.loads(json.dumps(wire.to_json()))
    assert body["error"]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert body["error"]["request_id"] == "rid-8"
    assert ErrorWire.from_json(body, 503) == wire


def test_other_exceptions_have_a_wire_form_too() -> None:
    assert ErrorWire.of(ValueError("no source 'x'")).to_json()["error"]["cause"] == "bad_request"
    other = ErrorWire.of(ZeroDivisionError("division by zero"))
    assert (other.cause, other.message, other.status) == ("error", "ZeroDivisionError: division by zero", 500)
    assert type(error_from_wire(ErrorWire("something_new", "?"))) is RequestError
    assert ErrorWire.of(OverloadError("full")).retry_after == 1


@pytest.mark.parametrize("body", [None, [], {"error": "text"}, {"error": {"message": "no cause"}}, {"x": 1}])
def test_what_is_not_the_wire_form_is_a_value_error(body: object) -> None:
    with pytest.raises(ValueError):
        ErrorWire.from_json(body)
