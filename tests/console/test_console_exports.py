"""Exports of a large graph: made once per version and kept, made off the thread that
serves the pages (another user's page answers while one is made), one at a time per user
with a clear 429 past it. A real console, real sign-ins, concurrent real requests."""

from __future__ import annotations

import threading

import httpx

from console_processes import console_env, signed_in, start_console, upload

N = 1500


def big(n: int = N, tag: str = "") -> str:
    nodes = "".join(f'python n{i} {{ impl = "tests.runtime.impls:double" }}\n' for i in range(n))
    edges = "".join(f"n{i} -> n{i + 1}\n" for i in range(n - 1))
    return f'graph big "{tag}"\nsource inp\n{nodes}sink out\ninp -> n0\n{edges}n{n - 1} -> out\n'


def test_exports_are_cached_per_version_and_bounded_per_user(tmp_path):
    data = tmp_path / "data"
    console, url = start_console(console_env(data), {"boss": "admin", "ann": "viewer", "ops": "operator"})
    try:
        boss = signed_in(url, "boss")
        boss.timeout = httpx.Timeout(300)
        versions = []
        for tag in ("one", "two", "three"):
            response = upload(boss, big(tag=tag))
            assert response.status_code == 302, response.text[-2000:]
            versions.append(response.headers["location"])
        ann, ops = signed_in(url, "ann"), signed_in(url, "ops")
        ann.timeout = httpx.Timeout(600)
        wanted = [v + "download/ray-serve" for v in versions]
        answers: dict[str, httpx.Response] = {}

        def fetch(path: str) -> None:
            answers[path] = ann.get(path)

        threads = [threading.Thread(target=fetch, args=(p,)) for p in wanted]
        for t in threads:
            t.start()
        page = ops.get("/deployments/")  # another user's page while the exports are under way
        busy_meanwhile = any(t.is_alive() for t in threads)
        for t in threads:
            t.join(600)
        assert page.status_code == 200 and busy_meanwhile

        statuses = sorted(a.status_code for a in answers.values())
        assert statuses == [200, 429, 429], {p: a.status_code for p, a in answers.items()}
        for answer in answers.values():
            if answer.status_code == 429:
                assert "try again when it is done" in answer.json()["error"]["message"]
                assert answer.headers["retry-after"]
        made = next(p for p, a in answers.items() if a.status_code == 200)
        assert f"n{N - 1}" in answers[made].text
        assert len(list((data / "exports").iterdir())) == 1

        # Asked again: the kept export, the same bytes; the refused ones can now be made.
        again = ann.get(made)
        assert again.status_code == 200 and again.content == answers[made].content
        assert len(list((data / "exports").iterdir())) == 1
        for path in wanted:
            if path != made:
                assert ann.get(path).status_code == 200
        assert len(list((data / "exports").iterdir())) == 3
    finally:
        assert console.stop() == 0, console.output()
    assert "Traceback" not in console.output(), console.output()
