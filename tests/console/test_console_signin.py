"""The sign-in lockout counts the client the server sees, not a header anyone can send:
X-Forwarded-For and X-Forwarded-Proto count only from the proxies an admin lists. A real
console, real sign-ins over HTTP."""

from __future__ import annotations

import re

import httpx

from console_processes import PASSWORD, console_env, start_console


def sign_in(url: str, user: str, password: str, **headers: str) -> httpx.Response:
    """Sign in as a browser would, possibly through a proxy that sends ``headers``.

    Behind an HTTPS proxy the browser sees https (the Referer) and sends back Secure
    cookies, which httpx keeps to https URLs: the cookie goes in by hand.
    """
    secure = headers.get("X-Forwarded-Proto") == "https"
    with httpx.Client(base_url=url, timeout=10.0, headers=headers) as client:
        page = client.get("/signin/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        cookie = re.search(r"csrftoken=([^;]+)", page.headers["set-cookie"])[1]
        extra = {"Cookie": f"csrftoken={cookie}"}
        if secure:
            extra["Referer"] = url.replace("http://", "https://") + "/signin/"
        return client.post("/signin/", data={"username": user, "password": password, "csrfmiddlewaretoken": token},
                           headers=extra)


def test_a_rotating_forwarded_header_neither_escapes_nor_lifts_a_lockout(tmp_path):
    console, url = start_console(console_env(tmp_path / "data"), {"ops": "operator", "boss": "admin"})
    try:
        statuses = [sign_in(url, "ops", f"guess-{i}", **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                    for i in range(12)]
        assert statuses == [200] * 4 + [429] * 8
        locked = sign_in(url, "ops", PASSWORD, **{"X-Forwarded-For": "198.51.100.200"})
        assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
        # Another user is not locked; a forwarded https from an unlisted client is not believed.
        response = sign_in(url, "boss", PASSWORD, **{"X-Forwarded-Proto": "https"})
        assert response.status_code == 302
        assert "secure" not in response.headers["set-cookie"].lower()
    finally:
        assert console.stop() == 0, console.output()


def test_a_listed_proxy_is_believed(tmp_path):
    env = console_env(tmp_path / "data", HOGAR_CONSOLE_TRUSTED_PROXIES="127.0.0.1")
    console, url = start_console(env, {"ops": "operator"})
    try:
        through = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
        response = sign_in(url, "ops", PASSWORD, **through)
        assert response.status_code == 302
        cookies = response.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("sessionid="))
        assert "Secure" in session and "HttpOnly" in session
        assert all("Secure" in c for c in cookies)
        # The lockout counts each forwarded client: one locked out, another not.
        for i in range(5):
            sign_in(url, "ops", f"guess-{i}", **through)
        assert sign_in(url, "ops", PASSWORD, **through).status_code == 429
        other = sign_in(url, "ops", PASSWORD, **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.8"})
        assert other.status_code == 302
        # Plain HTTP from the proxy: no Secure flag.
        plain = sign_in(url, "ops", PASSWORD, **{"X-Forwarded-For": "198.51.100.9"})
        assert all("Secure" not in c for c in plain.headers.get_list("set-cookie"))
    finally:
        assert console.stop() == 0, console.output()
