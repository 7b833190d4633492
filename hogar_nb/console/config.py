"""Where the console keeps its state: the data directory, the database URL and the secret key."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from ..errors import HogarError

__all__ = ["ConsoleError", "data_dir", "database_settings", "database_url", "deployments_dir", "secret_key",
           "site_dir"]

DB_ENV = "HOGAR_CONSOLE_DB"
DATA_ENV = "HOGAR_CONSOLE_DATA"


class ConsoleError(HogarError):
    """The console cannot do what was asked (bad database URL, unknown user, ...)."""


def data_dir() -> Path:
    """``$HOGAR_CONSOLE_DATA``, else the user's data directory for hogar's console."""
    explicit = os.environ.get(DATA_ENV)
    if explicit:
        path = Path(explicit)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("hogar", appauthor=False)) / "console"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def database_url() -> str:
    """``$HOGAR_CONSOLE_DB``, else an SQLite file in :func:`data_dir`."""
    return os.environ.get(DB_ENV) or f"sqlite:///{data_dir() / 'console.sqlite3'}"


def database_settings(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for ``url`` (``sqlite:///path`` or ``postgresql://...``)."""
    import dj_database_url

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("sqlite", "postgres", "postgresql", "pgsql"):
        raise ConsoleError(
            f"got {url!r} for the console database; expected sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/NAME"
        )
    try:
        config = dict(dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True))
    except Exception as err:  # the library raises plain exceptions on malformed URLs
        raise ConsoleError(f"cannot read the database URL {url!r}: {err}") from None
    if config["ENGINE"].endswith("sqlite3"):
        config["OPTIONS"] = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"}
    return config


def site_dir(db: dict[str, Any]) -> Path:
    """The folder of the console whose database is ``db`` (a DATABASES entry): beside an
    SQLite file (``console.sqlite3.files``), else in :func:`data_dir` under the database
    server's host, port and database name. Two consoles on two databases never share it."""
    name = str(db.get("NAME") or "")
    if db.get("ENGINE", "").endswith("sqlite3") and Path(name).is_absolute():
        path = Path(name)
        folder = path.with_name(path.name + ".files")
    else:
        site = f"{db.get('HOST') or 'localhost'}-{db.get('PORT') or 'default'}-{name or 'db'}"
        folder = data_dir() / "sites" / re.sub(r"[^A-Za-z0-9._-]", "_", site)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def deployments_dir() -> Path:
    """Where this console keeps its deployments' files (graph, admin token), one folder each."""
    from django.conf import settings

    return site_dir(settings.DATABASES["default"]) / "deployments"


def secret_key() -> str:
    """The site's secret key, generated once and kept (mode 0600) in :func:`data_dir`."""
    path = data_dir() / "secret_key"
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
