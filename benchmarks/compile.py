"""Compile speed: parse + check + analyze + export of generated graphs, side by side
with the time PyYAML's pure-Python ``safe_load`` takes to read the EARG it produces.

Target: the 5,000-node compile takes no more than 2x that load (aim for 1x).

Typed graphs: the same graphs with every edge typed (annotations, and JSON linear
models whose artifacts give their types), checked side by side with the untyped
ones; type inference's share of the typed check (target < 20%), and the editor's
lint p50 at 300 nodes, in process, after an edit of one value as while typing
(target < 50 ms; benchmarks/lint.py adds HTTP), beside the first lint of a text.
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
            p50 = _lint_p50({"untyped": generate_udgl(300), "typed": generate_typed_udgl(300)},
                            max(30, repeat * 10))
        finally:
            os.chdir(cwd)
        print(f"{'lint, 300 nodes':>16} {'edited ms':>10} {'edited CPU ms':>14} {'first ms':>9} {'first CPU ms':>13}")
        for name, row in p50.items():
            print(f"{name:>16} {row['edited'][0]:>10.1f} {row['edited'][1]:>14.1f} "
                  f"{row['first'][0]:>9.1f} {row['first'][1]:>13.1f}")
        print("edited = lint after one value changed, as while typing (target p50 < 50 ms); first = a text\n"
              "never linted before (every statement parsed); CPU = this process's CPU time, which a busy\n"
              "machine inflates less than the wall clock")


def _lint_p50(texts: dict[str, str], rounds: int) -> dict[str, dict[str, tuple[float, float]]]:
    """p50 (wall ms, CPU ms) of the lint endpoint's function, in process, for each text
    with one `latency` value changed between two lints, and for the same texts linted
    first (the statement cache emptied); the two texts interleaved, so that load weighs
    on both alike."""
    import re

    from hogar_nb.jupyter.server import service

    runs: dict[str, dict[str, list[tuple[float, float]]]] = {n: {"edited": [], "first": []} for n in texts}
    spots = {name: [m.start() for m in re.finditer("latency = 5ms", text)] for name, text in texts.items()}
    for name, text in texts.items():
        service.lint(text)
    for kind in ("edited", "first"):  # a typing session first, then texts never seen
        for i in range(rounds):
            for name, text in texts.items():
                at = spots[name][i % len(spots[name])]
                edited = f"{text[:at]}latency = {6 + i}ms{text[at + len('latency = 5ms'):]}"
                if kind == "first":
                    service._statement_cache.cache_clear()
                t0, c0 = time.perf_counter(), time.process_time()
                reply = service.lint(edited)
                runs[name][kind].append((time.perf_counter() - t0, time.process_time() - c0))
                assert reply["errors"] == 0, reply["diagnostics"][:3]
    return {name: {kind: (statistics.median(w for w, _ in ts) * 1000, statistics.median(c for _, c in ts) * 1000)
                   for kind, ts in kinds.items()} for name, kinds in runs.items()}

if __name__ == "__main__":
    main()
