"""Rollouts from the console against a real served graph (HTTP on 127.0.0.1): the
deployment page starts one at a split, shows it, pauses and aborts it; each action is on
the timeline and in the audit log; a refused action is shown, never a traceback."""

from __future__ import annotations

import re

import pytest

import hogar_nb
from hogar_nb.console.models import AuditEntry, Deployment, TimelineEvent

pytestmark = pytest.mark.django_db(transaction=True)

GRAPH = """graph canary
source s
split c
python stable { impl = "tests.steer.impls:primary" }
python cand   { impl = "tests.steer.impls:primary" }
sink out
s -> c
c -> stable { weight = 100% }
c -> cand   { weight = 0% }
stable -> out
cand -> out
"""
TOKEN = "console-rollout-token"


def _row(page: str) -> dict[str, str]:
    row = page[page.index('<tr data-split="c">', page.index('id="rollouts"')):]
    row = row[:row.index("</tr>")]
    return dict(re.findall(r'<td class="(\w+)">([^<]*)</td>', row))


def test_start_pause_and_abort_a_rollout_from_the_page(users, client) -> None:
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH))
    try:
        record = Deployment.objects.create(name="canary", kind=Deployment.REGISTERED, url=dep.serve_http(admin_token=TOKEN),
                                           admin_token=TOKEN, earg=dep.earg, state="running")
        client.force_login(users["operator"])
        page = client.get(f"/deployments/{record.pk}/").content.decode()
        assert '<form id="rollout-form"' in page and 'id="rollouts"' not in page  # no rollout yet
        assert '<option value="cand">cand (at c)</option>' in page
        post = f"/deployments/{record.pk}/rollout/"
        response = client.post(post, {"split": "c", "action": "start", "candidate": "cand",
                                      "steps": "10%, 50%, 100%", "step_time": "60"}, follow=True)
        assert "rollout at c: start by operator; cand running at 10%" in response.content.decode()
        assert dep.rollouts["c"].policy.steps == (0.1, 0.5, 1.0) and dep.rollouts["c"].policy.step_time == 60
        assert _row(client.get(f"/deployments/{record.pk}/").content.decode()) == {
            "candidate": "cand", "state": "running", "step": "0", "weight": "10%", "cause": "—"}
        client.post(post, {"split": "c", "action": "pause"})
        assert dep.rollouts["c"].state == "paused"
        response = client.post(post, {"split": "c", "action": "pause"}, follow=True)  # refused by the server
        assert "answered 400: the rollout of &#x27;cand&#x27; at &#x27;c&#x27; is paused" in response.content.decode()
        response = client.post(post, {"split": "c", "action": "start", "steps": "lots"}, follow=True)
        assert "give the steps as shares" in response.content.decode()
        response = client.post(post, {"split": "nope", "action": "abort"}, follow=True)
        assert "&#x27;nope&#x27; is not a split of canary" in response.content.decode()
        client.post(post, {"split": "c", "action": "abort"})
        assert _row(client.get(f"/deployments/{record.pk}/").content.decode()) == {
            "candidate": "cand", "state": "aborted", "step": "0", "weight": "0%", "cause": "aborted by the operator"}
        assert dep.call(4) == 8
        texts = list(TimelineEvent.objects.filter(deployment=record, kind="rollout").values_list("text", flat=True))
        assert texts == ["rollout at c: start by operator; cand running at 10%",
                         "rollout at c: pause by operator; cand paused at 10%",
                         "rollout at c: abort by operator; cand aborted at 0%"]
        actions = [e.detail["step"] for e in AuditEntry.objects.filter(action="rollout").order_by("time")]
        assert actions == ["start", "pause", "abort"]
    finally:
        dep.stop()
