"""Process replicas: impls shipped by value, payloads and results that cannot cross,
kill storms, start-up errors, and start/stop cycles that leave nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import hogar_nb
from hogar_nb.runtime.errors import BadRequestError, DeploymentConfigError, RequestError, RequestTimeoutError

from .conftest import chain, wait_for
from .test_storms import tally

ROOT = Path(__file__).resolve().parents[2]
FAST = {"policy": "restart", "max_restarts": 5, "backoff_ms": 20.0}


def test_a_function_and_a_class_defined_in_the_notebook_run_in_process_replicas(no_leaks):
    script = (
        "import os, hogar_nb\n"
        "OFFSET = 10\n"
        "def add(x):\n    return x + OFFSET\n"
        "class Scale:\n    def __init__(self):\n        self.k = 3\n"
        "    def predict(self, x):\n        return x * self.k\n"
        "g = hogar_nb.parse_udgl('source s\\npython a { impl = add, isolation = process }\\n"
        "python b { impl = Scale, isolation = process }\\nsink t\\ns -> a -> b -> t\\n', namespace=globals())\n"
        "if __name__ == '__main__':\n"
        "    with hogar_nb.run(g) as dep:\n"
        "        assert os.getpid() not in dep.replica_pids('a') + dep.replica_pids('b')\n"
        "        print('ok', dep.call(1, timeout=30))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "ok 33", out.stderr[-2000:]


def test_unpicklable_payloads_and_results_fail_only_their_requests(no_leaks):
    doc = chain("tests.runtime.impls:lock_for_negative", replicas=2, isolation="process", recovery=FAST)
    with hogar_nb.run(doc) as dep:
        pids = sorted(dep.replica_pids("n0"))

        def payload(i):
            if i % 100 == 50:
                return threading.Lock()  # cannot be sent to a process
            return -i if i % 100 == 75 else i  # -i: its result cannot come back

        futures = [dep.submit(payload(i)) for i in range(5000)]
        ok, errors, lost = tally(futures, 60)
        assert lost == []
        assert sorted(errors) == [i for i in range(5000) if i % 100 in (50, 75)]
        assert all(isinstance(e, BadRequestError) and e.cause == "bad_request" and e.node == "n0"
                   for e in errors.values())
        assert "payload cannot be sent" in str(errors[50]) and "result cannot be sent back" in str(errors[75])
        assert ok == {i: i for i in range(5000) if i % 100 not in (50, 75)}
        assert sorted(dep.replica_pids("n0")) == pids, "the replicas live on"
        assert dep.events == [] and dep.metrics().node("n0").errors_by_cause == {"bad_request": 100}


def test_process_replicas_killed_every_400ms_keep_serving(no_leaks):
    doc = chain("tests.runtime.impls:slow_inc", replicas=2, isolation="process", retries=3, recovery=FAST)
    with hogar_nb.run(doc) as dep:
        stop = threading.Event()
        kills = []

        def killer():
            while not stop.wait(0.4):
                pids = dep.replica_pids("n0")
                if pids:
                    os.kill(pids[len(kills) % len(pids)], signal.SIGKILL)
                    kills.append(time.monotonic())

        futures = []
        thread = threading.Thread(target=killer)
        thread.start()
        try:
            for i in range(3000):
                futures.append(dep.submit(i))
                if i % 300 == 0:
                    time.sleep(0.15)  # spread the load over the kills
            ok, errors, lost = tally(futures, 60)
        finally:
            stop.set()
            thread.join()
        assert len(kills) >= 4
        assert lost == [] and len(ok) >= 2970, (len(ok), {e.cause for e in errors.values()})
        assert all(v == i + 1 for i, v in ok.items())
        stopped = time.monotonic()
        wait_for(lambda: len(dep.replica_pids("n0")) == 2, 10, "both replicas back")
        assert time.monotonic() - stopped < 2.0
        died = [e for e in dep.events if e.cause == "died"]
        assert died and all("SIGKILL" in e.detail for e in died)


def test_stop_keeps_its_word(no_leaks):
    starts = []

    def slow(x):
        starts.append(time.monotonic())
        time.sleep(0.05)
        return x

    dep = hogar_nb.run(chain(slow, replicas=2))
    futures = [dep.submit(i) for i in range(100)]
    wait_for(lambda: starts, what="the first call")
    t0 = time.monotonic()
    dep.stop(timeout=1)
    returned = time.monotonic()
    assert returned - t0 < 1.5
    time.sleep(0.2)  # long enough for a call that should not start to show up
    assert max(starts) < returned, "no impl call starts after stop() returns"
    ok, errors, lost = tally(futures, 1)
    assert lost == [] and len(ok) + len(errors) == 100 and 20 <= len(ok) <= 60
    assert {e.cause for e in errors.values()} == {"stopped"}


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_start_stop_cycles_leave_nothing_behind(no_leaks):
    doc = chain("tests.runtime.impls:double", isolation="process")
    with hogar_nb.run(doc) as dep:  # warm up imports and caches first
        assert dep.call(1, timeout=30) == 2
    threads, fds = threading.active_count(), _fds()
    for i in range(50):
        with hogar_nb.run(doc) as dep:
            assert dep.call(i, timeout=30) == 2 * i
    wait_for(lambda: threading.active_count() <= threads, what="engine threads to end")
    import multiprocessing

    assert multiprocessing.active_children() == []
    assert _fds() <= fds, f"descriptors grew from {fds} to {_fds()}"


def _config_error(doc) -> str:
    with pytest.raises(DeploymentConfigError) as info:
        hogar_nb.run(doc)
    import multiprocessing

    assert multiprocessing.active_children() == [], "no child process left behind"
    return str(info.value)


@pytest.mark.parametrize("spec", ["..x:y", ":f", "tests.runtime:", "tests.runtime.broken_module:f"])
def test_malformed_impl_specs_are_config_errors_naming_the_node(no_leaks, tmp_path, spec):
    (ROOT / "tests" / "runtime" / "broken_module.py").write_text("def f(:\n") if "broken" in spec else None
    try:
        assert "node 'n0'" in _config_error(chain(spec))
    finally:
        (ROOT / "tests" / "runtime" / "broken_module.py").unlink(missing_ok=True)


def test_start_up_errors_of_process_replicas_name_the_node(no_leaks):
    lock = threading.Lock()
    message = _config_error(chain(lambda x: lock and x, isolation="process"))
    assert "node 'n0'" in message and "cannot be shipped to a process" in message
    message = _config_error(chain("tests.runtime.impls:BrokenAtStart", isolation="process"))
    assert "node 'n0'" in message and "cannot load the weights" in message


def _outcomes(dep, payloads):
    out = []
    for x in payloads:
        try:
            out.append(("ok", dep.call(x, timeout=10)))
        except RequestError as exc:
            out.append((type(exc).__name__, exc.cause, str(exc), type(exc.__cause__).__name__,
                        repr(exc.__cause__)))
    return out


@pytest.mark.parametrize("impl", ["fail_on_negative", "picky_on_negative"])
def test_an_impl_exception_in_a_process_fails_its_request_alone_as_with_threads(no_leaks, impl):
    payloads = [1, -1, 2, -2, 3, -3, 4]
    attrs = {"replicas": 1, "timeout_ms": 2000.0, "recovery": FAST}
    with hogar_nb.run(chain(f"tests.runtime.impls:{impl}", **attrs)) as dep:
        threads = _outcomes(dep, payloads)
    with hogar_nb.run(chain(f"tests.runtime.impls:{impl}", isolation="process", **attrs)) as dep:
        pids = dep.replica_pids("n0")
        processes = _outcomes(dep, payloads)
        assert dep.replica_pids("n0") == pids, "the replica lives"
        assert dep.events == []
        assert dep.metrics().node("n0").errors_by_cause == {"error": 3}
    assert processes == threads
    assert processes[1] == ("NodeError", "error", "node 'n0' raised " + processes[1][4] + " after 1 attempt "
                            "(retries = 0)", processes[1][3], processes[1][4])
    assert processes[1][4] == ("ValueError('negative input -1')" if impl == "fail_on_negative"
                               else "Picky('-1/refused')")


def test_an_exception_class_defined_in_the_notebook_comes_back_as_itself():
    script = (
        "import hogar_nb\n"
        "class Refused(Exception):\n    pass\n"
        "def f(x):\n    raise Refused(f'no {x}')\n"
        "g = hogar_nb.parse_udgl('source s\\npython a { impl = f, isolation = process }\\nsink t\\n"
        "s -> a -> t\\n', namespace=globals())\n"
        "if __name__ == '__main__':\n"
        "    with hogar_nb.run(g) as dep:\n"
        "        for i in range(2):\n"
        "            try:\n                dep.call(i, timeout=30)\n"
        "            except Exception as e:\n"
        "                print(type(e.__cause__).__name__, e.__cause__, type(e.__cause__) is Refused, dep.events)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    assert out.returncode == 0 and out.stdout.splitlines() == ["Refused no 0 True []", "Refused no 1 True []"], \
        out.stderr[-2000:]


def test_the_node_timeout_cuts_a_process_call_that_runs_too_long(no_leaks):
    doc = chain("tests.runtime.impls:sleep_for", isolation="process", timeout_ms=300.0, recovery=FAST)
    with hogar_nb.run(doc) as dep:
        pid = dep.replica_pids("n0")
        with pytest.raises(RequestTimeoutError) as info:
            dep.call(60, timeout=30)
        assert info.value.node == "n0" and "timeout of 300 ms" in str(info.value)
        wait_for(lambda: dep.replica_pids("n0") and dep.replica_pids("n0") != pid, what="a new process")
        assert [(e.cause, e.action) for e in dep.events] == [("hang", "restart")]
        assert dep.call(0.001, timeout=30) == 0.001
