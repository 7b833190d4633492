"""Console speed: the live page of a 100-node graph in Chromium, the console's CPU while it
watches 10 deployments and streams them at 1 Hz, and how soon a scale-up takes effect.

    .venv/bin/python benchmarks/console.py [--quick]

Everything runs as real processes on 127.0.0.1: ``hogar serve`` for the graphs,
``hogar console serve`` (registered deployments, signed-in HTTP clients, Chromium).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOGAR = [sys.executable, "-m", "hogar_nb"]
PASSWORD = "benchmark-password-31"
TOKEN = "benchmark-admin-token"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def graph_text(n: int) -> str:
    """``n`` nodes: a source, a chain, a split into ten branches of python nodes, a sink."""
    branches = 10 if n >= 40 else 2
    per_branch = (n - 3) // 2 // branches if n >= 40 else 2
    head = n - 3 - branches * per_branch
    lines = [f"graph bench{n}", "source src", "split fan", "sink out"]
    lines += [f'python h{i} {{ impl = "operator:pos", timeout = 5s }}' for i in range(head)]
    for b in range(branches):
        lines += [f'python b{b}_{j} {{ impl = "operator:pos", timeout = 5s }}' for j in range(per_branch)]
    chain = ["src"] + [f"h{i}" for i in range(head)] + ["fan"]
    lines.append(" -> ".join(chain))
    share = 100 // branches
    for b in range(branches):
        weight = share + (100 - share * branches if b == 0 else 0)
        lines.append(f"fan -> b{b}_0 {{ weight = {weight}% }}")
        lines.append(" -> ".join([f"b{b}_{j}" for j in range(per_branch)] + ["out"]))
    return "\n".join(lines) + "\n"


class Proc:
    def __init__(self, cmd: list[str], env: dict, pattern: str, timeout: float = 120) -> None:
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                     stdin=subprocess.DEVNULL)
        rx, deadline = re.compile(pattern), time.monotonic() + timeout
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            m = rx.search(line)
            if m:
                self.url = m[1]
                break
            if time.monotonic() > deadline:
                break
        else:
            raise SystemExit(f"{' '.join(cmd)} did not start:\n{''.join(lines)}")
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def serve(path: Path, env: dict) -> Proc:
    token = path.with_suffix(".token")
    token.write_text(TOKEN)
    return Proc([*HOGAR, "serve", str(path), "--port", "0", "--admin-token-file", str(token)], env,
                r"^serving \S+ on (http://\S+)")


def signed_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30.0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/signin/").text)[1]
    r = client.post("/signin/", data={"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert r.status_code == 302, r.text[:300]
    return client


def register(client: httpx.Client, name: str, url: str) -> int:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/deployments/").text)[1]
    r = client.post("/deployments/register/", data={"name": name, "url": url, "admin_token": TOKEN,
                                                    "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and "/deployments/" in r.headers["location"], r.text[:300]
    return int(r.headers["location"].rstrip("/").rsplit("/", 1)[1])


def page_ready_ms(console: str, pk: int, runs: int) -> list[tuple[float, float]]:
    """(topology drawn and clickable, every panel drawn): ms from navigation start."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(console + "/signin/")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        for _ in range(runs + 1):  # the first load warms the cache, as a returning user's would be
            page.goto(f"{console}/deployments/{pk}/")
            page.wait_for_function("window.hogarLive && window.hogarLive.readyAt", timeout=60000)
            out.append(tuple(page.evaluate("[window.hogarLive.marks.drawn, window.hogarLive.readyAt]")))
        browser.close()
    return out[1:]


def stream_cpu(console: Proc, client_cookies, pks: list[int], seconds: float) -> tuple[float, float]:
    """(console CPU % of one core, samples/s per stream) with an SSE stream open per deployment."""
    stop = threading.Event()
    counts = [0] * len(pks)

    def reader(i: int, pk: int) -> None:
        with httpx.Client(base_url=console.url, cookies=client_cookies, timeout=None) as c:
            with c.stream("GET", f"/deployments/{pk}/stream") as r:
                for line in r.iter_lines():
                    if line.startswith("event: sample"):
                        counts[i] += 1
                    if stop.is_set():
                        return

    threads = [threading.Thread(target=reader, args=(i, pk), daemon=True) for i, pk in enumerate(pks)]
    for t in threads:
        t.start()
    time.sleep(3)  # streams open, collector warm
    c0, s0, t0 = console.cpu_seconds(), list(counts), time.monotonic()
    time.sleep(seconds)
    c1, s1, t1 = console.cpu_seconds(), list(counts), time.monotonic()
    stop.set()
    rate = statistics.mean(b - a for a, b in zip(s0, s1)) / (t1 - t0) if pks else 0.0
    return 100.0 * (c1 - c0) / (t1 - t0), rate


def idle_cpu(console: Proc, seconds: float) -> float:
    c0, t0 = console.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return 100.0 * (console.cpu_seconds() - c0) / (time.monotonic() - t0)


def scale_times(client: httpx.Client, pk: int, serve_url: str, node: str, runs: int) -> list[tuple[float, float]]:
    """(POST answered, 4 replicas alive) seconds after the operator's click, scaling 1 -> 4."""
    out = []
    page = f"/deployments/{pk}/"
    for _ in range(runs):
        for target in (4, 1):
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(page).text)[1]
            t0 = time.perf_counter()
            r = client.post(page + "reconfigure/", data={"node": node, "attr": "replicas", "value": str(target),
                                                         "confirm": "1",  # 4 may be more than this machine's CPUs
                                                         "csrfmiddlewaretoken": token},
                            headers={"Accept": "application/json"})
            answered = time.perf_counter() - t0
            assert r.status_code == 200, r.text
            while True:
                alive = httpx.get(serve_url + "/hogar/v1/status").json()["nodes"][node]["replicas_alive"]
                if alive == target:
                    break
                if time.perf_counter() - t0 > 30:
                    raise SystemExit(f"{node} did not reach {target} replicas in 30 s")
                time.sleep(0.01)
            if target == 4:
                out.append((answered, time.perf_counter() - t0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter windows, fewer runs")
    args = parser.parse_args()
    runs, window = (2, 8.0) if args.quick else (5, 20.0)
    tmp = Path(tempfile.mkdtemp(prefix="hogar-console-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOGAR_CONSOLE")}
    env["HOGAR_CONSOLE_DATA"] = str(tmp / "data")
    for cmd, stdin in ((["console", "init"], None), (["console", "adduser", "bench", "--role", "operator",
                                                        "--password-stdin"], PASSWORD + "\n")):
        subprocess.run([*HOGAR, *cmd], input=stdin, text=True, env=env, check=True, capture_output=True)
    (tmp / "g100.udgl").write_text(graph_text(100))
    (tmp / "g10.udgl").write_text(graph_text(10))
    servers = [serve(tmp / "g100.udgl", env), serve(tmp / "g10.udgl", env)]
    console = Proc([*HOGAR, "console", "serve", "--port", "0"], env, r"^console on (http://\S+)")
    try:
        client = signed_in(console.url)
        idle = idle_cpu(console, window)
        pk100 = register(client, "bench100", servers[0].url)
        pk10 = register(client, "bench10", servers[1].url)
        with httpx.Client(timeout=10) as c:  # some traffic so both pages have points to draw
            for i in range(200):
                c.post(servers[0].url + "/src", json=i)
                c.post(servers[1].url + "/src", json=i)
        time.sleep(2)
        p100 = page_ready_ms(console.url, pk100, runs)
        p10 = page_ready_ms(console.url, pk10, runs)
        for what, i in (("topology drawn and clickable", 0), ("every panel drawn", 1)):
            t100, t10 = [x[i] for x in p100], [x[i] for x in p10]
            print(f"live page, {what}: 100 nodes median {statistics.median(t100):.0f} ms "
                  f"(max {max(t100):.0f}), 10 nodes median {statistics.median(t10):.0f} ms, "
                  f"100/10 x{statistics.median(t100) / statistics.median(t10):.2f} (target < 1000 ms)")

        scaled = scale_times(client, pk10, servers[1].url, "h0", runs)
        effect = [e for _, e in scaled]
        print(f"scale 1 -> 4 thread replicas through the console: answered median "
              f"{statistics.median(a for a, _ in scaled) * 1000:.0f} ms, 4 alive median "
              f"{statistics.median(effect) * 1000:.0f} ms, max {max(effect) * 1000:.0f} ms (target < 1000 ms)")

        pks = [pk10] + [register(client, f"bench10-{i}", servers[1].url) for i in range(9)]
        busy, rate = stream_cpu(console, client.cookies, pks, window)
        print(f"console CPU, idle: {idle:.2f}% of one core")
        print(f"console CPU, 10 deployments polled and streamed: {busy:.2f}% of one core "
              f"(target < 5%), {rate:.2f} samples/s per stream, x{busy / max(idle, 0.01):.1f} idle")
    finally:
        console.stop()
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
