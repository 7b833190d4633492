"""``hogar run FILE``: start a graph, optionally drive load, print a live summary and a report."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TextIO

from ..errors import HogarError

if TYPE_CHECKING:  # pragma: no cover
    from .protocol import DeploymentProtocol


__all__ = ["register", "report_table"]


def register(subparsers: Any, runner: Callable[..., Any] | None = None) -> argparse.ArgumentParser:
    """Add the ``run`` sub-command to an argparse sub-parsers object. ``runner`` starts
    the graph (default: this engine's ``run``; the ``hogar`` command passes
    ``hogar_nb.run``, which also starts what steers it, such as the autoscaler)."""
    p = subparsers.add_parser("run", help="run a graph in-process, optionally under load",
                              description="Run a .udgl or EARG .yaml/.json graph in this process.")
    p.add_argument("file", metavar="FILE", help="a .udgl file, or an EARG .yaml/.json file")
    p.add_argument("--rate", type=float, help="drive load at R requests per second")
    p.add_argument("--duration", type=float, help="seconds of load (default 10), or to stay up")
    p.add_argument("--payload", default="null", help="JSON payload of each request (default null)")
    p.add_argument("--arrival", choices=("poisson", "fixed"), default="poisson")
    p.add_argument("--concurrency", type=int, help="cap on requests in flight")
    p.add_argument("--metrics-port", type=int, metavar="P", help="serve Prometheus metrics on 127.0.0.1:P")
    p.add_argument("--base-dir", help="directory model paths are relative to (default: current)")
    p.set_defaults(func=cmd_run, runner=runner)
    return p


def report_table(snap: Any) -> str:
    """A per-node table of a metrics snapshot."""
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    lines = [f"{'node':<16}{'requests':>10}{'errors':>8}{'restarts':>9}{'p50 ms':>9}{'p99 ms':>9}{'alive':>7}"]
    for m in [snap.graph, *snap.nodes.values()]:
        alive = f"{m.replicas_alive}/{m.replicas}" if m.replicas else "-"
        if getattr(m, "state", "serving") != "serving":
            alive += f"  {m.state.upper().replace('_', '-')}"
        lines.append(f"{m.name:<16}{m.requests:>10}{m.errors:>8}{m.restarts:>9}"
                     f"{ms(m.p50_ms):>9}{ms(m.p99_ms):>9}{alive:>7}")
    return "\n".join(lines)


def _live(dep: DeploymentProtocol, stop: threading.Event, out: TextIO) -> None:
    tty = out.isatty()
    start = time.monotonic()
    while not stop.wait(1.0):
        g = dep.metrics().graph
        p50 = "-" if g.p50_ms is None else f"{g.p50_ms:.2f} ms"
        line = (f"t={time.monotonic() - start:5.1f}s  requests {g.requests}  ok {g.ok}  "
                f"errors {g.errors}  rps {g.rps:.1f}  p50 {p50}  in-flight {g.in_flight}")
        out.write(("\r" + line) if tty else line + "\n")
        out.flush()
    if tty:
        out.write("\n")


def cmd_run(args: argparse.Namespace) -> int:
    from .deployment import run as run_here

    run = getattr(args, "runner", None) or run_here
    out = sys.stdout
    try:
        payload = json.loads(args.payload)
    except json.JSONDecodeError as exc:
        print(f"hogar run: error: --payload is not valid JSON ({exc}): {args.payload!r}", file=sys.stderr)
        return 2
    path = Path(args.file)
    if str(path.resolve().parent) not in sys.path:
        sys.path.insert(0, str(path.resolve().parent))  # impls next to the graph file import
    try:
        dep = run(path, base_dir=args.base_dir)
    except (HogarError, OSError) as err:
        print(f"hogar run: error: {err}", file=sys.stderr)
        return 2
    try:
        print(f"running {dep.name!r} ({len(dep.metrics().nodes)} nodes)", file=out)
        if args.metrics_port is not None:
            print(f"metrics at {dep.serve_metrics(args.metrics_port)}", file=out)
        stop = threading.Event()
        ticker = threading.Thread(target=_live, args=(dep, stop, out), daemon=True)
        ticker.start()
        report = None
        try:
            if args.rate:
                report = dep.load(args.rate, args.duration or 10.0, payload, args.arrival,
                                  args.concurrency, progress=False)
            elif args.duration is not None:
                stop.wait(args.duration)
            else:
                print("no --rate given: serving until interrupted (Ctrl-C)", file=out)
                while True:
                    stop.wait(3600)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            ticker.join()
        if report is not None:
            print(report.summary(), file=out)
        print(report_table(dep.metrics()), file=out)
        failed = report is not None and (report.lost or report.ok == 0)
        return 1 if failed else 0
    finally:
        dep.stop()
