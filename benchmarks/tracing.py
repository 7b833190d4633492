"""Tracing's cost: the 4-node chain through `hogar serve`, tracing off, 1 % and 100 %.

In one run, on 127.0.0.1, with `wrk` (as benchmarks/serve.py: 64 connections, one
client thread, the servers measured in turns, round after round, medians):

1. `hogar serve` of the 4-node identity chain, tracing off (no sampler or exporter
   configured: requests still get a `traceparent`, no span is built);
2. the same with `--trace-sample 0.01` (1 % of requests traced into the store);
3. the same with `--trace-sample 1` (every request traced into the store; no
   exporter configured, so nothing leaves the process).

Targets: < 1 % throughput loss at 1 %, < 5 % at 100 %. The per-request cost is the
difference of the inverse throughputs (CPU time per request on a saturated server).

    .venv/bin/python benchmarks/tracing.py [--duration 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import CHAIN, PY, Server, _spawn, _stopper, compare, line, ratio  # noqa: E402

OTEL = [k for k in os.environ if k.startswith("OTEL_")]


def start(work: Path, *extra: str) -> Server:
    for key in OTEL:  # no exporter, no sampler from the environment: the store only
        os.environ.pop(key, None)
    proc, url = _spawn([PY, "-m", "hogar_nb", "serve", "chain4.udgl", "--port", "0", *extra], work)
    return Server(url, "/echo", _stopper(proc))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="measurements of each server, in turns")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmarks/tracing.py needs wrk: `make bench` installs it (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bench_impls.py").write_text("def identity(x):\n    return x\n")
        (work / "chain4.udgl").write_text(CHAIN)
        print(f"Tracing on `hogar serve` (4-node identity chain), 127.0.0.1, wrk: 1 thread, "
              f"{args.connections} connections, {args.rounds} rounds of {args.duration:g} s per server, "
              "in turns; medians")
        got = compare({"off": lambda: start(work),
                       "one": lambda: start(work, "--trace-sample", "0.01"),
                       "all": lambda: start(work, "--trace-sample", "1")}, "[1, 2, 3]", args, work)
        off, one, every = got["off"], got["one"], got["all"]
        assert off is not None and one is not None and every is not None
        print(line("tracing off", off))
        for label, r, target in (("sampling 1 % (to the store)", one, 1.0),
                                 ("sampling 100 % (to the store only)", every, 5.0)):
            times = ratio(r, off)
            loss = (1.0 - times) * 100.0
            cost = (1.0 / r.rps - 1.0 / off.rps) * 1e6
            print(line(label, r, times))
            print(f"  throughput loss {loss:5.1f} % (target < {target:g} %), "
                  f"cost per request {cost:6.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
