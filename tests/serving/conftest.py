"""Serve graphs over real HTTP on 127.0.0.1 for the tests, and stop them afterwards."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import httpx
import pytest

import hogar_nb
from tests.runtime.conftest import chain, make_earg, wait_for  # noqa: F401  (re-exported helpers)

IMPLS = "tests.serving.impls"


@contextlib.contextmanager
def served(graph: Any, run_options: dict | None = None, **serve_options: Any) -> Iterator[tuple[Any, httpx.Client]]:
    """Run ``graph``, serve it on a free port; yields (deployment, client on its URL)."""
    dep = hogar_nb.run(graph, **(run_options or {}))
    try:
        url = dep.serve_http(**serve_options)
        with httpx.Client(base_url=url, timeout=30) as client:
            yield dep, client
    finally:
        dep.stop()


def impl(name: str) -> str:
    return f"{IMPLS}:{name}"


@pytest.fixture
def echo():
    """A 2-node identity chain served on a free port: (deployment, client)."""
    with served(chain(impl("ident"), impl("ident"))) as pair:
        yield pair
