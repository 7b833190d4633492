from tests.runtime.conftest import no_leaks  # noqa: F401  (the engine's leak check)
