"""``%%udgl`` and ``%hogar``: thin adapters from notebook cells to the core and runtime.

``%%udgl [NAME] [--out FILE] [--format yaml|json] [--param k=v ...] [--run [--backend ray]] [--monitor] [--quiet]``

- NAME defaults to the name in the text's ``graph NAME`` header, else ``graph``; a
  graph with no header takes NAME as its name (its text still has no header).
- On success the Graph is bound to NAME, the graph view, the analysis summary and
  any warnings are shown; ``--out`` writes the EARG file (format from ``--format``,
  else ``.json`` -> JSON, anything else YAML); ``--run`` starts the graph on the
  embedded engine with the notebook's variables and binds the Deployment to
  ``NAME_dep`` (a deployment already bound there is stopped first); ``--monitor``
  runs it and shows the live dashboard (``NAME_dep.monitor()``).
- ``$name`` with no ``param`` of that name, and bare-name ``impl``\\ s, come from the
  notebook's variables.
- Diagnostics count lines as the cell editor does (line 1 is the ``%%udgl`` line).
- With errors, the diagnostics box is shown (plus the graph view with the faulty
  nodes and edges marked, when the text could be read) and NAME keeps its old value.
  Problems in the magic's own arguments raise :class:`UsageError` (no traceback).

``%hogar status`` lists the deployments in the notebook's variables; ``%hogar stop
NAME`` (or ``--all``) stops them; ``%hogar show NAME`` draws a graph.
"""

from __future__ import annotations

import keyword
import shlex
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

__all__ = ["HogarMagics", "parse_params"]

DEFAULT_NAME = "graph"
_SUBCOMMANDS = ("status", "stop", "show", "help")


def _suggest(word: str, choices: list[str]) -> str:
    from ..core.diagnostics import did_you_mean

    hint = did_you_mean(word, choices)
    return f"; {hint}" if hint else ""


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``["threshold=0.9", "budget=150ms"]`` -> values read as UDGL (bare words stay text)."""
    from ..core.udgl import parse_value
    from ..errors import UDGLError

    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise UsageError(f"got {pair!r} for --param; expected NAME=VALUE, e.g. threshold=0.9")
        try:
            params[key] = parse_value(raw.strip())
        except UDGLError:
            params[key] = raw.strip()
    return params


def _check_name(name: str, what: str = "NAME") -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"{what} must be a Python identifier, got {name!r}")


@magics_class
class HogarMagics(Magics):
    """The hogar_nb magics; registered by ``%load_ext hogar_nb``."""

    # ------------------------------------------------------------------ %%udgl
    @magic_arguments()
    @argument("name", nargs="?", default=None,
              help=f"variable for the Graph (default: the `graph NAME` header, else `{DEFAULT_NAME}`)")
    @argument("-o", "--out", default=None, metavar="FILE", help="write the EARG file")
    @argument("-f", "--format", default=None, choices=["yaml", "json"], help="EARG format for --out")
    @argument("-p", "--param", action="append", default=[], metavar="K=V",
              help="override a param (repeatable)")
    @argument("--run", action="store_true", help="start it on the embedded engine, bind NAME_dep")
    @argument("--backend", default="embedded", choices=["embedded", "ray"],
              help="with --run: where to run it (ray: a local Ray, or the one already connected)")
    @argument("--monitor", action="store_true", help="--run, then show the live dashboard")
    @argument("-q", "--quiet", action="store_true", help="bind (and write/run) without showing anything")
    @argument("--types", action="store_true", help="label every edge of the drawing with its type")
    @cell_magic
    def udgl(self, line: str, cell: str) -> None:
        """Compile a UDGL cell into a Graph, show it and bind it in the notebook."""
        args = self._parse(self.udgl, line)
        if args.name is not None:
            _check_name(args.name)
        params = parse_params(args.param)
        from ..core.udgl import compile_udgl
        from .diagnostics_view import DiagnosticsBox

        ns = self.shell.user_ns
        # one leading line stands for the %%udgl line, so positions match the editor's
        source = "\n" + cell
        graph, diags = compile_udgl(source, params, namespace=ns)
        if graph is None or any(d.is_error for d in diags):
            display(DiagnosticsBox(diags, source, "<cell>"))
            if graph is not None and not args.quiet:
                graph.adopt_name(args.name or _default_name(graph))  # titled as a good cell would be
                self._show_view(graph, diags, args.types)
            return None
        name = args.name or _default_name(graph)
        graph.adopt_name(name)  # a graph with no `graph` header is called after its variable
        ns[name] = graph
        if args.out:
            self._write(graph, args.out, args.format)
        if not args.quiet:
            self._show_view(graph, diags, args.types)
            self._show_summary(graph)
            warnings = [d for d in diags if not d.is_error]
            if warnings:
                display(DiagnosticsBox(warnings, source, "<cell>"))
        if args.run or args.monitor:
            dep = self._run(graph, name, args.quiet, args.backend)
            if dep is not None and args.monitor:
                display(dep.monitor())
        return None

    def _parse(self, func: Any, line: str) -> Any:
        try:
            return parse_argstring(func, line)
        except UsageError as err:
            message = str(err)
            options = [a for action in func.parser._actions for a in action.option_strings]
            bad = [w for w in shlex.split(line, posix=True) if w.startswith("-") and w not in options
                   and w.split("=")[0] not in options]
            hint = _suggest(bad[0], options) if bad else ""
            raise UsageError(f"%%udgl: {message}{hint}") from None

    def _show_view(self, graph: Any, diags: list, types: bool = False) -> None:
        from .graph_view import GraphView

        display(GraphView(graph, diags, types=types))

    def _show_summary(self, graph: Any) -> None:
        from .summary_view import AnalysisSummary

        display(AnalysisSummary(graph))

    def _write(self, graph: Any, out: str, fmt: str | None) -> None:
        from ..core.earg import dump_earg
        from .summary_view import MessageBox

        fmt = fmt or ("json" if out.lower().endswith(".json") else "yaml")
        path = Path(out).expanduser()
        try:
            path.write_text(dump_earg(graph, format=fmt), encoding="utf-8")
        except OSError as err:
            raise UsageError(f"%%udgl: cannot write {out}: {err.strerror}") from None
        display(MessageBox(f"wrote {out} (EARG {fmt})", "", "info"))

    def _run(self, graph: Any, name: str, quiet: bool, backend: str = "embedded") -> Any:
        from ..dispatch import run
        from ..errors import HogarError
        from .summary_view import MessageBox

        dep_name = f"{name}_dep"
        ns = self.shell.user_ns
        old = ns.get(dep_name)
        if _is_deployment(old) and old.running:
            old.stop()
        try:
            dep = run(graph, namespace=ns, backend=backend)
        except HogarError as err:
            display(MessageBox(f"{graph.name} could not start", str(err)))
            return None
        ns[dep_name] = dep
        if not quiet:
            display(MessageBox(f"{graph.name} is running, bound to {dep_name}",
                               f"{dep_name}.call(payload), %hogar status, %hogar stop {dep_name}", "info"))
        return dep

    # ------------------------------------------------------------------ %hogar
    @line_magic
    def hogar(self, line: str) -> Any:
        """``%hogar status | stop NAME|--all | show NAME | help``."""
        words = shlex.split(line)
        if not words or words[0] == "help":
            print(_HELP)
            return None
        cmd, rest = words[0], words[1:]
        if cmd not in _SUBCOMMANDS:
            raise UsageError(f"%hogar: unknown command {cmd!r}{_suggest(cmd, list(_SUBCOMMANDS))}\n{_HELP}")
        return getattr(self, f"_cmd_{cmd}")(rest)

    def _deployments(self) -> dict[str, Any]:
        return {k: v for k, v in self.shell.user_ns.items() if not k.startswith("_") and _is_deployment(v)}

    def _lookup(self, name: str, pool: dict[str, Any], what: str) -> Any:
        for key in (name, f"{name}_dep"):
            if key in pool:
                return key, pool[key]
        raise UsageError(f"%hogar: no {what} named {name!r}{_suggest(name, list(pool))}")

    def _cmd_status(self, rest: list[str]) -> None:
        from .status_view import StatusTable

        deps = self._deployments()
        if rest:
            key, dep = self._lookup(rest[0], deps, "deployment")
            deps = {key: dep}
        display(StatusTable(deps))

    def _cmd_stop(self, rest: list[str]) -> None:
        deps = self._deployments()
        if not rest:
            raise UsageError("%hogar stop: name a deployment, or --all")
        targets = deps if rest == ["--all"] else dict([self._lookup(rest[0], deps, "deployment")])
        for key, dep in targets.items():
            if dep.running:
                dep.stop()
            print(f"stopped {key}")

    def _cmd_show(self, rest: list[str]) -> None:
        from ..core.graph import Graph

        if not rest:
            raise UsageError("%hogar show: name a graph variable")
        graphs = {k: v for k, v in self.shell.user_ns.items() if isinstance(v, Graph)}
        if rest[0] not in graphs:
            raise UsageError(f"%hogar show: no graph named {rest[0]!r}{_suggest(rest[0], list(graphs))}")
        self._show_view(graphs[rest[0]], graphs[rest[0]].check())


_HELP = """\
%hogar status [NAME]     running deployments: requests, errors, restarts, latency per node
%hogar stop NAME|--all   stop a deployment (NAME or NAME_dep)
%hogar show NAME         draw a Graph variable
%%udgl [NAME] [--out FILE] [--format yaml|json] [--param k=v ...] [--run] [--monitor] [--quiet]"""


def _default_name(graph: Any) -> str:
    name = getattr(graph, "name", None) or DEFAULT_NAME
    return name if name.isidentifier() and not keyword.iskeyword(name) else DEFAULT_NAME


def _is_deployment(obj: Any) -> bool:
    import sys

    module = sys.modules.get("hogar_nb.runtime.deployment")
    return module is not None and isinstance(obj, module.Deployment)
