"""What a ``hogar serve`` child of the console can reach: a scrubbed environment, and, when
the console runs as root, another (unprivileged) user and a folder outside the data directory.

Settings (environment variables of ``hogar console serve``):

- ``HOGAR_CONSOLE_CHILD_USER``: the user children run as when the console is root
  (default ``nobody``; never root).
- ``HOGAR_CONSOLE_CHILD_PYTHON``: the interpreter children run (default: the console's);
  it and the installed packages must be readable by that user.
- ``HOGAR_CONSOLE_CHILD_ENV``: comma-separated names of further variables to pass on.
- ``HOGAR_CONSOLE_RUN``: where root's children get their folders (default
  ``/run/hogar-console``).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from .config import ConsoleError, deployments_dir

__all__ = ["ChildSpec", "child_spec", "why_unreachable"]

#: what a child keeps of the console's environment (with HOGAR_CONSOLE_CHILD_ENV's names)
PASSED = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "VIRTUAL_ENV")


@dataclass(frozen=True)
class ChildSpec:
    """How to start one deployment's process: interpreter, user, folder, environment."""

    python: str
    folder: Path
    env: dict[str, str]
    user: str | None = None
    uid: int | None = None
    gid: int | None = None

    def popen_args(self) -> dict:
        """Keyword arguments for :class:`subprocess.Popen`."""
        args: dict = {"env": self.env, "cwd": str(self.folder), "start_new_session": True}
        if self.uid is not None:
            args.update(user=self.uid, group=self.gid, extra_groups=[], umask=0o077)
        return args

    def write(self, name: str, text: str) -> Path:
        """A file in the child's folder that only the child's user (and root) can read."""
        path = self.folder / name
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)
        return path


def _env(folder: Path) -> dict[str, str]:
    extra = [n.strip() for n in os.environ.get("HOGAR_CONSOLE_CHILD_ENV", "").split(",") if n.strip()]
    env = {k: os.environ[k] for k in (*PASSED, *extra) if k in os.environ and not k.startswith("HOGAR_CONSOLE")}
    env.update(HOME=str(folder), TMPDIR=str(folder), PYTHONDONTWRITEBYTECODE="1")
    return env


def why_unreachable(path: str, uid: int, gid: int) -> str | None:
    """Why ``uid`` cannot run ``path`` (a directory on the way it cannot enter), or None."""
    real = Path(os.path.realpath(path))
    for part in [*reversed(real.parents), real]:
        try:
            st = part.stat()
        except OSError as err:
            return f"{part}: {err.strerror}"
        need = stat.S_IXOTH if part != real else stat.S_IXOTH | stat.S_IROTH
        if st.st_uid == uid:
            need <<= 6
        elif st.st_gid == gid:
            need <<= 3
        if st.st_mode & need != need:
            return f"{part} is mode {stat.filemode(st.st_mode)} (owner uid {st.st_uid})"
    return None


def child_spec(pk: int) -> ChildSpec:
    """The interpreter, user, folder and environment for deployment ``pk``'s process."""
    python = os.environ.get("HOGAR_CONSOLE_CHILD_PYTHON") or sys.executable
    if os.geteuid() != 0:
        folder = deployments_dir() / str(pk)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        kept = feedback_dir(pk)
        kept.mkdir(exist_ok=True, mode=0o700)
        return ChildSpec(python, folder, {**_env(folder), "HOGAR_FEEDBACK_DIR": str(kept)})
    name = os.environ.get("HOGAR_CONSOLE_CHILD_USER") or "nobody"
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ConsoleError(f"the console runs as root and its deployments run as {name!r}, which is no user "
                           "here; create it or set HOGAR_CONSOLE_CHILD_USER to an unprivileged user") from None
    if entry.pw_uid == 0:
        raise ConsoleError(f"HOGAR_CONSOLE_CHILD_USER={name} is root; deployments never run as root")
    why = why_unreachable(python, entry.pw_uid, entry.pw_gid)
    if why:
        raise ConsoleError(f"deployments run as {name!r}, who cannot run {python} ({why}); install Python "
                           "where that user can read it and set HOGAR_CONSOLE_CHILD_PYTHON")
    base = _run_base()
    base.mkdir(parents=True, exist_ok=True, mode=0o711)
    for part in (base.parent, base):
        st = part.lstat()
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
            raise ConsoleError(f"{part} must be a directory owned by root and writable by root alone")
        os.chmod(part, 0o711)
    folder = base / str(pk)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700)
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    kept = feedback_dir(pk)  # not emptied at each start, as the folder is
    kept.mkdir(exist_ok=True, mode=0o700)
    os.chown(kept, entry.pw_uid, entry.pw_gid)
    env = {**_env(folder), "HOGAR_FEEDBACK_DIR": str(kept)}
    return ChildSpec(python, folder, env, name, entry.pw_uid, entry.pw_gid)


def _run_base() -> Path:
    """Where the children of this console's data directory run, when it runs as root:
    outside the data directory (mode 0700), in a root-owned tree only root can list."""
    tag = hashlib.sha256(str(deployments_dir().resolve()).encode()).hexdigest()[:12]
    return Path(os.environ.get("HOGAR_CONSOLE_RUN") or "/run/hogar-console") / tag


def feedback_dir(pk: int) -> Path:
    """Where deployment ``pk``'s server keeps its served predictions for delayed labels
    (``HOGAR_FEEDBACK_DIR``): kept across its restarts, so a label still finds a
    prediction served before one; removed with the deployment."""
    if os.geteuid() != 0:
        return deployments_dir() / str(pk) / "feedback"
    return _run_base() / f"{pk}.feedback"
