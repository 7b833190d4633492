"""``hogar export FILE --to ray-serve|kserve [-o OUT]``: write another runtime's config.

Diagnostics print as ``FILE:LINE:COL: severity[CODE]: ...``; the exit code is 1 when
the target cannot express the graph (errors), 0 otherwise (warnings are printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``export`` sub-command to an argparse sub-parsers object."""
    p = subparsers.add_parser(
        "export", help="export a graph to a Ray Serve config or KServe manifests",
        description="Write a Ray Serve config (serve run / serve deploy) or a KServe "
                    "InferenceGraph with its InferenceServices.")
    p.add_argument("file", metavar="FILE", help="a .udgl file, or an EARG .yaml/.json file")
    p.add_argument("--to", required=True, choices=("ray-serve", "kserve"), help="the target")
    p.add_argument("-o", "--output", metavar="OUT", help="write to OUT instead of stdout")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a graph param's value, or the value of a `$NAME` the graph leaves to its "
                        "caller (as a notebook's name) (repeatable)")
    p.add_argument("--host", default="127.0.0.1", help="ray-serve: HTTP host (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="ray-serve: HTTP port (default 8000)")
    p.add_argument("--working-dir", metavar="URI",
                   help="ray-serve: runtime_env working_dir for every replica (impl modules, model "
                        "artifacts): a remote URI (s3://.../app.zip) or local://DIR on every node")
    p.add_argument("--storage-prefix", metavar="URI",
                   help="kserve: where the model repository is stored (s3://bucket/fraud): node m's "
                        "storageUri is URI/m, a directory holding model.<ext>")
    p.add_argument("--model-repository", metavar="DIR",
                   help="kserve: also write the model repository the manifests expect (DIR/NODE/model.<ext>, "
                        "copied from the graph's artifacts), to copy to --storage-prefix")
    p.add_argument("--validate", action="store_true",
                   help="kserve: also validate against the KServe CRDs' OpenAPI schemas")
    p.set_defaults(func=cmd_export)
    return p


NEXT_STEP = {
    "ray-serve": "run it with `serve run {out}` (or `serve deploy {out}` on a running Ray cluster)",
    "kserve": "apply it with `kubectl apply -f {out}` once the model repository is at its storageUri",
}


def _locate(diag: Any, text: str) -> Any:
    """Give a diagnostic without a position (EARG input) the line of its node's entry."""
    if diag.line is not None or not diag.node:
        return diag
    pattern = re.compile(r"(?:name:\s*|\"name\":\s*\")" + re.escape(diag.node) + r"\b")
    for i, line in enumerate(text.split("\n"), 1):
        m = pattern.search(line)
        if m:
            return dataclasses.replace(diag, line=i, column=m.start() + 1)
    return dataclasses.replace(diag, line=1, column=1)


def cmd_export(args: argparse.Namespace) -> int:
    from ..core.diagnostics import sort_key
    from ..core.graph_file import load_graph_file, param_overrides
    from . import export_graph

    graph = load_graph_file(args.file, params=param_overrides(args.param))
    if args.to == "ray-serve":
        result = export_graph(graph, "ray-serve", host=args.host, port=args.port,
                              working_dir=args.working_dir)
    else:
        result = export_graph(graph, "kserve", storage_prefix=args.storage_prefix)
    text = graph.source if graph.source is not None else Path(args.file).read_text(errors="replace")
    for diag in sorted((_locate(d, text) for d in result.diagnostics), key=sort_key):
        print(diag.format(text, args.file), file=sys.stderr)
    if args.validate and args.to == "kserve":
        from .kserve_schema import validate_manifest

        bad = [f"{args.file}: error: {d['kind']} {d['metadata']['name']}: {p}"
               for d in result.documents for p in validate_manifest(d)]
        for line in bad:
            print(line, file=sys.stderr)
        if bad:
            return 1
        print(f"{args.file}: {len(result.documents)} manifests valid against KServe's CRD schemas",
              file=sys.stderr)
    if not result.ok:
        n = sum(d.is_error for d in result.diagnostics)
        print(f"{args.file}: {n} error{'s' * (n != 1)}: {args.to} cannot express this graph; "
              "nothing written", file=sys.stderr)
        return 1
    if args.model_repository and args.to == "kserve":
        _write_repository(result.repository, Path(args.file).resolve().parent, Path(args.model_repository))
    out = result.to_yaml()
    if args.output:
        Path(args.output).write_text(out, encoding="utf-8")
        print(f"wrote {args.output}; {NEXT_STEP[args.to].format(out=args.output)}", file=sys.stderr)
    else:
        sys.stdout.write(out)
    return 0


def _write_repository(files: dict[str, str], base: Path, into: Path) -> None:
    """Copy each artifact to its place in the model repository (``NODE/model.<ext>``)."""
    import shutil

    from ..errors import HogarError

    for dest, artifact in files.items():
        src = Path(artifact) if Path(artifact).is_absolute() else base / artifact
        if not src.exists():
            raise HogarError(f"cannot write the model repository: artifact {str(src)!r} does not exist")
        target = into / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, target)
    print(f"wrote the model repository in {into} ({len(files)} model{'s' * (len(files) != 1)}); "
          "copy it to the --storage-prefix URI", file=sys.stderr)
