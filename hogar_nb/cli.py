"""``hogar``: check, compile, analyze, format and run serving graphs from a shell.

Exit codes: 0 success, 1 the input has errors, 2 the command itself was misused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ._version import __version__
from .errors import DiagnosticError, HogarError, UDGLError

if TYPE_CHECKING:  # pragma: no cover
    from .core.graph import Graph

__all__ = ["main"]


def _load(args: argparse.Namespace) -> Graph:
    from .core.graph_file import load_graph_file, param_overrides

    return load_graph_file(args.file, params=param_overrides(args.param))


def _print_warnings(graph, filename: str) -> None:
    for d in graph.check():
        if not d.is_error:
            print(d.format(graph.source, filename), file=sys.stderr)


def cmd_check(args) -> int:
    from .runtime.readiness import startup_diagnostics

    graph = _load(args)
    folder = Path(args.file).parent
    typed = _loaded_type_errors(graph, folder) if args.load_models else []
    if args.json:  # for tools: every diagnostic, with the check before start's, as JSON
        unready = [] if typed else startup_diagnostics(graph, folder, load_models=args.load_models)
        print(json.dumps([d.to_dict() for d in [*graph.check(), *typed, *unready]]))
        return 1 if typed or (args.strict and unready) else 0
    if typed:  # the types pickled models give: errors like any other mismatch
        raise UDGLError([*graph.check(), *typed], graph.source, args.file)
    _print_warnings(graph, args.file)
    unready = startup_diagnostics(graph, folder, load_models=args.load_models)
    for d in unready:
        print(d.format(graph.source, args.file), file=sys.stderr)
    summary = f"{len(graph.nodes)} nodes, {len(graph.edges)} edges"
    if not unready:
        print(f"{args.file}: ok ({summary})")
        return 0
    count = f"{len(unready)} problem{'s' * (len(unready) != 1)}"
    print(f"{args.file}: valid ({summary}), but it would not start: {count}")
    return 1 if args.strict else 0


def _loaded_type_errors(graph: "Graph", folder: Path) -> list:
    """Type mismatches only the signatures of pickled models reveal."""
    from .core.types import check_types

    known = set(graph.check())
    return [d for d in check_types(graph, folder, load_models=True) if d.is_error and d not in known]


def cmd_compile(args) -> int:
    from .core.earg import dump_earg
    from .core.earg.dump import earg_to_text
    from .core.references import reference_paths, with_reference_hashes

    graph = _load(args)
    _print_warnings(graph, args.file)
    fmt = args.format
    if fmt is None:
        fmt = "json" if args.output and args.output.endswith(".json") else "yaml"
    text = dump_earg(graph, format=fmt)
    if reference_paths(doc := graph.to_earg()):  # the hashes of the reference files beside it
        text = earg_to_text(with_reference_hashes(doc, Path(args.file).parent), fmt)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_analyze(args) -> int:
    graph = _load(args)
    analysis = graph.analyze()
    running = _served_placement(args.served) if args.served else None
    if args.json:
        doc = analysis.to_dict()
        if running is not None:
            doc["running"] = running
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        print(analysis.summary())
        if running is not None:
            print(f"where the replicas run ({args.served}):")
            for node, where in sorted(running.items()):
                print(f"  {node}: planned {_machines(where.get('planned'))}; running {_machines(where.get('running'))}")
    return 0


def _machines(counts: object) -> str:
    if not isinstance(counts, dict) or not counts:
        return "-"
    return ", ".join(f"{m} x{n}" for m, n in sorted(counts.items()))


def _served_placement(url: str) -> dict:
    """``GET URL/hogar/v1/placement`` of a served graph: its nodes' planned and running machines."""
    import urllib.error
    import urllib.request

    target = url.rstrip("/") + "/hogar/v1/placement"
    try:
        with urllib.request.urlopen(target, timeout=30) as response:  # noqa: S310 - the operator's URL
            doc = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise HogarError(f"could not read {target}: {exc}") from None
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    if not isinstance(nodes, dict):
        raise HogarError(f"{target} did not answer a placement ({{\"nodes\": ...}})")
    return nodes


def cmd_fmt(args) -> int:
    graph = _load(args)
    text = graph.to_udgl()
    original = graph.source
    if original is None and (args.check or args.write):
        raise HogarError(f"{args.file} is an EARG file; `hogar fmt FILE` prints it as UDGL, "
                         "--check and --write are for .udgl files")
    if args.check:
        if original != text:
            print(f"{args.file}: not in canonical form (run `hogar fmt --write {args.file}`)")
            return 1
        return 0
    if args.write:
        if original != text:
            Path(args.file).write_text(text, encoding="utf-8")
        return 0
    sys.stdout.write(text)
    return 0


def cmd_schema(args) -> int:
    from .core.earg import earg_schema

    print(json.dumps(earg_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hogar", description="Check, compile, analyze, format and run ML serving graphs.",
    )
    parser.add_argument("--version", action="version", version=f"hogar {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def file_command(name: str, func, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("file", metavar="FILE", help="a .udgl file, or an EARG .yaml/.json file")
        p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="override a graph param (repeatable)")
        p.set_defaults(func=func)
        return p

    p = file_command("check", cmd_check, "check a graph and print its diagnostics")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when the graph is valid but would not start (an impl or artifact not found)")
    p.add_argument("--json", action="store_true",
                   help="print the diagnostics as one JSON list on stdout instead of text")
    p.add_argument("--load-models", action="store_true",
                   help="also read the types of pickled models (.joblib, .pkl: this runs code from them)")
    p = file_command("compile", cmd_compile, "compile a graph to an EARG config")
    p.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of stdout")
    p.add_argument("--format", choices=("yaml", "json"), help="output format (default: by OUT's suffix, else yaml)")
    p = file_command("analyze", cmd_analyze, "print stages, capacity, bottleneck, resources and placement")
    p.add_argument("--json", action="store_true", help="print the analysis as JSON")
    p.add_argument("--served", metavar="URL",
                   help="also say where a served graph's replicas run beside where they were planned")
    p = file_command("fmt", cmd_fmt, "print a graph in canonical UDGL form")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="exit 1 if FILE is not in canonical form")
    group.add_argument("--write", action="store_true", help="rewrite FILE in place (comments and $param references are kept)")
    p = sub.add_parser("schema", help="print the EARG v1 JSON Schema")
    p.set_defaults(func=cmd_schema)
    from .runtime.cli import register

    from .dispatch import run as run_graph

    register(sub, run_graph)  # `hogar run` (with the autoscaler when the graph has auto nodes)
    from .export.cli import register as register_export

    register_export(sub)  # `hogar export`
    from .dispatch import add_backend_arguments, deploy_file
    from .serving.cli import register as register_serve

    add_backend_arguments(register_serve(sub, deploy_file))  # `hogar serve`
    from .serving.rollout_cli import register as register_rollout

    register_rollout(sub)  # `hogar rollout`
    from .console.cli import register as register_console

    register_console(sub)  # `hogar console`
    return parser


EXIT_BROKEN_PIPE = 141  # what a shell reports for a command ended by SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    import threading

    parser = build_parser()
    args = parser.parse_args(argv)
    previous_hook = threading.excepthook
    threading.excepthook = _quiet_thread_hook(previous_hook)
    try:
        try:
            return int(args.func(args) or 0)
        finally:
            threading.excepthook = previous_hook
            sys.stdout.flush()  # a closed pipe shows up here, inside the handler below
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except DiagnosticError as err:
        print(err.render(), file=sys.stderr)
        return 1
    except HogarError as err:
        print(f"hogar: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _quiet_thread_hook(previous):
    """A closed stdout seen by a printing thread (``hogar run``'s live line) is not an error."""

    def hook(args) -> None:
        if not issubclass(args.exc_type, BrokenPipeError):
            previous(args)

    return hook


def _quiet_broken_pipe() -> int:
    """The reader went away (``hogar schema | head``): stop without a word. stdout is
    pointed at /dev/null so that Python's own flush at exit does not complain either."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured in tests)
        pass
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
