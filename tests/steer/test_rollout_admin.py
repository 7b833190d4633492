"""`hogar rollout` against a served graph's admin API: start, status, pause, promote, abort,
and bad requests answered 400 with a JSON error."""

from __future__ import annotations

import json
import time

import httpx
import pytest

import hogar_nb
from hogar_nb.cli import main

from .test_rollout import GRAPH

TOKEN = "rollout-token-for-tests"


@pytest.fixture
def served(no_leaks):
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH))
    try:
        yield dep, dep.serve_http(admin_token=TOKEN)
    finally:
        dep.stop()


def rollout(url: str, *args: str, capsys) -> tuple[int, str, str]:
    code = main(["rollout", url, "c", *args, "--token", TOKEN])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_hogar_rollout_drives_a_served_graph(served, capsys):
    dep, url = served
    code, out, err = rollout(url, "start", "--candidate", "cand", "--steps", "10%,100%", "--step-time", "0.3",
                             "--step-requests", "5", "--gate-interval", "0.3", capsys=capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "c: cand running at 10%"
    with httpx.Client(base_url=url, timeout=30) as client:
        i = 0
        deadline = time.monotonic() + 60
        while not dep.rollouts["c"].done:  # traffic through the HTTP front lets the steps pass
            assert client.post("/s", json=i).json() == 2 * i
            assert time.monotonic() < deadline, "the rollout did not finish within a minute of traffic"
            i += 1
    code, out, _ = rollout(url, "status", "--json", capsys=capsys)
    status = json.loads(out)
    assert code == 0 and status["state"] == "promoted" and status["weight"] == 1.0
    assert [m["weight"] for m in status["moves"]] == [0.1, 1.0, 1.0]


def test_pause_abort_and_refusals(served, capsys):
    dep, url = served
    assert rollout(url, "start", "--candidate", "cand", "--step-time", "60", capsys=capsys)[0] == 0
    assert rollout(url, "pause", capsys=capsys)[1].startswith("c: cand paused at 5%")
    code, _out, err = rollout(url, "pause", capsys=capsys)
    assert code == 2 and "400: the rollout of 'cand' at 'c' is paused; this needs it running" in err
    code, out, _ = rollout(url, "abort", capsys=capsys)
    assert code == 0 and out.startswith("c: cand aborted at 0% (aborted by the operator)")
    with httpx.Client(base_url=url, timeout=30) as client:
        auth = {"authorization": f"Bearer {TOKEN}"}
        for body, needle in [({"action": "status"}, "split"), ({"split": "c", "action": "explode"}, "explode"),
                             ({"split": "c", "action": "start", "candidate": "cand", "steps": "x"}, "steps"),
                             ({"split": "c", "action": "start", "candidate": "cand", "colour": 1}, "colour")]:
            resp = client.post("/hogar/v1/admin/rollout", json=body, headers=auth)
            assert resp.status_code == 400 and needle in resp.json()["error"]["message"], resp.text
        assert client.post("/hogar/v1/admin/rollout", json={"split": "c"}).status_code == 401
    code, _out, err = rollout(url, "start", "--candidate", "cand", "--quality-metric", "accuracy", capsys=capsys)
    assert code == 2 and "400: the accuracy gate needs labels for both arms" in err, err
    code, _out, err = main(["rollout", url, "c", "status", "--token", "wrong"]), *capsys.readouterr()
    assert code == 2 and "401" in err
