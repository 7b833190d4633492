"""What an operator may deploy: the code and model artifacts a graph names, checked
against the allowlist that admins keep in the console (empty at first).

A graph names code in three places: a python or switch node's ``impl``
(``"module:attr"``), a model node's ``impl`` when it is ``"module:attr"`` rather than
an artifact path, and an ensemble's ``combine`` when it is not a built-in mode. A
model node's artifact path is the fourth thing it can bring in (a pickle runs code
when loaded). Entries:

- python: ``pkg`` allows the module ``pkg`` and every ``pkg.sub``; ``pkg.mod:name``
  allows that one impl.
- model: a directory; an artifact is allowed when its path, normalised, lies inside
  it (``..`` never climbs out).

Admins may deploy anything; what they deploy outside the list is named in the audit log.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["CodeRef", "code_refs", "outside", "refusals"]

BUILTIN_COMBINE = ("mean", "vote", "concat", "first")


@dataclass(frozen=True)
class CodeRef:
    """One thing a graph runs or loads: ``kind`` is "python" or "model"."""

    node: str
    kind: str
    ref: str
    attr: str = "impl"

    def describe(self) -> str:
        what = "model artifact" if self.kind == "model" else self.attr
        return f"node {self.node!r}: {what} {self.ref!r}"


def _is_code(text: str) -> bool:
    module, sep, attr = text.partition(":")
    return bool(sep and module and attr and "/" not in module and "\\" not in module)


def code_refs(earg: dict[str, Any]) -> list[CodeRef]:
    """Every code reference and model artifact in an EARG document."""
    out: list[CodeRef] = []
    for node in earg.get("nodes") or []:
        if not isinstance(node, dict):
            continue
        name, kind, impl = str(node.get("name")), node.get("kind", "python"), node.get("impl")
        if kind in ("python", "switch") and impl is not None:
            out.append(CodeRef(name, "python", str(impl)))
        elif kind == "model" and impl is not None:
            text = str(impl)
            out.append(CodeRef(name, "python" if _is_code(text) else "model", text))
        elif kind == "ensemble":
            combine = node.get("combine")
            if combine is not None and combine not in BUILTIN_COMBINE:
                out.append(CodeRef(name, "python", str(combine), attr="combine"))
    return out


def _python_allowed(ref: str, entries: Iterable[str]) -> bool:
    module = ref.partition(":")[0]
    for entry in entries:
        if ":" in entry:
            if ref == entry:
                return True
        elif module == entry or module.startswith(entry + "."):
            return True
    return False


def _inside(path: str, directory: str) -> bool:
    path, directory = posixpath.normpath(path), posixpath.normpath(directory)
    if path.split("/")[0] == ".." or directory.split("/")[0] == "..":
        return False
    if directory in (".", ""):
        return not posixpath.isabs(path)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def outside(earg: dict[str, Any], python: Iterable[str], models: Iterable[str]) -> list[CodeRef]:
    """The references of ``earg`` that no allowlist entry covers."""
    python, models = [p.strip() for p in python if p.strip()], [m.strip() for m in models if m.strip()]
    bad = []
    for ref in code_refs(earg):
        ok = _python_allowed(ref.ref, python) if ref.kind == "python" else any(_inside(ref.ref, d) for d in models)
        if not ok:
            bad.append(ref)
    return bad


def refusals(earg: dict[str, Any]) -> list[str]:
    """One message per reference outside the console's allowlist (stored in the database)."""
    from .models import AllowedCode

    entries = list(AllowedCode.objects.values_list("kind", "entry"))
    bad = outside(earg, [e for k, e in entries if k == "python"], [e for k, e in entries if k == "model"])
    return [f"{ref.describe()} is not on the console's allowlist of deployable "
            f"{'model directories' if ref.kind == 'model' else 'python modules'}" for ref in bad]
