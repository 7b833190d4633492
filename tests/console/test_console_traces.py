"""The console's trace pages, from a real traced deployment served on 127.0.0.1: the
slowest and failed requests listed, one trace drawn as a waterfall, its text escaped."""

from __future__ import annotations

import pytest

import hogar_nb
from hogar_nb.console.models import Deployment
from tests.runtime.conftest import chain, wait_for

pytestmark = pytest.mark.django_db

EVIL = "<script>alert(1)</script>"


def boom_on_negative(x):
    if x < 0:
        raise ValueError(EVIL)
    return x


def test_trace_pages_list_and_draw_a_deployments_traces(as_role, users) -> None:
    served = hogar_nb.run(chain(boom_on_negative, "tests.runtime.impls:double"))
    try:
        served.enable_tracing(export=False)
        url = served.serve_http()
        futures = [served.submit(x) for x in (1, -1, 2)]
        [f.exception(10) for f in futures]
        wait_for(lambda: len(served.traces()) == 3, 10, "three traces")
        dep = Deployment.objects.create(name="traced", kind=Deployment.REGISTERED, url=url, admin_token="",
                                        state="running", created_by=users["operator"])
        client = as_role("viewer")
        assert b'id="traces-link"' in client.get(f"/deployments/{dep.pk}/").content
        page = client.get(f"/deployments/{dep.pk}/traces/")
        assert page.status_code == 200
        html = page.content.decode()
        for fut in futures:
            assert f"/deployments/{dep.pk}/traces/{fut.context.trace_id}/" in html
        failed = futures[1].context.trace_id
        page = client.get(f"/deployments/{dep.pk}/traces/{failed}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert html.count('class="span-row"') == len(served.trace(failed)["spans"])
        assert 'data-kind="attempt" data-status="error"' in html and "span-bar failed" in html
        assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        gone = client.get(f"/deployments/{dep.pk}/traces/{'0' * 32}/")
        assert gone.status_code == 200 and b'id="trace-error"' in gone.content and b"answered 404" in gone.content
        assert client.get(f"/deployments/{dep.pk}/traces/nothex/").status_code == 404
    finally:
        served.stop()
