"""Every page and permission through Django's test client: sign-in everywhere, roles, CSRF,
escaping, uploads with diagnostics, versions, diffs, downloads and the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.test import Client

from hogar_nb.console.models import AuditEntry, Deployment, GraphRecord, GraphVersion

CASES = Path(__file__).resolve().parent.parent / "core" / "cases"
DESIGN = (CASES / "valid" / "design_example.udgl").read_text()
EVIL = "<script>alert(1)</script>"

pytestmark = pytest.mark.django_db


def upload(client, text: str = DESIGN, name: str = "", **extra):
    return client.post("/graphs/upload/", {"text": text, "name": name, "format": "auto", "comment": "", **extra})


@pytest.fixture
def allowed(db):
    """What the design example runs, on the allowlist (empty by default)."""
    from hogar_nb.console.models import AllowedCode

    AllowedCode.objects.create(kind="python", entry="fraud")
    AllowedCode.objects.create(kind="model", entry="models")


@pytest.fixture
def graph(as_role, allowed):
    client = as_role("operator")
    response = upload(client)
    assert response.status_code == 302
    return GraphRecord.objects.get(name="fraud_scoring")


@pytest.fixture
def deployment(graph, users):
    version = graph.latest
    # A registered deployment whose server is gone: pages still render from the database.
    return Deployment.objects.create(name="fraud-live", kind=Deployment.REGISTERED, version=version,
                                     earg=version.earg, url="http://127.0.0.1:9", admin_token="t",
                                     state="unreachable", created_by=users["operator"])


def _pages(graph, deployment) -> list[str]:
    g, d = graph.pk, deployment.pk
    return ["/", "/graphs/", "/graphs/upload/", f"/graphs/{g}/", f"/graphs/{g}/v/1/", f"/graphs/{g}/diff/",
            f"/graphs/{g}/v/1/download/udgl", f"/graphs/{g}/v/1/download/yaml", f"/graphs/{g}/v/1/download/json",
            "/deployments/", f"/deployments/{d}/", f"/deployments/{d}/history", f"/deployments/{d}/stream",
            "/audit/"]


def _posts(graph, deployment) -> list[str]:
    g, d = graph.pk, deployment.pk
    return ["/graphs/upload/", f"/graphs/{g}/v/1/deploy/", "/deployments/register/", f"/deployments/{d}/stop/",
            f"/deployments/{d}/reconfigure/", f"/deployments/{d}/fault/"]


def test_anonymous_is_sent_to_sign_in_everywhere(graph, deployment):
    anonymous = Client()
    for url in _pages(graph, deployment) + _posts(graph, deployment):
        for method in ("get", "post"):
            response = getattr(anonymous, method)(url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].startswith("/signin/?next="), (method, url)
    assert Client().get("/admin/").status_code == 302


def test_viewer_reads_but_every_change_is_refused(graph, deployment, as_role):
    viewer = as_role("viewer")
    for url in _pages(graph, deployment):
        if url == "/audit/":
            assert viewer.get(url).status_code == 403
        elif not url.endswith("/stream"):
            assert viewer.get(url, follow=True).status_code == 200, url
    before = (GraphVersion.objects.count(), Deployment.objects.count(), AuditEntry.objects.count())
    for url in _posts(graph, deployment):
        response = viewer.post(url, {"text": DESIGN, "node": "xgb", "attr": "replicas", "value": "3",
                                     "name": "x", "url": "http://127.0.0.1:9", "kind": "crash", "rate": "1"})
        assert response.status_code == 403, url
    assert (GraphVersion.objects.count(), Deployment.objects.count(), AuditEntry.objects.count()) == before
    assert Deployment.objects.get(pk=deployment.pk).desired == "running"


def test_viewer_page_shows_no_change_forms(graph, deployment, as_role):
    page = as_role("viewer").get(f"/deployments/{deployment.pk}/").content.decode()
    assert "reconfigure-form" not in page and "stop-form" not in page
    page = as_role("operator").get(f"/deployments/{deployment.pk}/").content.decode()
    assert "reconfigure-form" in page and "stop-form" in page


def test_a_missing_csrf_token_is_refused(users, allowed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["operator"])
    response = upload(client)
    assert response.status_code == 403
    assert GraphVersion.objects.count() == 0
    page = client.get("/graphs/upload/")
    token = page.context["csrf_token"]
    assert upload(client, csrfmiddlewaretoken=str(token)).status_code == 302
    assert Client(enforce_csrf_checks=True).post("/signin/", {"username": "operator", "password": "x"}).status_code == 403


def test_sign_in_out_and_cookie_flags(users):
    from console_processes import PASSWORD

    client = Client()
    page = client.get("/signin/")
    assert page.status_code == 200
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Strict"
    response = client.post("/signin/", {"username": "viewer", "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert client.get("/deployments/").status_code == 200
    assert client.post("/signout/").status_code == 302
    assert client.get("/deployments/").status_code == 302


def test_failed_sign_ins_are_throttled(users):
    from console_processes import PASSWORD

    client = Client()
    for _ in range(4):
        response = client.post("/signin/", {"username": "operator", "password": "wrong-password"})
        assert response.status_code == 200 and "didn't match" in response.content.decode()
    assert client.post("/signin/", {"username": "operator", "password": "wrong-password"}).status_code == 429
    locked = client.post("/signin/", {"username": "operator", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert client.get("/deployments/").status_code == 302
    # Another user from the same address is not locked out.
    assert Client().post("/signin/", {"username": "viewer", "password": PASSWORD}).status_code == 302


def test_a_script_name_is_escaped_everywhere(as_role, users, allowed):
    operator = as_role("operator")
    assert upload(operator, name=EVIL).status_code == 302
    record = GraphRecord.objects.get(name=EVIL)
    assert upload(operator, DESIGN.replace("replicas = 4", "replicas = 5"), name=EVIL).status_code == 302
    version = record.latest
    Deployment.objects.create(name=EVIL, kind=Deployment.REGISTERED, version=version, earg=version.earg,
                              url="http://127.0.0.1:9", state="unreachable")
    dep = Deployment.objects.get(name=EVIL)
    admin = as_role("admin")
    pages = ["/graphs/", f"/graphs/{record.pk}/v/2/", f"/graphs/{record.pk}/diff/?a=1&b=2", "/deployments/",
             f"/deployments/{dep.pk}/", "/audit/"]
    for url in pages:
        body = admin.get(url).content.decode()
        assert EVIL not in body, url
        assert "&lt;script&gt;" in body, url
    download = admin.get(f"/graphs/{record.pk}/v/2/download/udgl")
    assert EVIL not in download["Content-Disposition"]


def test_upload_shows_diagnostics_with_line_caret_and_hint(as_role):
    bad = DESIGN.replace("replicas = 4", "replicas = 0").replace("blend -> gate", "blend -> gatee")
    response = upload(as_role("operator"), bad)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="hogar-diagnostics' in body
    assert "line " in body and "^" in body and "hint:" in body
    assert "expected an integer &gt;= 1" in body
    assert GraphVersion.objects.count() == 0


@pytest.mark.parametrize("payload, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary file"),
    (b"graph g\n\xff\xfe source s\n", "not valid UTF-8"),
    (b"", "choose a file or paste"),
])
def test_junk_uploads_get_a_clear_message(as_role, payload, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_role("operator")
    response = client.post("/graphs/upload/", {"file": SimpleUploadedFile("junk.udgl", payload), "format": "auto"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert GraphVersion.objects.count() == 0


def test_an_upload_over_the_limit_is_refused_with_the_limit(as_role, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.HOGAR_MAX_UPLOAD = 4096
    client = as_role("operator")
    big = DESIGN + "\n" + "# padding\n" * 1000
    response = client.post("/graphs/upload/", {"file": SimpleUploadedFile("big.udgl", big.encode()), "format": "auto"})
    assert response.status_code == 400
    body = response.content.decode()
    assert f"{len(big.encode()):,} bytes" in body and "4,096 bytes" in body
    response = upload(client, big)
    assert response.status_code == 400 and "4,096 bytes" in response.content.decode()


def test_versions_diff_and_downloads(graph, as_role):
    client = as_role("operator")
    changed = DESIGN.replace("replicas = 4", "replicas = 6").replace(
        "sink      out", 'sink      out\npython    audit_log { impl = "fraud.audit:log" }')
    changed = changed.replace("review_v2 -> out", "review_v2 -> audit_log -> out")
    assert upload(client, changed, comment="more xgb").status_code == 302
    assert list(graph.versions.values_list("number", flat=True)) == [2, 1]
    page = client.get(f"/graphs/{graph.pk}/v/2/").content.decode()
    assert "v1" in page and "v2" in page and "more xgb" in page
    elements = json.loads(page.split('id="graph-elements" type="application/json">')[1].split("</script>")[0])
    xgb = next(e for e in elements if e["data"].get("id") == "xgb")
    assert ["replicas", "6"] in xgb["data"]["attrs"] and ["timeout_ms", "250"] in xgb["data"]["attrs"]
    assert xgb["classes"] == "kind-model"
    diff = client.get(f"/graphs/{graph.pk}/diff/?a=1&b=2")
    body = diff.content.decode()
    assert "Nodes added: audit_log" in body
    assert "Edges added: audit_log -&gt; out, review_v2 -&gt; audit_log" in body
    assert "Edges removed: review_v2 -&gt; out" in body
    assert '<td>xgb</td><td>replicas</td><td>4</td><td>6</td>' in body
    assert '<span class="add">+' in body and '<span class="del">-' in body
    udgl = client.get(f"/graphs/{graph.pk}/v/2/download/udgl")
    assert udgl["Content-Disposition"] == 'attachment; filename="fraud_scoring-v2.udgl"'
    import hogar_nb

    assert hogar_nb.parse_udgl(udgl.content.decode()).to_earg() == graph.versions.get(number=2).earg
    yaml_doc = client.get(f"/graphs/{graph.pk}/v/2/download/yaml").content.decode()
    assert hogar_nb.loads_earg(yaml_doc).to_earg() == graph.versions.get(number=2).earg
    assert json.loads(client.get(f"/graphs/{graph.pk}/v/1/download/json").content) == graph.versions.get(number=1).earg
    ray = client.get(f"/graphs/{graph.pk}/v/1/download/ray-serve")
    assert ray.status_code == 200 and "applications:" in ray.content.decode()
    assert ray["Content-Disposition"] == 'attachment; filename="fraud_scoring-v1.ray-serve.yaml"'
    kserve = client.get(f"/graphs/{graph.pk}/v/1/download/kserve")  # python nodes have no KServe form
    assert kserve.status_code == 422 and "a python node runs Python code" in kserve.content.decode()
    assert client.get(f"/graphs/{graph.pk}/v/1/download/exe").status_code == 404
    assert client.get(f"/graphs/{graph.pk}/v/9/").status_code == 404


def test_an_earg_upload_is_a_version_too(graph, as_role):
    client = as_role("operator")
    doc = client.get(f"/graphs/{graph.pk}/v/1/download/yaml").content.decode()
    assert upload(client, doc).status_code == 302
    v2 = graph.versions.get(number=2)
    assert v2.source_format == "earg" and v2.earg == graph.versions.get(number=1).earg
    assert "No structural change" in client.get(f"/graphs/{graph.pk}/diff/?a=1&b=2").content.decode()
    # A pasted text naming a file on the server is read as text, never opened.
    response = upload(client, "/etc/passwd", format="earg")
    assert response.status_code == 400


def test_versions_are_immutable(graph):
    from hogar_nb.console.models import ImmutableError

    version = graph.latest
    version.comment = "changed"
    with pytest.raises(ImmutableError):
        version.save()
    with pytest.raises(ImmutableError):
        version.delete()


def test_reconfiguration_is_checked_against_the_core_ranges_first(deployment, as_role):
    client = as_role("operator")
    url = f"/deployments/{deployment.pk}/reconfigure/"
    cases = [({"node": "xgb", "attr": "replicas", "value": "0"}, "expected an integer >= 1"),
             ({"node": "xgb", "attr": "timeout", "value": "250"}, "add a unit"),
             ({"node": "xgb", "attr": "batch_wait", "value": "-5ms"}, "batch_wait"),
             ({"node": "nope", "attr": "retries", "value": "1"}, "not in this graph"),
             ({"node": "blend", "attr": "replicas", "value": "2"}, "inline"),
             ({"node": "xgb", "attr": "retries", "value": "2"}, "did not answer")]
    for form, message in cases:
        response = client.post(url, form, HTTP_ACCEPT="application/json")
        assert response.status_code in (400, 502), form
        assert message in response.json()["error"]["message"], (form, response.json())
    assert not deployment.timeline.filter(kind="reconfigure").exists()
    assert not AuditEntry.objects.filter(action="reconfigure").exists()


def test_audit_log_is_for_admins_and_lists_uploads_and_stops(graph, deployment, as_role):
    operator = as_role("operator")
    assert operator.post(f"/deployments/{deployment.pk}/stop/").status_code == 302
    assert operator.get("/audit/").status_code == 403
    body = as_role("admin").get("/audit/").content.decode()
    assert "upload" in body and "stop" in body and "fraud-live" in body and "operator" in body
    assert Deployment.objects.get(pk=deployment.pk).state == "stopped"


def test_local_assets_are_served(as_role):
    client = Client()
    for path in ("/static/console/vendor/cytoscape.min.js", "/static/console/vendor/dagre.min.js",
                 "/static/console/vendor/cytoscape-dagre.js", "/static/plotly/plotly.min.js",
                 "/static/console/live.js", "/static/console/graph.js", "/static/console/console.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(body) > 100


_UDGL_BITS = ["graph g", "source s", "python p { impl = \"m:f\" }", "sink o", "s -> p -> o", "{", "}", "->",
              "replicas = 0", "timeout = 250", "nodes:", "- name: x", "earg: 1", "\x00", "\ufeff", "é", "\n"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=600),
                 st.lists(st.sampled_from(_UDGL_BITS), max_size=30).map(lambda xs: " ".join(xs).encode())),
       st.sampled_from(["auto", "udgl", "earg"]), st.sampled_from(["", "g.udgl", "g.yaml", "g.json", "g.bin"]))
def test_any_upload_is_a_graph_or_diagnostics_never_an_exception(data, fmt, filename):
    from hogar_nb.console.uploads import check_upload

    result = check_upload(data, filename, fmt, max_bytes=500)
    assert result.ok or result.errors
    for d in result.diagnostics:
        d.snippet(result.text or None)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_UDGL_BITS), max_size=20).map(" ".join))
def test_the_upload_page_answers_any_text_with_a_page(as_role, text):
    response = upload(as_role("operator"), text)
    assert response.status_code in (302, 400, 403)
    if response.status_code == 403:  # an impl no admin allowed
        assert "allowlist" in response.content.decode()
    elif response.status_code == 400:
        assert "hogar-diagnostics" in response.content.decode() or "choose a file" in response.content.decode()


def test_admins_manage_users_in_django_admin(as_role, users):
    from django.contrib.auth import get_user_model

    assert as_role("operator").get("/admin/auth/user/").status_code == 302  # to the admin's sign-in
    admin = as_role("admin")
    page = admin.get("/admin/auth/user/")
    assert page.status_code == 200 and "viewer" in page.content.decode()
    viewer = users["viewer"]
    response = admin.post(f"/admin/auth/user/{viewer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not get_user_model().objects.filter(username="viewer").exists()


def test_restarts_are_counted_once_per_meaning(graph, deployment, as_role):
    """The server's restarts by the console and the replicas the server replaced are two
    numbers with two names, never one sum."""
    Deployment.objects.filter(pk=deployment.pk).update(restarts=2, summary={"node_restarts": 10, "rps": 1.0})
    listing = as_role("viewer").get("/deployments/").content.decode()
    assert "Server restarts" in listing and "Replica restarts" in listing
    assert '<td class="server-restarts">2</td>' in listing and '<td class="replica-restarts">10</td>' in listing
    page = as_role("viewer").get(f"/deployments/{deployment.pk}/").content.decode()
    assert 'server restarts <span id="dep-server-restarts">2</span>' in page
    assert 'replica restarts <span id="dep-replica-restarts">10</span>' in page


def test_refusals_are_pages_that_say_what_to_do(graph, deployment, as_role):
    viewer = as_role("viewer")
    refused = viewer.get("/audit/")
    page = refused.content.decode()
    assert refused.status_code == 403 and "<h1>Not allowed</h1>" in page
    assert "This needs the admin role." in page and "with the viewer role" in page and "<nav>" in page
    # A viewer is told before typing that uploading needs the operator role: no form to fill in.
    upload_page = viewer.get("/graphs/upload/").content.decode()
    assert 'id="needs-operator"' in upload_page and "<textarea" not in upload_page
    assert "<textarea" in as_role("operator").get("/graphs/upload/").content.decode()


def test_exports_are_offered_only_where_they_work(graph, as_role):
    client = as_role("viewer")
    page = client.get(f"/graphs/{graph.pk}/v/1/").content.decode()
    assert f'href="/graphs/{graph.pk}/v/1/download/ray-serve"' in page
    assert f'href="/graphs/{graph.pk}/v/1/download/kserve"' not in page
    assert 'data-format="kserve"' in page and "not possible: " in page
    refused = client.get(f"/graphs/{graph.pk}/v/1/download/kserve")
    body = refused.content.decode()
    assert refused.status_code == 422 and refused["Content-Type"].startswith("text/html")
    assert "cannot be exported as a KServe InferenceGraph" in body and "a python node runs Python code" in body
    assert 'class="hogar-diagnostic"' in body


def test_two_deployments_may_not_share_a_name(graph, deployment, as_role):
    client = as_role("operator")
    response = client.post(f"/graphs/{graph.pk}/v/1/deploy/", {"name": "fraud-live"}, follow=True)
    assert Deployment.objects.filter(name="fraud-live").count() == 1
    assert "a deployment named &#x27;fraud-live&#x27; exists already" in response.content.decode()
    admin = as_role("admin")  # registering a server is an admin's
    response = admin.post("/deployments/register/", {"name": "fraud-live", "url": "http://127.0.0.1:9"}, follow=True)
    assert Deployment.objects.filter(name="fraud-live").count() == 1
    assert "exists already" in response.content.decode()


def test_pages_show_values_as_text_not_python_reprs(graph, deployment, as_role):
    from hogar_nb.console.models import audit

    audit("operator", "deploy", "x", allow_faults=False, batch={"max_size": 4, "max_wait_ms": 5.0},
          nodes=["a", "b"], rate=0.5)
    page = as_role("admin").get("/audit/").content.decode()
    assert "allow_faults = false; batch = {max_size: 4, max_wait_ms: 5}; nodes = [a, b]; rate = 0.5" in page
    assert "{&#x27;" not in page and "False" not in page
    page = as_role("viewer").get(f"/deployments/{deployment.pk}/").content.decode()
    assert '<td class="timeout">250 ms</td>' in page
    assert " ms</td>" in page and ".0 ms" not in page
    # A diff of lists and of attributes one side lacks shows them as text too.
    changed = DESIGN.replace("review_v2 -> out", 'python trail { impl = "fraud.review:trail" }\n'
                             "review_v2 -> trail -> out")
    assert changed != DESIGN
    upload(as_role("operator"), changed)
    diff = as_role("viewer").get(f"/graphs/{graph.pk}/diff/?a=1&b=2").content.decode()
    assert "<td>stages</td>" in diff and "[[ingest], [features]," in diff
    assert "&#x27;" not in diff and "None" not in diff


def test_an_upload_says_what_hogar_serve_would(as_role):
    """A valid graph whose impl module does not exist is saved with the check before
    start's warning, and its page says hogar serve would not start it."""
    from hogar_nb.console.models import AllowedCode

    for entry in ("tests.runtime.impls", "no_such_module_for_hogar"):  # operators deploy allowed code
        AllowedCode.objects.create(kind="python", entry=entry)
    client = as_role("operator")
    good = 'graph starts\nsource a\npython b { impl = "tests.runtime.impls:double" }\nsink c\na -> b -> c\n'
    bad = good.replace("graph starts", "graph wont_start").replace("tests.runtime.impls", "no_such_module_for_hogar")
    for text in (good, bad):
        assert upload(client, text).status_code == 302
    ok = GraphRecord.objects.get(name="starts").latest
    assert [w for w in ok.warnings if w["code"] == "W040"] == []
    assert 'id="would-not-start"' not in client.get(f"/graphs/{ok.graph.pk}/v/1/").content.decode()
    version = GraphRecord.objects.get(name="wont_start").latest
    [warning] = [w for w in version.warnings if w["code"] == "W040"]
    assert "no_such_module_for_hogar" in warning["message"] and warning["line"] == 3 and warning["node"] == "b"
    page = client.get(f"/graphs/{version.graph.pk}/v/1/").content.decode()
    assert 'id="would-not-start"' in page and 'data-code="W040"' in page and "it would not start" in page
