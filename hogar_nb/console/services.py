"""The console process's long-lived helpers: the supervisor of ``hogar serve`` children and
the metrics collector. ``hogar console serve`` starts them; pages use :func:`supervisor`."""

from __future__ import annotations

import threading

from .collector import HUB, Collector, Hub
from .supervisor import Supervisor

__all__ = ["HUB", "Hub", "start", "stop", "supervisor"]

_lock = threading.Lock()
_supervisor: Supervisor | None = None
_collector: Collector | None = None


def supervisor() -> Supervisor:
    global _supervisor
    with _lock:
        if _supervisor is None:
            _supervisor = Supervisor()
        return _supervisor


def start(collect: bool = True) -> None:
    """Resume managed deployments, watch them, and (``collect``) poll every deployment."""
    global _collector
    supervisor().start()
    if collect:
        with _lock:
            if _collector is None:
                _collector = Collector()
                _collector.start()


def stop() -> None:
    global _collector, _supervisor
    with _lock:
        collector, _collector = _collector, None
        sup, _supervisor = _supervisor, None
    if collector is not None:
        collector.stop()
    if sup is not None:
        sup.shutdown()
