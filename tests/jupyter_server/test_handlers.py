"""The lint, completion and format endpoints through a real Jupyter server."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hogar_nb.core.kinds import attrs_for_kind
from hogar_nb.core.udgl import parse_udgl
from hogar_nb.jupyter.server.handlers import MAX_BODY, MAX_TEXT, SMALL_TEXT

LOG = Path(__file__).resolve().parents[2] / "test-artifacts" / "hogar-nb-server-extension.log"

MISSPELT = 'source ingest\npython feat { impl = "m:f", replicass = 2 }\nsink out\ningest -> feat -> out\n'


@pytest.mark.parametrize("endpoint", ["lint", "complete", "format"])
@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_authentication_is_required(server, endpoint, token) -> None:
    reply = server.post(endpoint, {"text": MISSPELT}, token=token)
    assert reply.status == 403
    assert "diagnostics" not in reply.body and "items" not in reply.body


def test_lint_reports_the_misspelt_attribute_at_its_span(server) -> None:
    reply = server.post("lint", {"text": MISSPELT})
    assert reply.status == 200 and reply.content_type.startswith("application/json")
    [d] = reply.body["diagnostics"]
    assert (d["code"], d["severity"], d["line"], d["column"]) == ("E012", "error", 2, 29)
    assert MISSPELT.split("\n")[1][d["column"] - 1:d["end_column"] - 1] == "replicass = 2"
    assert d["hint"] == "did you mean `replicas`?"
    assert reply.body["errors"] == 1 and reply.body["parsed"] is True
    fixed = server.post("lint", {"text": MISSPELT.replace("replicass", "replicas")})
    assert fixed.body == {"diagnostics": [], "errors": 0, "parsed": True, "types": {}}


def test_lint_of_a_cell_counts_the_magic_line_and_leaves_notebook_params_alone(server) -> None:
    cell = "%%udgl scoring --run\n" + MISSPELT.replace("replicass = 2", "replicas = $n, timeoutt = 1s")
    as_cell = server.post("lint", {"text": cell, "cell": True}).body["diagnostics"]
    assert [(d["code"], d["line"]) for d in as_cell] == [("E012", 3)]
    as_file = server.post("lint", {"text": cell}).body["diagnostics"]
    assert {d["code"] for d in as_file} >= {"E002", "E023"}  # `%` and the undeclared $n


@pytest.mark.parametrize(("body", "cause"), [
    (b"{not json", "bad_request"),
    (b'["text"]', "bad_request"),
    (b'{"txt": "source a"}', "bad_request"),
    (b'{"text": 42}', "bad_request"),
    (b'{"text": "a", "cell": "yes"}', "bad_request"),
    (b"\xff\xfe\x00garbage", "bad_request"),
    (b"", "bad_request"),
])
def test_bad_bodies_get_a_clear_json_error(server, body, cause) -> None:
    reply = server.post("lint", body)
    assert reply.status == 400
    assert reply.body["error"]["cause"] == cause
    assert reply.body["error"]["message"] == reply.body["message"] and reply.body["message"]


def test_a_huge_body_is_refused_with_413(server) -> None:
    status, answer = _raw(server, f"POST /hogar-nb/lint HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  f"Authorization: token {server.token}\r\nContent-Type: application/json\r\n"
                                  f"Content-Length: {MAX_BODY + 3}\r\n\r\n")
    assert status == 413
    assert answer["error"]["cause"] == "too_large"
    assert f"{MAX_BODY:,}" in answer["message"]


def test_five_thousand_deep_brackets_are_a_diagnostic(server) -> None:
    text = "python a { x = " + "[" * 5000 + "]" * 5000 + " }\n" + "b -> " + "[" * 5000 + "\n"
    reply = server.post("lint", {"text": text})
    assert reply.status == 200
    codes = {d["code"] for d in reply.body["diagnostics"]}
    assert "E005" in codes
    for endpoint in ("format", "complete"):
        assert server.post(endpoint, {"text": text, "line": 1, "column": 30}).status == 200


def test_binary_junk_is_answered_with_diagnostics(server) -> None:
    junk = bytes(random.Random(7).randrange(256) for _ in range(20_000)).decode("latin-1")
    reply = server.post("lint", {"text": junk})
    assert reply.status == 200
    assert reply.body["errors"] >= 1
    assert all(d["line"] is None or d["line"] >= 1 for d in reply.body["diagnostics"])


def test_a_storm_of_good_and_bad_requests_never_gets_a_500(server) -> None:
    rng = random.Random(11)
    good = {"text": MISSPELT}
    payloads = [
        (good, 200), (b"{broken", 400), ({"text": "\x00\x01" * 500}, 200),
        ({"text": "[" * 3000}, 200), ({"text": 1}, 400), ({"text": MISSPELT, "cell": True}, 200),
    ]
    plan = [rng.choice(payloads) for _ in range(600)]

    def send(item):
        body, expected = item
        endpoint = rng.choice(["lint", "complete", "format"])
        return server.post(endpoint, body).status, expected

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(send, plan))
    statuses = Counter(status for status, _ in results)
    assert sum(statuses.values()) == len(plan)
    assert [r for r in results if r[0] != r[1]] == [], statuses
    assert server.post("lint", good).body["errors"] == 1  # still answering correctly


def test_completion_offers_the_kinds_attributes_with_their_descriptions(server) -> None:
    text = 'source ingest\nensemble blend { combine = mean, w'
    reply = server.post("complete", {"text": text, "line": 2, "column": len(text.split("\n")[1]) + 1})
    assert reply.status == 200
    assert reply.body["prefix"] == "w"
    items = {i["label"]: i for i in reply.body["items"]}
    specs = attrs_for_kind("ensemble")
    assert set(items) == set(specs) - {"combine"}
    assert items["weights"]["info"].startswith(specs["weights"].doc)
    assert items["weights"]["type"] == "property"


def test_completion_offers_enum_values_and_node_names(server) -> None:
    text = "source ingest\npython f { impl = \"m:f\", recovery = "
    labels = [i["label"] for i in server.post("complete", {"text": text, "line": 2, "column": 99}).body["items"]]
    assert labels[:3] == ["restart", "failover", "none"]
    text = "%%udgl\nsource ingest\npython f\nsink out\ningest -> f -> "
    reply = server.post("complete", {"text": text, "line": 5, "column": 16, "cell": True})
    assert [i["label"] for i in reply.body["items"]] == ["ingest", "f", "out"]
    for bad in ({"line": True}, {"line": "5"}, {"column": 2.5}):
        refused = server.post("complete", {"text": text, **bad})
        assert refused.status == 400 and refused.body["error"]["cause"] == "bad_request"


def test_format_rewrites_a_messy_text_canonically(server) -> None:
    messy = 'source   ingest{route="/x"}\npython f {impl="m:f",replicas=2}\nsink out\ningest->f\nf->out\n'
    reply = server.post("format", {"text": messy})
    assert reply.status == 200 and reply.body["changed"] is True
    assert reply.body["text"] == parse_udgl(messy).to_udgl()
    again = server.post("format", {"text": reply.body["text"]}).body
    assert again["changed"] is False and again["text"] == reply.body["text"]
    cell = server.post("format", {"text": "%%udgl g\n" + messy, "cell": True}).body
    assert cell["text"] == "%%udgl g\n" + reply.body["text"]
    broken = server.post("format", {"text": "source {\n"}).body
    assert broken["text"] is None and broken["diagnostics"][0]["code"] == "E003"


def test_the_server_extension_imports_no_kernel_or_widgets() -> None:
    code = ("import sys, hogar_nb.jupyter.server.handlers as h\n"
            "h.service.lint('source a'); h.completion.complete('s', 1, 2)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    mods = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("IPython", "ipykernel", "ipywidgets", "anywidget", "plotly", "jupyterlab"):
        assert f"'{heavy}'" not in mods


def test_no_handler_lacks_an_authentication_decorator(tmp_path) -> None:
    # Jupyter Server warns about every handler without one when unauthenticated access is off
    code = (
        "import warnings\n"
        "from jupyter_server.serverapp import ServerApp\n"
        "from jupyter_server.utils import JupyterServerAuthWarning\n"
        "app = ServerApp(allow_unauthenticated_access=False, reraise_server_extension_failures=True,\n"
        "                jpserver_extensions={'hogar_nb.jupyter.server': True})\n"
        "with warnings.catch_warnings(record=True) as records:\n"
        "    warnings.simplefilter('always')\n"
        "    app.initialize(argv=[], find_extensions=False, new_httpserver=False)\n"
        "rules = [r.matcher.regex.pattern for r in app.web_app.default_router.rules[0].target.rules]\n"
        "print(sum('hogar-nb' in p for p in rules))\n"
        "print([str(r.message) for r in records if issubclass(r.category, JupyterServerAuthWarning)])\n"
    )
    env = {"JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    handlers, warnings = out.stdout.strip().splitlines()[-2:]
    assert int(handlers) >= 3 and warnings == "[]"


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_deep_is_a_400_not_a_traceback(server, depth) -> None:
    logged = LOG.stat().st_size
    for body in ((b"[" * depth + b"]" * depth), (b'{"text": "a", "x": ' + b"[" * depth + b"]" * depth + b"}")):
        reply = server.post("lint", body)
        assert reply.status == 400 and reply.body["error"]["cause"] == "bad_request", reply.body
    log = LOG.read_bytes()[logged:].decode("utf-8", "replace")
    assert "RecursionError" not in log and "Traceback" not in log


def _raw(server, head: str, body: bytes = b"") -> tuple[int, dict]:
    """Send a request head (and ``body``) on a raw socket; the status and JSON answer.
    Nothing more is sent, so an answer proves the server did not wait for the rest."""
    host, port = server.url.removeprefix("http://").split(":")
    data = b""
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            sock.sendall(head.encode() + body)
        except OSError:  # refused before the body was all sent: read the answer
            pass
        try:
            while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    head_bytes, _, answer = data.partition(b"\r\n\r\n")
    return int(head_bytes.split()[1]), json.loads(answer)


def _length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_an_anonymous_300_mb_body_is_refused_at_its_headers(server) -> None:
    status, answer = _raw(server, "POST /hogar-nb/lint HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 300000000\r\n\r\n")
    assert status == 403 and "diagnostics" not in answer


def test_a_body_over_the_limit_is_refused_before_it_is_read(server) -> None:
    auth = f"Authorization: token {server.token}\r\n"
    status, answer = _raw(server, f"POST /hogar-nb/lint HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
                                  "Content-Type: application/json\r\nContent-Length: 300000000\r\n\r\n")
    assert status == 413 and answer["error"]["cause"] == "too_large"
    assert "300,000,000 bytes" in answer["message"]
    chunk = b'{"text": "' + b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in [chunk] + [b"x" * 65536] * 70)
    status, answer = _raw(server, f"POST /hogar-nb/lint HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
                                  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", chunks)
    assert status == 413 and answer["error"]["cause"] == "too_large"
    assert server.post("lint", {"text": MISSPELT}).body["errors"] == 1


def test_a_text_over_the_limit_is_413(server) -> None:
    reply = server.post("lint", {"text": "#" * (MAX_TEXT + 1)})
    assert reply.status == 413 and reply.body["error"]["cause"] == "too_large"
    assert f"at most {MAX_TEXT:,} are accepted" in reply.body["message"]
    assert server.post("lint", {"text": "#" * MAX_TEXT}).status == 200


def _big_graph(approx_chars: int) -> str:
    lines, edges, i = ["source s", "sink t"], [], 0
    while sum(map(len, lines)) + sum(map(len, edges)) < approx_chars:
        lines.append(f'python n{i} {{ impl = "m:f", replicas = 2, timeout = 250ms, retries = 1 }}')
        edges.append(f"{'s' if i == 0 else f'n{i - 1}'} -> n{i}")
        i += 1
    return "\n".join(lines + edges + [f"n{i - 1} -> t"]) + "\n"


def test_a_small_lint_does_not_wait_behind_big_ones(server) -> None:
    big = _big_graph(8 * SMALL_TEXT)  # seconds of work each, far more than a busy machine's jitter
    assert SMALL_TEXT < len(big) <= MAX_TEXT
    finished: list[str] = []

    def lint(name: str, text: str) -> None:
        reply = server.post("lint", {"text": text}, timeout=300)
        assert reply.status == 200 and reply.body["parsed"] is True
        finished.append(name)

    with ThreadPoolExecutor(max_workers=4) as pool:
        bigs = [pool.submit(lint, f"big{i}", big) for i in range(2)]
        time.sleep(0.5)  # the big texts are at the server first
        small = pool.submit(lint, "small", MISSPELT.replace("replicass", "replicas"))
        small.result(300)
        for f in bigs:
            f.result(300)
    assert finished[0] == "small", finished


def test_lint_reads_no_pickle_and_answers_with_types(server, tmp_path) -> None:
    import pickle

    marker = tmp_path / "pickle-was-read"
    trap = tmp_path / "trap.joblib"
    trap.write_bytes(pickle.dumps(_Trap(marker)))
    text = (f'source ingest {{ input = float32[n, 4] }}\nmodel m {{ impl = "{trap}", method = predict_proba }}\n'
            'sink out\ningest -> m -> out\n')
    reply = server.post("lint", {"text": text})
    assert reply.status == 200 and reply.body["errors"] == 0
    assert reply.body["types"]["m"] == {"input": "float32[n, 4]"}  # what arrives; the model's own is unknown
    assert not marker.exists()


class _Trap:
    """Unpickling it creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))
