"""Compile speed: parse + check + analyze + export of generated graphs, side by side
with the time PyYAML's pure-Python ``safe_load`` takes to read the EARG it produces.

Target: the 5,000-node compile takes no more than 2x that load (aim for 1x).

Typed graphs: the same graphs with every edge typed (annotations, and JSON linear
models whose artifacts give their types), checked side by side with the untyped
ones; type inference's share of the typed check (target < 20%), and the editor's
lint p50 at 300 nodes, in process (target < 50 ms; benchmarks/lint.py adds HTTP).
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
from graphs import generate_typed_udgl, generate_udgl, write_linear_models  # noqa: E402

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
    ap.add_argument("--typed-size", type=int, default=5000)
    args = ap.parse_args()
    print(f"{'nodes':>6} {'edges':>6} {'EARG lines':>10} {'compile s':>10} {'yaml load s':>11} {'ratio':>6}")
    for size in (int(s) for s in args.sizes.split(",")):
        text = generate_udgl(size)
        compile_s, earg_text = _timed(lambda: compile_once(text), args.repeat)
        load_s, doc = _timed(lambda: yaml.load(earg_text, Loader=yaml.SafeLoader), args.repeat)
        print(f"{len(doc['nodes']):>6} {len(doc['edges']):>6} {earg_text.count(chr(10)):>10} "
              f"{compile_s:>10.3f} {load_s:>11.3f} {compile_s / load_s:>5.2f}x")
    print("ratio = compile / pure-Python yaml.safe_load of the same EARG (target <= 2x, aim 1x)")
    typed(args.typed_size, args.repeat)


def typed(size: int, repeat: int) -> None:
    import os
    import tempfile

    from hogar_nb.core.types import infer_types
    from hogar_nb.core.types.signatures import _cached
    from hogar_nb.core.udgl import compile_udgl
    from hogar_nb.jupyter.server.service import lint

    with tempfile.TemporaryDirectory(prefix="hogar-typed-bench-") as folder:
        write_linear_models(folder, max(size, 300))
        plain, text = generate_udgl(size), generate_typed_udgl(size)

        bare = Path(folder) / "no-artifacts"  # where the untyped graph's model files are not
        bare.mkdir()

        def check(t: str):
            _cached.cache_clear()  # every artifact is read again, as a fresh check would
            graph, diags = compile_udgl(t, base_dir=folder if t is text else bare)
            assert graph is not None and not [d for d in diags if d.is_error], diags[:3]
            return graph

        def infer():
            _cached.cache_clear()
            return infer_types(graph, folder)

        # interleaved, so that a busy machine weighs on every column alike
        runs: dict[str, list[float]] = {"plain": [], "typed": [], "infer": []}
        for _ in range(repeat):
            runs["plain"].append(_timed(lambda: check(plain), 1)[0])
            seconds, graph = _timed(lambda: check(text), 1)
            runs["typed"].append(seconds)
            seconds, report = _timed(infer, 1)
            runs["infer"].append(seconds)
        plain_s, typed_s, infer_s = (statistics.median(runs[k]) for k in ("plain", "typed", "infer"))
        known = sum(t is not None for t in report.edges.values())
        print(f"\ntyped graph: {len(graph.nodes)} nodes, {known} of {len(report.edges)} edges typed")
        print(f"{'check untyped s':>16} {'check typed s':>14} {'inference s':>12} {'share':>6}")
        print(f"{plain_s:>16.3f} {typed_s:>14.3f} {infer_s:>12.3f} {infer_s / typed_s:>5.1%}")
        print("share = type inference / the typed check that includes it (target < 20%)")
        cwd = os.getcwd()
        os.chdir(folder)  # lint reads artifacts from the server's folder
        try:
            texts = {"untyped": generate_udgl(300), "typed": generate_typed_udgl(300)}
            times: dict[str, list[float]] = {name: [] for name in texts}
            for _ in range(max(30, repeat * 10)):
                for name, small in texts.items():
                    t0 = time.perf_counter()
                    reply = lint(small)
                    times[name].append(time.perf_counter() - t0)
                    assert reply["errors"] == 0, reply["diagnostics"][:3]
            p50 = {name: statistics.median(ts) * 1000 for name, ts in times.items()}
        finally:
            os.chdir(cwd)
        print(f"lint of the 300-node graph, in process: p50 untyped {p50['untyped']:.1f} ms, "
              f"typed {p50['typed']:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
