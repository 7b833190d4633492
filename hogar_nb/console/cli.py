"""``hogar console init|adduser|serve``: set up the console's database, add users, run the site."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["register"]


def _setup(db: str | None) -> None:
    """Point Django at the console's settings (and ``db``) and load the apps."""
    if db:
        os.environ["HOGAR_CONSOLE_DB"] = db
    os.umask(0o077)  # the database, its journal and every file the console writes: mode 0600
    os.environ["DJANGO_SETTINGS_MODULE"] = "hogar_nb.console.settings"
    import django

    django.setup()


def _shown(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _migrated() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def _connect_error(err: Exception) -> Any:
    from .config import ConsoleError

    return ConsoleError(f"cannot use the console database: {err}".strip())


def cmd_init(args: argparse.Namespace) -> int:
    _setup(args.db)
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import DatabaseError

    from .config import database_url
    from .roles import ROLES

    try:
        call_command("migrate", interactive=False, verbosity=0)
        for role in ROLES:
            Group.objects.get_or_create(name=role)
    except DatabaseError as err:
        raise _connect_error(err) from None
    print(f"console database ready: {_shown(database_url())}")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    from .config import ConsoleError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise ConsoleError("the passwords differ")
    else:
        raise ConsoleError("no terminal to ask for the password; pass --password-stdin and pipe it in")
    if not password:
        raise ConsoleError("the password is empty")
    return password


def cmd_adduser(args: argparse.Namespace) -> int:
    password = _read_password(args)
    _setup(args.db)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import DatabaseError

    from .config import ConsoleError
    from .models import audit
    from .roles import set_role

    User = get_user_model()
    try:
        if not _migrated():
            raise ConsoleError("the console database is not set up; run `hogar console init` first")
        user = User.objects.filter(username=args.name).first()
        created = user is None
        if created:
            user = User(username=args.name)
            field = User._meta.get_field("username")
            try:
                field.run_validators(args.name)
                field.clean(args.name, user)
            except ValidationError as err:
                raise ConsoleError(f"got {args.name!r} for the user name: {' '.join(err.messages)}") from None
        try:
            validate_password(password, user)
        except ValidationError as err:
            raise ConsoleError("password refused: " + " ".join(err.messages)) from None
        user.set_password(password)
        user.save()
        set_role(user, args.role)
        from axes.utils import reset

        reset(username=args.name)  # a new password also lifts a sign-in lockout
        audit("hogar console adduser", "adduser" if created else "update-user", args.name, role=args.role)
    except DatabaseError as err:
        raise _connect_error(err) from None
    print(f"{'added' if created else 'updated'} {args.name} ({args.role})")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio
    import socket

    _setup(args.db)
    from django.db import DatabaseError

    from .config import ConsoleError

    try:
        if not _migrated():
            raise ConsoleError("the console database is not set up; run `hogar console init` first")
    except DatabaseError as err:
        raise _connect_error(err) from None
    import uvicorn

    from . import services
    from .asgi import application

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as err:
        raise ConsoleError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    from django.conf import settings

    # uvicorn believes X-Forwarded-* from 127.0.0.1 unless told otherwise: only the listed proxies.
    proxies = settings.HOGAR_TRUSTED_PROXIES
    config = uvicorn.Config(application, lifespan="off", log_level="warning", access_log=False,
                            timeout_graceful_shutdown=3, proxy_headers=bool(proxies),
                            forwarded_allow_ips=proxies or [], server_header=False)
    server = _server_class()(config)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.02)
        print(f"console on http://{shown_host}:{port}", flush=True)

    async def main() -> None:
        task = asyncio.create_task(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):  # one while the children start ends serving at once
        signal.signal(sig, server.handle_exit)
    services.start()
    try:
        asyncio.run(main())
    finally:
        # A second signal while the children stop must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        services.stop()
        sock.close()
    return 0


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that SIGTERM and SIGINT end :func:`cmd_serve` normally.

        uvicorn raises a caught signal again once it has shut down, which kills the process
        before the console stops its ``hogar serve`` children; here the signal only ends
        the serving loop, and the caller's ``finally`` stops them.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def register(subparsers: Any) -> None:
    """Add ``hogar console`` and its sub-commands."""
    parser = subparsers.add_parser(
        "console", help="the web console: graphs, deployments, live monitoring",
        description="Set up and run the HOGAR web console.")
    sub = parser.add_subparsers(dest="console_command", metavar="COMMAND")
    sub.required = True

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", metavar="URL",
                       help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME "
                            "(default: $HOGAR_CONSOLE_DB, else an SQLite file in the user's data directory)")
        return p

    p = with_db(sub.add_parser("init", help="create or upgrade the console's database"))
    p.set_defaults(func=cmd_init)
    p = with_db(sub.add_parser("adduser", help="add a user (or set an existing user's password and role)"))
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", choices=("viewer", "operator", "admin"), default="viewer",
                   help="viewers read; operators also deploy, stop and reconfigure; admins also manage users")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(func=cmd_adduser)
    p = with_db(sub.add_parser("serve", help="run the console (127.0.0.1:8100 by default)"))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8100, help="port (0 picks a free one; default 8100)")
    p.set_defaults(func=cmd_serve)
