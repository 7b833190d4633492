"""Compile speed: parse + check + analyze + export of generated graphs, side by side
with the time PyYAML's pure-Python ``safe_load`` takes to read the EARG it produces.

Target: the 5,000-node compile takes no more than 2x that load (aim for 1x).
Run: ``.venv/bin/python benchmarks/compile.py`` (add ``--sizes 100,1000`` to choose).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graphs import generate_udgl  # noqa: E402

import hogar_nb  # noqa: E402


def _timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def compile_once(text: str) -> str:
    graph = hogar_nb.parse_udgl(text)   # parse + every check (placement included)
    graph.analyze()                     # stages, critical path, capacity, placement
    return hogar_nb.dump_earg(graph)    # EARG YAML


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'nodes':>6} {'edges':>6} {'EARG lines':>10} {'compile s':>10} {'yaml load s':>11} {'ratio':>6}")
    for size in (int(s) for s in args.sizes.split(",")):
        text = generate_udgl(size)
        compile_s, earg_text = _timed(lambda: compile_once(text), args.repeat)
        load_s, doc = _timed(lambda: yaml.load(earg_text, Loader=yaml.SafeLoader), args.repeat)
        print(f"{len(doc['nodes']):>6} {len(doc['edges']):>6} {earg_text.count(chr(10)):>10} "
              f"{compile_s:>10.3f} {load_s:>11.3f} {compile_s / load_s:>5.2f}x")
    print("ratio = compile / pure-Python yaml.safe_load of the same EARG (target <= 2x, aim 1x)")


if __name__ == "__main__":
    main()
