"""HTTP serving benchmark: `hogar serve` beside a bare Starlette echo on the same uvicorn.

In one run, on 127.0.0.1, with `wrk` (64 connections, one client thread, written in C
so the client is not the bottleneck):

1. the floor: uvicorn + Starlette answering POST with the request body (no graph);
2. `hogar serve` of a 4-node identity chain (source -> 4 python nodes -> sink), as
   written and with `batch = 64, batch_wait = 0ms` on each node (take what is queued,
   never wait); target: at least 0.8x the floor's requests/s;
3. Ray Serve's HTTP figure for the same chain, where the Ray backend provides one
   (see `start_ray_serve_chain`);
4. an ONNX model (a scikit-learn MLP exported with skl2onnx) served with batch = 1 and
   batch = 32; target: at least 3x the throughput with batching.

Each server runs in its own process; all of a comparison's servers are up together and
measured in turns, round after round, so their ratios hold on a shared, noisy machine.
Beside requests/s, each server's CPU time per request (user + system, from /proc) is
printed: wrk and other processes share the cores, which moves requests/s far more
than the work a server does for each request.

    make bench        # installs wrk (Debian) when missing
    .venv/bin/python benchmarks/serve.py [--duration 5] [--connections 64]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

FLOOR_APP = """
import socket, sys
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/json")

app = Starlette(routes=[Route("/echo", echo, methods=["POST"])])
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(2048)
print(f"serving floor on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
config = uvicorn.Config(app, http="httptools", loop="auto", lifespan="off", log_level="warning",
                        access_log=False, server_header=False, proxy_headers=False)
uvicorn.Server(config).run(sockets=[sock])
"""

CHAIN = """graph chain4
source api { route = "/echo" }
python a { impl = "bench_impls:identity" }
python b { impl = "bench_impls:identity" }
python c { impl = "bench_impls:identity" }
python d { impl = "bench_impls:identity" }
sink out { response = true }
api -> a -> b -> c -> d -> out
"""

# The same chain where each node takes whatever is queued (up to 64) in one call and
# never waits for more: fewer thread hand-offs under load, no added latency.
CHAIN_DRAIN = CHAIN.replace("graph chain4", "graph chain4drain").replace(
    '"bench_impls:identity" }', '"bench_impls:identity", batch = 64, batch_wait = 0ms }')

MODEL = """graph mlp{batch}
source api {{ route = "/predict" }}
model mlp {{ impl = "mlp.onnx", batch = {batch}, batch_wait = 2ms }}
sink out {{ response = true }}
api -> mlp -> out
"""

FEATURES = 256
HIDDEN = (2048, 2048)  # big enough that one call per row, not HTTP, bounds batch = 1
MLP = f"ONNX MLP {FEATURES}-{HIDDEN[0]}-{HIDDEN[1]}-1"


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float = 0.0  # the server process's CPU time per request answered


@dataclass
class Server:
    url: str
    path: str
    stop: Callable[[], None]
    pid: int = 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (every thread), from /proc."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spawn(args: list[str], cwd: Path, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": f"{cwd}{os.pathsep}{root}"}
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "serving NAME on http://HOST:PORT"
    if not line.startswith("serving "):
        proc.kill()
        raise SystemExit(f"{' '.join(args)} did not start: {line!r}")
    return proc, line.split()[-1]


def _stopper(proc: subprocess.Popen) -> Callable[[], None]:
    def stop() -> None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return stop


def start_floor(work: Path) -> Server:
    proc, url = _spawn([PY, "-c", FLOOR_APP], work)
    return Server(url, "/echo", _stopper(proc), proc.pid)


def start_hogar(work: Path, graph: str, path: str, root: Path = ROOT) -> Server:
    proc, url = _spawn([PY, "-m", "hogar_nb", "serve", graph, "--port", "0"], work, root)
    return Server(url, path, _stopper(proc), proc.pid)


RAY_APP = """
import os, signal, tempfile, threading
root = tempfile.mkdtemp(prefix="hogar-bench-ray-")
os.environ["HOME"] = os.environ["RAY_TMPDIR"] = root
import hogar_nb
from hogar_nb.backends.ray.cluster import free_port
graph = hogar_nb.parse_udgl(open("chain4.udgl").read())
graph.set_default("cpu", 0.1)  # five processes on two cores
port = free_port()
dep = hogar_nb.run(graph, backend="ray", http_port=port)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
print(f"serving {dep.name} on http://127.0.0.1:{port}", flush=True)
stop.wait()
dep.stop()
"""


def _loopback_only() -> bool:
    import socket

    return sorted(name for _i, name in socket.if_nameindex()) == ["lo"]


def start_ray_serve_chain(work: Path) -> Server | None:
    """Ray Serve's own HTTP proxy in front of the same chain (``chain4.udgl`` in ``work``),
    run by hogar_nb's Ray backend on a local Ray; None where Ray is not installed or this
    is not a loopback-only network namespace (Ray listens on every interface; `make bench`
    runs this script in one)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return None
    if not _loopback_only():
        print("    (Ray Serve figure left out: run in a loopback-only network namespace, as "
              "`make bench` does)")
        return None
    proc, url = _spawn([PY, "-c", RAY_APP], work)
    return Server(url, "/echo", _stopper(proc))


def wrk(server: Server, body: str, duration: float, connections: int, work: Path) -> Result:
    script = work / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = {body!r}\n".replace("'", '"'))
    cpu0 = cpu_seconds(server.pid) if server.pid else 0.0
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency",
                          "-s", str(script), server.url + server.path],
                         capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server.pid) - cpu0 if server.pid else 0.0
    answered = int(re.search(r"(\d+) requests in", out).group(1))

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: .*", out)
    if socket_errors:
        print(f"    wrk: {socket_errors.group(0)}")
    return Result(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), ms("50%"), ms("99%"),
                  int(errors.group(1)) if errors else 0, cpu / max(answered, 1) * 1e6)


def compare(starts: dict[str, Callable[[], Server | None]], body: str, args: argparse.Namespace,
            work: Path) -> dict[str, Result | None]:
    """Start every server, then measure them in turns (``--rounds`` rounds, the same order
    each round): the machine's load drifts, so each figure is the median of its rounds
    and each ratio the median of the rounds' ratios (see ``ratio``)."""
    servers = {name: start() for name, start in starts.items()}
    rounds: dict[str, list[Result]] = {name: [] for name, s in servers.items() if s is not None}
    try:
        for name in rounds:
            wrk(servers[name], body, 1.0, args.connections, work)  # warm up
        for _ in range(args.rounds):
            for name in rounds:
                rounds[name].append(wrk(servers[name], body, args.duration, args.connections, work))
    finally:
        for server in servers.values():
            if server is not None:
                server.stop()
    out: dict[str, Result | None] = {name: None for name in servers}
    for name, results in rounds.items():
        out[name] = Result(statistics.median(r.rps for r in results),
                           statistics.median(r.p50_ms for r in results),
                           statistics.median(r.p99_ms for r in results), sum(r.errors for r in results),
                           statistics.median(r.cpu_us for r in results))
        out[name].rounds = [r.rps for r in results]  # type: ignore[attr-defined]
        out[name].cpu_rounds = [r.cpu_us for r in results]  # type: ignore[attr-defined]
    return out


def ratios(a: Result, b: Result) -> list[float]:
    """Each round's a's requests/s over b's in the same round."""
    return [x / y for x, y in zip(a.rounds, b.rounds)]  # type: ignore[attr-defined]


def ratio(a: Result, b: Result) -> float:
    """Median over rounds of a's requests/s over b's in the same round."""
    return statistics.median(ratios(a, b))


def cpu_ratios(a: Result, b: Result) -> list[float]:
    """Each round's b's CPU per request over a's: a's share of b's speed by CPU."""
    return [y / x for x, y in zip(a.cpu_rounds, b.cpu_rounds)]  # type: ignore[attr-defined]


def rounds_of(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def export_mlp(work: Path) -> list[float]:
    """Train a small MLP on synthetic data (seconds) and export it with skl2onnx."""
    import warnings

    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, FEATURES)).astype(np.float32)
    y = x[:, :8].sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(hidden_layer_sizes=HIDDEN, max_iter=1, random_state=0).fit(x, y)
    (work / "mlp.onnx").write_bytes(to_onnx(mlp, x[:1]).SerializeToString())
    return [round(float(v), 4) for v in x[0]]


def line(label: str, r: Result | None, times: float | None = None) -> str:
    if r is None:
        return f"{label:<44} not measured"
    ratio = f"  {times:5.2f}x" if times is not None else ""
    errors = f"  ({r.errors} errors)" if r.errors else ""
    return (f"{label:<44}{r.rps:>10.0f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms"
            f"  CPU {r.cpu_us:6.1f} µs/req{ratio}{errors}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="measurements of each server, in turns")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--chain-only", action="store_true", help="leave out the ONNX model part")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="another checkout of hogar_nb whose `hogar serve` of the chain is measured "
                             "in the same turns (before/after a change)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmarks/serve.py needs wrk: `make bench` installs it (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "bench_impls.py").write_text("def identity(x):\n    return x\n")
        (work / "chain4.udgl").write_text(CHAIN)
        (work / "chain4drain.udgl").write_text(CHAIN_DRAIN)
        payload = "[1, 2, 3]"
        print(f"HTTP serving on 127.0.0.1, wrk: 1 thread, {args.connections} connections, "
              f"{args.rounds} rounds of {args.duration:g} s per server, in turns; each server "
              "in its own process; medians")
        starts = {"floor": lambda: start_floor(work),
                  "chain": lambda: start_hogar(work, "chain4.udgl", "/echo"),
                  "drain": lambda: start_hogar(work, "chain4drain.udgl", "/echo"),
                  "ray": lambda: start_ray_serve_chain(work)}
        if args.baseline is not None:
            starts["baseline"] = lambda: start_hogar(work, "chain4.udgl", "/echo", args.baseline.resolve())
        got = compare(starts, payload, args, work)
        floor, chain, drain = got["floor"], got["chain"], got["drain"]
        assert floor is not None and chain is not None and drain is not None
        print(line("floor: Starlette echo on uvicorn", floor))
        print(line("hogar serve: 4-node identity chain", chain, ratio(chain, floor)))
        print(line("  the same, batch = 64, batch_wait = 0ms", drain, ratio(drain, floor)))
        ray = got["ray"]
        print(line("Ray Serve: the same chain", ray, ratio(ray, floor) if ray else None))
        print(f"  chain / floor = {ratio(chain, floor):.2f}x, with batch = 64, batch_wait = 0ms: "
              f"{ratio(drain, floor):.2f}x (target >= 0.8x)")
        print(f"  rounds' chain / floor: {rounds_of(ratios(chain, floor))}; batch = 64: "
              f"{rounds_of(ratios(drain, floor))}")
        print(f"  by CPU per request, floor's / chain's: {statistics.median(cpu_ratios(chain, floor)):.2f}x "
              f"(rounds {rounds_of(cpu_ratios(chain, floor))}); batch = 64: "
              f"{statistics.median(cpu_ratios(drain, floor)):.2f}x")
        base = got.get("baseline")
        if base is not None:
            print(line(f"  baseline ({args.baseline}): the chain", base, ratio(base, floor)))
            print(f"  chain / baseline: {ratio(chain, base):.2f}x req/s (rounds {rounds_of(ratios(chain, base))}),"
                  f" {statistics.median(cpu_ratios(chain, base)):.2f}x by CPU per request")
        if args.chain_only:
            return 0
        row = export_mlp(work)
        for batch in (1, 32):
            (work / f"mlp{batch}.udgl").write_text(MODEL.format(batch=batch))
        got = compare({"one": lambda: start_hogar(work, "mlp1.udgl", "/predict"),
                       "many": lambda: start_hogar(work, "mlp32.udgl", "/predict")}, str(row), args, work)
        one, many = got["one"], got["many"]
        assert one is not None and many is not None
        print(line(f"{MLP}, batch = 1", one))
        print(line(f"{MLP}, batch = 32", many, ratio(many, one)))
        print(f"  batch 32 / batch 1 = {ratio(many, one):.2f}x (target >= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
