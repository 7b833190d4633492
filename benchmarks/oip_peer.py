"""The Open Inference Protocol beside a peer: `hogar serve` and MLServer on the same model.

One scikit-learn LogisticRegression (20 features), served by `hogar serve` and by
MLServer 1.7 with mlserver-sklearn in its default configuration and tuned
(``parallel_workers = 0``; httptools is in its virtualenv, so uvicorn takes it). The
same v2 JSON bodies of 1 and 32 rows go to both, with 16 and 64 connections, by `wrk`;
all servers are up together and measured in turns, round after round, so the ratios
hold on a shared, noisy machine. Printed: requests/s, p50/p99, the server's CPU per
request (its processes and their children), the median ratio to each MLServer, and
whether the predictions agree. Then the gRPC path against MLServer's gRPC (one Python
client for both), and hogar alone: binary tensor bodies against JSON for a 32 x 20
FP32 input.

MLServer is no dependency of hogar_nb: the benchmark installs it into .venv-mlserver
(with uvloop 0.21, which MLServer's default parallel worker needs) the first time.

    make bench
    .venv/bin/python benchmarks/oip_peer.py [--duration 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PEER_VENV = ROOT / ".venv-mlserver"
PEER_PACKAGES = ["mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.*", "httptools"]
FEATURES = 20

GRAPH = """graph lr
source api
model lr { impl = "model.joblib" }
sink out { response = true }
api -> lr -> out
"""


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen
    grpc: str = ""  # host:port of its gRPC service

    def cpu(self) -> float:
        import psutil

        total = 0.0
        try:
            procs = [psutil.Process(self.proc.pid)]
            procs += procs[0].children(recursive=True)
        except psutil.NoSuchProcess:
            return 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Result:
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    errors: int = 0


def peer_python() -> Path:
    """MLServer's virtualenv, made on first use."""
    python = PEER_VENV / "bin" / "python"
    stamp = PEER_VENV / ".installed"
    if not stamp.exists():
        print(f"installing MLServer into {PEER_VENV.relative_to(ROOT)} (once; about a minute)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
        stamp.touch()
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/v2/health/ready", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{what} was not ready within {timeout:g} s")


def start_hogar(work: Path) -> Server:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([PY, "-m", "hogar_nb", "serve", "lr.udgl", "--port", "0", "--grpc-port", "0"],
                            cwd=work, env=env, stdout=subprocess.PIPE, text=True)
    line, grpc_line = proc.stdout.readline(), proc.stdout.readline()
    if not line.startswith("serving ") or "gRPC" not in grpc_line:
        proc.kill()
        raise SystemExit(f"hogar serve did not start: {line!r} {grpc_line!r}")
    return Server("hogar", line.split()[-1], proc, grpc_line.split()[-1])


def start_mlserver(work: Path, name: str, tuned: bool) -> Server:
    where = work / name
    (where / "lr").mkdir(parents=True)
    shutil.copy(work / "model.joblib", where / "lr" / "model.joblib")
    (where / "lr" / "model-settings.json").write_text(json.dumps({
        "name": "lr", "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "1"}}))
    port = free_port()
    grpc_port = free_port()
    settings = {"host": "127.0.0.1", "http_port": port, "grpc_port": grpc_port, "metrics_port": free_port()}
    if tuned:
        settings["parallel_workers"] = 0
    (where / "settings.json").write_text(json.dumps(settings))
    mlserver = PEER_VENV / "bin" / "mlserver"
    proc = subprocess.Popen([str(mlserver), "start", "."], cwd=where, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={k: v for k, v in os.environ.items()
                                                            if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc, f"MLServer ({name})")
    return Server(name, url, proc, f"127.0.0.1:{grpc_port}")


def body(rows: list[list[float]]) -> bytes:
    flat = [v for row in rows for v in row]
    return json.dumps({"inputs": [{"name": "predict", "shape": [len(rows), FEATURES], "datatype": "FP32",
                                   "data": flat}]}).encode()


def binary_body(rows: list[list[float]]) -> tuple[bytes, int]:
    head = json.dumps({"inputs": [{"name": "predict", "shape": [len(rows), FEATURES], "datatype": "FP32",
                                   "parameters": {"binary_data_size": 4 * FEATURES * len(rows)}}],
                       "parameters": {"binary_data_output": True}}).encode()
    return head + struct.pack(f"<{FEATURES * len(rows)}f", *(v for row in rows for v in row)), len(head)


def wrk(url: str, payload: Path, connections: int, duration: float, work: Path,
        header_length: int | None = None) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx) of ``wrk`` POSTing the file ``payload``."""
    script = work / f"post-{payload.stem}.lua"
    extra = f'wrk.headers["Inference-Header-Content-Length"] = "{header_length}"\n' if header_length else ""
    kind = "application/octet-stream" if header_length else "application/json"
    script.write_text(f'local f = io.open("{payload}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
                      f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "{kind}"\n{extra}')
    seconds = max(1, round(duration))  # wrk takes whole seconds
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
                          url + "/v2/models/lr/infer"], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), ms("50%"), ms("99%"),
            int(errors.group(1)) if errors else 0)


def grpc_load(address: str, rows: list[list[float]], concurrency: int,
              seconds: float) -> tuple[float, float, float, int]:
    """(calls/s, p50 ms, p99 ms, failed) of ``concurrency`` callers sending one
    pre-serialized ModelInferRequest (typed FP32 contents) for ``seconds``. The client
    is Python (grpcio's asyncio channel), the same for both servers."""
    import asyncio

    import grpc

    from hogar_nb.serving.grpc_messages import SERVICE, messages

    req = messages()["inference.ModelInferRequest"](model_name="lr")
    tensor = req.inputs.add(name="predict", datatype="FP32", shape=[len(rows), FEATURES])
    tensor.contents.fp32_contents.extend(v for row in rows for v in row)
    blob = req.SerializeToString()

    async def run() -> tuple[float, float, float, int]:
        latencies: list[float] = []
        failed = 0
        async with grpc.aio.insecure_channel(address) as channel:
            call = channel.unary_unary(f"/{SERVICE}/ModelInfer")
            end = time.monotonic() + seconds

            async def caller() -> None:
                nonlocal failed
                while time.monotonic() < end:
                    t0 = time.monotonic()
                    try:
                        await call(blob, timeout=30)
                        latencies.append(time.monotonic() - t0)
                    except grpc.RpcError:
                        failed += 1

            await asyncio.gather(*(caller() for _ in range(concurrency)))
        latencies.sort()
        pick = (lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]) if latencies \
            else (lambda q: float("nan"))
        return len(latencies) / seconds, pick(0.5), pick(0.99), failed

    return asyncio.run(run())


def predictions(url: str, data: bytes) -> list:
    req = urllib.request.Request(url + "/v2/models/lr/infer", data=data,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["outputs"][0]["data"]


def measure(servers: list[Server], cases: dict[str, tuple[Path, int]], args: argparse.Namespace,
            work: Path) -> dict[tuple[str, str], Result]:
    """Every (server, case) in turns, ``args.rounds`` times."""
    results = {(s.name, c): Result() for s in servers for c in cases}
    for s in servers:
        for payload, connections in cases.values():
            wrk(s.url, payload, connections, 1, work)  # warm up
    for _ in range(args.rounds):
        for case, (payload, connections) in cases.items():
            for s in servers:
                before = s.cpu()
                rps, p50, p99, errors = wrk(s.url, payload, connections, args.duration, work)
                used = s.cpu() - before
                r = results[(s.name, case)]
                r.rps.append(rps)
                r.p50.append(p50)
                r.p99.append(p99)
                r.cpu_ms.append(1000 * used / max(rps * args.duration, 1))
                r.errors += errors
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=2, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each server, in turns")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmarks/oip_peer.py needs wrk: `make bench` installs it (apt-get install wrk)", file=sys.stderr)
        return 2
    peer_python()
    import joblib
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=2000, n_features=FEATURES, random_state=0)
    X = X.astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        joblib.dump(LogisticRegression(max_iter=1000).fit(X, y), work / "model.joblib")
        (work / "lr.udgl").write_text(GRAPH)
        rows = {n: [[round(float(v), 4) for v in row] for row in X[:n]] for n in (1, 32)}
        for n, r in rows.items():
            (work / f"rows{n}.json").write_bytes(body(r))
        cases = {f"{n} row{'s' * (n > 1)}, {c} conn": (work / f"rows{n}.json", c) for n in (1, 32) for c in (16, 64)}
        servers = [start_hogar(work)]
        try:
            servers.append(start_mlserver(work, "mlserver", tuned=False))
            servers.append(start_mlserver(work, "mlserver-tuned", tuned=True))
            same = all(predictions(s.url, (work / "rows32.json").read_bytes())
                       == predictions(servers[0].url, (work / "rows32.json").read_bytes()) for s in servers)
            print(f"LogisticRegression ({FEATURES} features), v2 JSON bodies, 127.0.0.1, wrk 1 thread; "
                  f"{args.rounds} rounds of {args.duration:g} s per server and case, in turns; medians")
            print(f"predictions of the 32 rows agree across servers: {same}")
            results = measure(servers, cases, args, work)
        finally:
            for s in servers:
                s.stop()
        for case in cases:
            print(f"{case}:")
            hogar = results[("hogar", case)]
            for s in servers:
                r = results[(s.name, case)]
                note = "" if s.name == "hogar" else "  hogar/this %.2fx" % statistics.median(
                    a / b for a, b in zip(hogar.rps, r.rps))
                errors = f"  ({r.errors} non-2xx)" if r.errors else ""
                print(f"  {s.name:<15}{statistics.median(r.rps):>9.0f} req/s  p50 {statistics.median(r.p50):7.2f} ms"
                      f"  p99 {statistics.median(r.p99):7.2f} ms  cpu {statistics.median(r.cpu_ms):6.3f} ms/req"
                      f"{note}{errors}")
        print("targets: hogar >= 2x MLServer default and >= 1.25x tuned, p99 no worse, no 503 below saturation")
        print(f"gRPC, ModelInfer with {len(rows[32])} x {FEATURES} FP32 typed contents, 16 concurrent callers "
              "of one Python client (grpcio asyncio), in turns:")
        servers = [start_hogar(work)]
        try:
            servers.append(start_mlserver(work, "mlserver-grpc", tuned=False))
            calls: dict[str, list[tuple[float, float, float, int]]] = {s.name: [] for s in servers}
            for s in servers:
                grpc_load(s.grpc, rows[32], 16, 1)  # warm up
            for _ in range(args.rounds):
                for s in servers:
                    calls[s.name].append(grpc_load(s.grpc, rows[32], 16, args.duration))
        finally:
            for s in servers:
                s.stop()
        for name, got in calls.items():
            ratio = "" if name == "hogar" else "  hogar/this %.2fx" % statistics.median(
                a[0] / b[0] for a, b in zip(calls["hogar"], got))
            failed = sum(g[3] for g in got)
            print(f"  {name:<15}{statistics.median(g[0] for g in got):>9.0f} calls/s  p50 "
                  f"{statistics.median(g[1] for g in got):7.2f} ms  p99 {statistics.median(g[2] for g in got):7.2f} ms"
                  f"{ratio}{f'  ({failed} failed)' if failed else ''}")
        blob, head = binary_body(rows[32])
        (work / "bin32.bin").write_bytes(blob)
        servers = [start_hogar(work)]
        try:
            binary = Result()
            plain = Result()
            for _ in range(args.rounds):
                for r, payload, length in ((plain, work / "rows32.json", None), (binary, work / "bin32.bin", head)):
                    rps, p50, p99, errors = wrk(servers[0].url, payload, 16, args.duration, work, length)
                    r.rps.append(rps)
                    r.p99.append(p99)
                    r.errors += errors
        finally:
            servers[0].stop()
        print(f"hogar, 32 x {FEATURES} FP32, 16 conn: JSON {statistics.median(plain.rps):.0f} req/s, binary tensors "
              f"{statistics.median(binary.rps):.0f} req/s: binary/JSON "
              f"{statistics.median(b / j for b, j in zip(binary.rps, plain.rps)):.2f}x"
              f"{'' if not (binary.errors or plain.errors) else f' ({binary.errors + plain.errors} non-2xx)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
