"""The console's tests: Django settings with a temporary data directory (secret key, SQLite
test database), users of each role, and helpers shared by the process-level tests."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HOGAR_CONSOLE_DATA", tempfile.mkdtemp(prefix="hogar-console-test-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hogar_nb.console.settings")
os.environ.pop("HOGAR_CONSOLE_DB", None)

import django  # noqa: E402
import pytest  # noqa: E402

django.setup()  # before the test modules import the console's models

from console_processes import PASSWORD, child_python  # noqa: E402,F401  (one password for every test user)

# Supervisors started by the tests themselves run their children as the console would.
os.environ.update(child_python(os.environ.get("PYTHONPATH", "")))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The tests' passwords need no slow hash (sign-in is still checked for real)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(db):
    """One user per role, all with :data:`PASSWORD`."""
    from django.contrib.auth import get_user_model

    from hogar_nb.console.roles import set_role

    out = {}
    for role in ("viewer", "operator", "admin"):
        user = get_user_model().objects.create_user(role, password=PASSWORD)
        set_role(user, role)
        out[role] = user
    return out


@pytest.fixture
def as_role(client, users):
    """``as_role("viewer")`` signs the test client in with that role and returns it."""

    def sign_in(role: str):
        client.force_login(users[role])
        return client

    return sign_in
