"""Shared fixtures (paths of the UDGL case files) and the Hypothesis profiles.

The property tests and fuzzers run ``repeatable`` by default: the same examples on
every run, so the suite passes or fails on the code alone. ``make fuzz`` runs them
with the ``explore`` profile: fresh random examples each time, failures kept in
``.hypothesis/`` and replayed first on the next run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: speed is the benchmarks' business, and a loaded machine
# must not turn a slow example into a failure.
settings.register_profile("repeatable", derandomize=True, print_blob=True, deadline=None)
settings.register_profile("explore", derandomize=False, print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HOGAR_HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parent.parent

# The Ray tests run in their own pytest inside a loopback-only network namespace
# (`make test` does both runs); the main run leaves them out.
collect_ignore_glob = [] if os.environ.get("HOGAR_RAY_TESTS") == "1" else ["on_ray/*", "on_ray_alone/*"]
CASES = Path(__file__).resolve().parent / "core" / "cases"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def design_example() -> str:
    return (CASES / "valid" / "design_example.udgl").read_text()


def pytest_collection_modifyitems(config, items) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in
    the main thread while its browser is open, which would break `asyncio.run()` in
    any test scheduled after it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for every browser test of the session.

    Playwright's sync API allows one instance per thread, so the notebook and console
    browser tests share this one and open a context (or page) of their own.
    """
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser` (make test does)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
