"""What only the Ray backend does: replica actors killed under load, scaling, faults,
notebook functions, HTTP routes, the capability check and `serve run` of an export."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

import hogar_nb
from hogar_nb.runtime.errors import NodeError

CHAIN = """\
graph chain
defaults { cpu = 0.05, timeout = 5s, retries = 3 }
source s { route = "/chain" }
python a { impl = "tests.on_ray.impls:double", replicas = 2 }
python b { impl = "tests.on_ray.impls:inc" }
sink out
s -> a -> b -> out
"""


@pytest.fixture(scope="module")
def chain(local_ray):
    dep = hogar_nb.run(hogar_nb.parse_udgl(CHAIN), backend="ray")
    yield dep
    dep.stop()


def _wait_alive(dep, node: str, n: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while dep.metrics().node(node).replicas_alive < n and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dep.metrics().node(node).replicas_alive == n


def test_replica_actors_killed_during_load_lose_no_request(chain) -> None:
    """Kill a replica actor of a node under load, twice (after Serve replaced the first):
    the calls it held are retried on the live one and every request succeeds."""
    _wait_alive(chain, "a", 2)
    killed = []
    for round_ in range(2):
        killer = threading.Timer(0.5, lambda: killed.append(chain.kill_replica("a")))
        killer.start()
        report = chain.load(50, 4.0, 1, seed=round_)  # a rate two busy cores sustain
        killer.join()
        assert report.sent > 150
        assert report.lost == 0 and report.errors == {}, report.summary()
        assert report.ok == report.sent and set(report.results_sample) == {3}
        _wait_alive(chain, "a", 2)
    assert len(set(killed)) == 2
    crashes = [e for e in chain.metrics().events if e.node == "a" and e.cause == "crash"]
    assert len(crashes) >= 2


def test_scale_and_reconfigure_while_serving(chain) -> None:
    stop = threading.Event()
    results: list = []

    def traffic() -> None:
        while not stop.is_set():
            try:
                results.append(chain.call(5))
            except Exception as exc:  # noqa: BLE001 - counted below
                results.append(exc)

    t = threading.Thread(target=traffic)
    t.start()
    try:
        chain.scale("b", 2)
        deadline = time.monotonic() + 60
        while len(chain.replica_actors("b")) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(chain.replica_actors("b")) == 2
        chain.reconfigure("b", timeout="2s", retries=1)
        chain.scale("b", 1)
    finally:
        stop.set()
        t.join()
    assert results and all(r == 11 for r in results), [r for r in results if r != 11][:3]
    assert chain.metrics().node("b").replicas == 1
    with pytest.raises(hogar_nb.HogarError) as err:
        chain.scale("b", 0)
    assert "replicas" in str(err.value)
    with pytest.raises(KeyError):
        chain.scale("out", 2)


def test_injected_errors_then_cleared(chain) -> None:
    chain.inject_fault("b", "error", rate=1.0)
    try:
        with pytest.raises(NodeError) as err:
            chain.call(1)
        assert err.value.node == "b" and "injected error" in str(err.value)
    finally:
        chain.clear_faults()
    assert chain.call(1) == 3


def test_notebook_functions_ship_with_cloudpickle(local_ray) -> None:
    namespace: dict = {}
    exec("def shout(x):\n    return str(x).upper() + '!'\n", namespace)  # a function with no module
    g = hogar_nb.parse_udgl('graph nb\ndefaults { cpu = 0.05 }\nsource s\npython f { impl = "shout" }\n'
                            'sink o\ns -> f -> o\n')
    dep = hogar_nb.run(g, namespace, backend="ray")
    try:
        assert dep.call("hi") == "HI!"
    finally:
        dep.stop()


def test_capability_check_names_node_and_attribute(local_ray) -> None:
    g = hogar_nb.parse_udgl('graph cap\ndefaults { cpu = 0.05 }\nsource s\n'
                            'python f { impl = "tests.on_ray.impls:inc", memory = 64MiB, recovery = none }\n'
                            'sink o\ns -> f -> o\n')
    with pytest.warns(RuntimeWarning) as warned:
        dep = hogar_nb.run(g, backend="ray")
    try:
        messages = [str(w.message) for w in warned]
        assert any("node 'f', attribute `memory`" in m and "logical reservation" not in m or
                   "node 'f', attribute `memory`" in m for m in messages)
        assert any("node 'f', attribute `recovery`" in m for m in messages)
        assert {d.code for d in dep.diagnostics} == {"W701", "W702"}
        assert all(d.node == "f" and d.line == 4 for d in dep.diagnostics)
        assert dep.call(1) == 2
    finally:
        dep.stop()


def test_a_graph_that_cannot_start_says_why(local_ray) -> None:
    g = hogar_nb.parse_udgl('graph broken\ndefaults { cpu = 0.05 }\nsource s\n'
                            'python f { impl = "tests.on_ray.impls:nope" }\nsink o\ns -> f -> o\n')
    with pytest.raises(hogar_nb.HogarError) as err:
        hogar_nb.run(g, backend="ray")
    assert "nope" in str(err.value)


def test_exported_config_runs_with_serve_run(local_ray, tmp_path) -> None:
    """`hogar export --to ray-serve` then `serve run`: the sources' routes answer over HTTP."""
    (tmp_path / "shipped_impls.py").write_text("def triple(x):\n    return 3 * x\n")
    (tmp_path / "g.udgl").write_text(
        'graph exported\ndefaults { cpu = 0.05 }\nsource s { route = "/triple" }\n'
        'python t { impl = "shipped_impls:triple", replicas = 2 }\nsink o\ns -> t -> o\n')
    port = local_ray.http_port
    cfg = tmp_path / "serve.yaml"
    assert subprocess.run([sys.executable, "-m", "hogar_nb.cli", "export", "g.udgl", "--to", "ray-serve",
                           "--port", str(port), "--working-dir", f"local://{tmp_path}", "-o", str(cfg)],
                          cwd=tmp_path, capture_output=True, text=True).returncode == 0
    serve_cli = str(__import__("pathlib").Path(sys.executable).parent / "serve")
    proc = subprocess.Popen([serve_cli, "run", str(cfg), "--address", local_ray.address],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        answer = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/triple", data=b"7",
                                             headers={"content-type": "application/json"})
                answer = json.loads(urllib.request.urlopen(req, timeout=5).read())
                break
            except OSError:
                time.sleep(0.5)
        assert answer == 21, proc.stdout.read() if proc.poll() is not None else "no answer"
        from ray import serve

        # replicas are written once, as the deployment's num_replicas, and Serve runs that many
        while serve.status().applications["exported"].deployments["t"].replica_states.get("RUNNING") != 2:
            assert time.monotonic() < deadline, serve.status().applications["exported"].deployments["t"]
            time.sleep(0.5)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/nowhere", data=b"1")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 404
        assert json.loads(err.value.read())["error"]["cause"] == "not_found"
    finally:
        proc.terminate()
        proc.wait(60)
        from ray import serve

        serve.delete("exported")


def test_udgl_magic_runs_a_cell_on_ray(local_ray) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython
    from IPython.utils.capture import capture_output

    shell = start_ipython() or InteractiveShell.instance()
    shell.run_line_magic("load_ext", "hogar_nb")
    shell.run_cell("def shout(x):\n    return str(x).upper()\n")
    cell = 'defaults { cpu = 0.05 }\nsource s\npython f { impl = "shout" }\nsink o\ns -> f -> o\n'
    with capture_output():
        shell.run_cell_magic("udgl", "magic_g --run --backend ray --quiet", cell)
    dep = shell.user_ns["magic_g_dep"]
    try:
        assert type(dep).__name__ == "RayDeployment"
        assert dep.call("ok") == "OK"
    finally:
        dep.stop()


def test_hogar_serve_backend_ray(local_ray, tmp_path) -> None:
    """`hogar serve FILE --backend ray --address ...`: the HTTP front over a Ray deployment."""
    import signal

    (tmp_path / "g.udgl").write_text(CHAIN.replace("graph chain", "graph served"))
    proc = subprocess.Popen([sys.executable, "-m", "hogar_nb.cli", "serve", str(tmp_path / "g.udgl"),
                             "--port", "0", "--backend", "ray", "--address", local_ray.address],
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving served on http://127.0.0.1:"), (line, proc.stderr.read()
                                                                         if proc.poll() is not None else "")
        url = line.split(" on ", 1)[1].strip()
        req = urllib.request.Request(url + "/chain", data=b"20", headers={"content-type": "application/json"})
        try:
            answer = json.loads(urllib.request.urlopen(req, timeout=30).read())
        except urllib.error.HTTPError as err:
            answer = ("POST", err.code, err.read())
        assert answer == 41
        try:
            status = json.loads(urllib.request.urlopen(url + "/hogar/v1/status", timeout=30).read())
        except urllib.error.HTTPError as err:
            status = ("status", err.code, err.read())
        assert status["nodes"]["a"]["replicas_alive"] == 2, status
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(120) == 0


def _fresh_python(tmp_path, script: str) -> tuple[subprocess.Popen, str]:
    """A new Python running ``script`` with no Ray settings from this session; its
    RAY_TMPDIR (short: Ray's socket paths must stay short) is returned for cleanup."""
    import os
    import tempfile

    short = tempfile.mkdtemp(prefix="hr-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(HOME=str(tmp_path), RAY_TMPDIR=short)
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    return proc, short


def _end(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and every process under it (a Ray it started included), if still running."""
    import psutil

    if proc.poll() is not None:
        return
    try:
        tree = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        tree = []
    for p in tree:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    proc.kill()
    proc.communicate()


def _all_gone(pids: list[int], timeout: float = 60.0) -> list[int]:
    """The pids among ``pids`` still running (not zombies) after up to ``timeout`` s."""
    import psutil

    def running(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + timeout
    while any(running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.5)
    return [p for p in pids if running(p)]


SMALL = ("g = hogar_nb.parse_udgl('source s\\npython a { impl = \"tests.runtime.impls:double\", "
         "cpu = 0.1 }\\nsink o\\ns -> a -> o\\n')\n")


def test_run_starts_a_local_ray_of_its_own_and_stops_it(tmp_path) -> None:
    """`run(earg, backend="ray")` with no address starts a local Ray and talks to it, in a
    fresh process that has not imported Ray (its token must be set before the import),
    reconfigures a node of a deployment started from an EARG document, and stops every
    process of that Ray with the deployment."""
    import shutil

    script = ("import json, hogar_nb\n" + SMALL +
              "with hogar_nb.run(g.to_earg(), backend='ray') as dep:\n"  # from an EARG document
              "    dep.reconfigure('a', timeout='2s')\n"
              "    pids = [p.pid for p in dep.local_ray.processes()]\n"
              "    print('answer', dep.call(21, timeout=60), dep.earg['nodes'][1]['timeout_ms'])\n"
              "print('pids', json.dumps(pids))\n")
    proc, short = _fresh_python(tmp_path, script)
    try:
        out, err = proc.communicate(timeout=240)
    finally:
        _end(proc)
        shutil.rmtree(short, ignore_errors=True)
    assert "answer 42 2000.0" in out, err[-3000:]
    pids = json.loads(out.split("pids ", 1)[1])
    assert len(pids) >= 3  # the head, the GCS, the raylet and more
    assert _all_gone(pids) == []


def test_a_local_ray_stops_when_its_process_is_terminated_even_after_importing_ray(tmp_path) -> None:
    """Ray imported before `run(backend="ray")` (as in a notebook) still works; SIGTERM to a
    process that never called stop() still stops every process of the Ray it started."""
    import shutil
    import signal

    script = ("import ray, json, time, hogar_nb\n" + SMALL +  # ray first
              "dep = hogar_nb.run(g, backend='ray')\n"
              "print('answer', dep.call(21, timeout=60))\n"
              "print('pids', json.dumps([p.pid for p in dep.local_ray.processes()]), flush=True)\n"
              "time.sleep(600)\n")
    proc, short = _fresh_python(tmp_path, script)
    try:
        answer = proc.stdout.readline()
        assert answer == "answer 42\n", (answer, proc.stderr.read() if proc.poll() is not None else "")
        pids = json.loads(proc.stdout.readline().split("pids ", 1)[1])
        assert len(pids) >= 3
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)  # Ray's core worker may abort in the interpreter's teardown, after the cleanup
        assert _all_gone(pids) == []
    finally:
        _end(proc)
        shutil.rmtree(short, ignore_errors=True)
