"""Hostile inputs: time and peak memory of `hogar check` on the worst inputs under
10 MB, each in a fresh process, side by side with `hogar check` of a valid graph of
the same size class as a baseline.

Target: no traceback, and under 1 GB and 10 s for any input under 10 MB.
Run: ``.venv/bin/python benchmarks/hostile.py`` (``--mb 1`` for smaller inputs,
``--only NAME`` to run one case).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

MB = 2**20


def _cases(size: int) -> dict[str, tuple[str, Callable[[int], bytes]]]:
    """name -> (file suffix, make(size) -> bytes just under ``size``)."""

    def repeat(unit: str, head: str = "", tail: str = "") -> Callable[[int], bytes]:
        def make(n: int) -> bytes:
            body = unit * ((n - len(head) - len(tail)) // len(unit))
            return (head + body + tail).encode()
        return make

    return {
        "valid graph (baseline)": (".udgl", lambda n: _valid_graph(n)),
        "one line of bad characters": (".udgl", repeat("@")),
        "one line of [": (".udgl", repeat("[")),
        "one long number": (".udgl", repeat("9", "python x { a = ", " }\n")),
        "one long name": (".udgl", repeat("n", "source ", "\n")),
        "one long string": (".udgl", repeat("x", 'python x { impl = "', '" }\n')),
        "one line, many statements": (".udgl", repeat("python n { impl = 1 } ")),
        "many bad lines": (".udgl", repeat("a b\n")),
        "many unknown nodes": (".udgl", lambda n: _unknown_nodes(n)),
        "EARG: empty node entries": (".yaml", repeat("- {}\n", "earg: 1\nname: t\nparams: {}\nresponse: o\nnodes:\n",
                                                     "edges: []\nstages: []\n")),
        "EARG: 9,000 empty node entries": (".yaml", lambda n: (
            "earg: 1\nname: t\nparams: {}\nresponse: o\nnodes:\n" + "- {}\n" * 9_000 + "edges: []\nstages: []\n"
        ).encode()),
        "EARG: one long hex number": (".yaml", repeat("f", "earg: 0x", "\n")),
        "EARG: deep flow nesting": (".yaml", repeat("[", "earg: ")),
        "/dev/zero": ("", lambda n: b""),
    }


def _valid_graph(n: int) -> bytes:
    lines = ["source in"]
    edges = []
    i = 0
    size = 20
    while size < n and i < 3_000:
        line = f'python n{i} {{ impl = "m:f", replicas = 2, timeout = 250ms }}'
        lines.append(line)
        edges.append(f"{'in' if i == 0 else f'n{i - 1}'} -> n{i}")
        size += len(line) + 20
        i += 1
    lines.append("sink out")
    edges.append(f"n{i - 1} -> out")
    return ("\n".join(lines + edges) + "\n").encode()


def _unknown_nodes(n: int) -> bytes:
    out, i, size = ["source s"], 0, 9
    while size < n:
        line = f"python n{i} {{ impl = bad }}\nn{i} -> zz{i}"
        out.append(line)
        size += len(line) + 1
        i += 1
    return ("\n".join(out) + "\n").encode()


_CHILD = """
import resource, sys, time, io, contextlib
from hogar_nb.cli import main
err = io.StringIO()
t0 = time.perf_counter()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(["check", sys.argv[1]])
        crash = ""
    except BaseException as exc:
        code, crash = -1, type(exc).__name__
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{elapsed:.3f} {peak:.0f} {code} {len(err.getvalue())} {crash or '-'}")
"""


def _run(path: str) -> tuple[float, float, int, int, str]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, path], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not proc.stdout.strip():
        return float("nan"), float("nan"), -1, 0, f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
    t, peak, code, out_len, crash = proc.stdout.split()
    return float(t), float(peak), int(code), int(out_len), crash


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=float, default=9.9, help="input size in MiB (default 9.9)")
    ap.add_argument("--only", help="run only the case whose name contains this")
    args = ap.parse_args()
    size = int(args.mb * MB)
    rows = []
    # the interpreter and hogar_nb themselves, to read the figures against
    base_t, base_peak, *_ = _run("/nonexistent.udgl")
    print(f"hostile inputs of {args.mb:g} MiB, `hogar check` in a fresh process each")
    print(f"(a Python process importing hogar_nb and failing on a missing file: {base_t:.2f} s, {base_peak:.0f} MB)\n")
    print(f"{'case':<34}{'bytes':>12}{'seconds':>9}{'peak MB':>9}{'exit':>6}{'report':>9}  crash")
    worst_t = worst_m = 0.0
    crashes = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (suffix, make) in _cases(size).items():
            if args.only and args.only not in name:
                continue
            if name == "/dev/zero":
                path, n = "/dev/zero", "endless"
            else:
                data = make(size)
                path = str(Path(tmp) / f"case{suffix}")
                Path(path).write_bytes(data)
                n = f"{len(data):,}"
            t, peak, code, out_len, crash = _run(path)
            rows.append((name, t, peak))
            worst_t, worst_m = max(worst_t, t), max(worst_m, peak)
            crashes += crash != "-"
            print(f"{name:<34}{n:>12}{t:>9.2f}{peak:>9.0f}{code:>6}{out_len:>9,}  {crash}")
    print(f"\nworst: {worst_t:.2f} s ({worst_t / 10:.0%} of the 10 s target), {worst_m:.0f} MB peak "
          f"({worst_m / 1024:.0%} of the 1 GB target), {crashes} crash{'es' * (crashes != 1)}")


if __name__ == "__main__":
    main()
