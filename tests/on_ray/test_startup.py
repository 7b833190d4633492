"""A local Ray's start waits while the head makes progress and fails at once when its
GCS or raylet dies: the judge on samples, then a real head whose GCS is killed."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time

import psutil
import pytest

from hogar_nb.backends.ray.cluster import LocalRay
from hogar_nb.backends.ray.startup import Sample, StartWatch


def test_a_start_that_keeps_using_cpu_is_waited_for_past_the_stall_time() -> None:
    watch = StartWatch(0.0, stall=10.0, limit=100.0)
    procs = {1: "ray", 2: "gcs_server"}
    for second in range(1, 60):  # a slow start: a little CPU every second, nothing printed
        assert watch.observe(Sample(0.05 * second, 0, procs), float(second)) is None
    assert watch.observe(Sample(3.0, 1, {**procs, 3: "raylet"}), 60.0) is None  # it printed


def test_a_start_with_no_progress_stalls() -> None:
    watch = StartWatch(0.0, stall=10.0, limit=100.0)
    assert watch.observe(Sample(1.0, 2, {1: "ray"}), 1.0) is None
    assert watch.observe(Sample(1.0, 2, {1: "ray"}), 11.0) is None  # 10 s without progress
    why = watch.observe(Sample(1.0, 2, {1: "ray"}), 11.5)
    assert why is not None and why.startswith("no progress for 10 s") and watch.dead is None


def test_a_start_whose_gcs_or_raylet_exits_fails_at_once() -> None:
    for name in ("gcs_server", "raylet"):
        watch = StartWatch(0.0, stall=10.0)
        assert watch.observe(Sample(1.0, 1, {1: "ray", 7: name}), 1.0) is None
        why = watch.observe(Sample(2.0, 2, {1: "ray"}), 1.5)
        assert why == f"its {name} (pid 7) exited 1.5 s into the start"
        assert watch.dead == (7, name)


def test_a_start_that_stays_busy_ends_at_the_limit() -> None:
    watch = StartWatch(0.0, stall=10.0, limit=30.0)
    for second in range(1, 31):
        assert watch.observe(Sample(float(second), 0, {}), float(second)) is None
    assert "still not ready after 30 s" in (watch.observe(Sample(31.0, 0, {}), 31.0) or "")


def test_a_head_whose_gcs_is_killed_while_it_starts_fails_with_its_log() -> None:
    """A real head: its GCS is killed a second after it appears; the start fails long before
    any stall time, names the GCS and shows its log, and leaves no process behind."""
    short = tempfile.mkdtemp(prefix="hs-")  # Ray's socket paths must stay under 107 bytes
    local = LocalRay(num_cpus=1, temp_dir=short, attempts=1, stall_s=600.0)
    killed: list[int] = []
    seen: list[psutil.Process] = []

    def kill_the_gcs() -> None:
        while not killed:
            for p in local.processes():
                seen.append(p)
                try:
                    if p.name() == "gcs_server" and time.time() - p.create_time() > 1.0:  # once seen
                        p.kill()
                        killed.append(p.pid)
                        return
                except psutil.Error:
                    continue
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_gcs, daemon=True)
    killer.start()
    with pytest.raises(RuntimeError) as err:
        local.start()
    killed.append(-1)  # the killer stops whatever happened
    killer.join(5)
    message = str(err.value)
    assert killed[0] > 0, message
    assert f"gcs_server (pid {killed[0]}) exited" in message or "`ray start` exited" in message, message
    assert "gcs_server" in message
    _gone, alive = psutil.wait_procs(seen, timeout=10)
    shutil.rmtree(short, ignore_errors=True)
    assert alive == []
