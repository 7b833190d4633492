"""The runtime tests' helpers: a leak check and a poll."""

from __future__ import annotations

from runtime.conftest import no_leaks, wait_for

__all__ = ["no_leaks", "wait_for"]
