"""Ray tests that start clusters of their own: each pytest of them runs in a network
namespace with only loopback (``make test``), apart from tests/on_ray's shared cluster."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> None:
    names = sorted(name for _i, name in socket.if_nameindex())
    if names != ["lo"]:
        pytest.fail(f"these Ray tests must run in a network namespace with only `lo` (found {names}); "
                    "run them with `make test`")
