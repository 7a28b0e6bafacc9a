"""The Payman bank consent page in headless Chromium, driven over the DevTools protocol.

A real server process serves the page; Chromium signs in, sees the terms, approves, and is
sent back to the merchant's redirect URL with ``payman_code`` and ``status=CREATED``; getId
then activates the mandate and a pay succeeds. Skipped only when Chromium is absent and ``CI``
is not set (in CI a missing Chromium fails the test).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pishkhan.control import sandbox_ops
from pishkhan.core import migrate
from pishkhan.core.db import Database
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings
from pishkhan.tenants import service as tenants
from pishkhan.world.fixtures import PAYMAN, fixture_rows
from pishkhan.world.generator import insert_rows

pytestmark = pytest.mark.browser
CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
PERSON = next(p for p in PAYMAN if p.payman_code == "SINAIR")


class Page:
    """A minimal DevTools-protocol client for one page target."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        # Entered as a context manager (what websockets expects of its sync client).
        self._connection = connect(ws_url, max_size=None, open_timeout=20)
        self.ws = self._connection.__enter__()
        self.next_id = 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return dict(msg.get("result", {}))

    def eval(self, expr: str) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True
        )
        return result.get("result", {}).get("value")

    def wait_for(self, predicate: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.eval(predicate):
                    return
            except RuntimeError:
                pass  # navigation in progress: the execution context was replaced
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {predicate}: at {self.eval('location.href')}")

    def close(self) -> None:
        self._connection.__exit__(None, None, None)


@pytest.fixture
def chromium() -> Iterator[Callable[[], Page]]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    profile = tempfile.mkdtemp(prefix="pishkhan-chromium-")
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--window-size=412,915",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    port_file = Path(profile) / "DevToolsActivePort"
    pages: list[Page] = []
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("chromium did not start")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])

        def open_page() -> Page:
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            target = next(t for t in targets if t["type"] == "page")
            page = Page(target["webSocketDebuggerUrl"])
            pages.append(page)
            return page

        yield open_page
    finally:
        for page in pages:
            page.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def test_consent_page_in_chromium(
    chromium: Callable[[], Page], live_server_factory: Callable[..., Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    rt = Runtime.open(
        Settings(
            data_dir=tmp_path / "d",
            database_url=url,
            admin_token="t",
            token_secret="s" * 32,
            seed_world=False,
        ),
        refresh_seconds=0.0,
    )
    server = live_server_factory(url, workers=1)
    redirect = f"{server.base_url}/merchant/back?order=42"
    with rt.db.write() as conn:
        insert_rows(conn, fixture_rows())
        creds = tenants.create_customer(
            conn,
            rt.clock,
            tenants.NewCustomer(name="فروشگاه", slug="shop", payman_redirect_urls=(redirect,)),
        )["secrets"]["payman"]
    sandbox_ops.freeze(rt, datetime(2025, 6, 3, 8, 30, tzinfo=UTC).isoformat())
    rt.close()
    time.sleep(1.2)  # the server's per-process caches refresh within a second

    http = httpx.Client(base_url=server.base_url, timeout=30)
    token = http.post(
        "/oauth/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
        },
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "App-Key": creds["app_key"],
        "Client-Device-Id": "1",
        "Client-Ip-Address": "127.0.0.1",
        "Client-User-Agent": "chromium",
        "Client-Platform-Type": "WEB",
        "Mobile-no": PERSON.mobile,
        "National-code": PERSON.national_code,
    }
    body = {
        "payman": {
            "bank_code": "SINAIR",
            "user_id": "u-1",
            "permission_ids": [1],
            "contract": {
                "expiration_date": "2026-03-04T07:58:07.600Z",
                "max_daily_transaction_count": 5,
                "max_transaction_amount": 500000,
            },
        },
        "redirect_url": redirect,
        "trace_id": "browser-1",
    }
    r = http.post("/v1/payman/create", json=body, headers=headers)
    assert r.status_code == 302 and r.content == b""
    location = r.headers["location"]

    page = chromium()
    page.send("Page.enable")
    page.send("Page.navigate", url=location)
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('login')")
    assert page.eval("document.documentElement.dir") == "rtl"
    assert page.eval("document.documentElement.lang") == "fa"
    assert page.eval("!!document.querySelector('meta[name=viewport]')")
    assert "سینا" in page.eval("document.getElementById('terms').innerText")
    # the page names the merchant asking for the mandate
    assert "فروشگاه" in page.eval("document.getElementById('terms').innerText")
    assert "«فروشگاه»" in page.eval("document.getElementById('merchant').innerText")
    page.eval(
        f"document.getElementById('national_code').value = '{PERSON.national_code}';"
        f"document.getElementById('mobile').value = '{PERSON.mobile}';"
        "document.getElementById('login-submit').click(); true"
    )
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('approve')")
    assert PERSON.deposit_number in page.eval("document.body.innerText")
    page.eval("document.getElementById('approve-submit').click(); true")
    page.wait_for(
        "location.href.indexOf('/merchant/back') >= 0 && document.readyState === 'complete'"
    )
    back = page.eval("location.href")
    query = parse_qs(urlsplit(back).query)
    assert query["status"] == ["CREATED"] and query["order"] == ["42"]
    # The page is single use: opening it again says so.
    page.send("Page.navigate", url=location)
    page.wait_for("document.readyState === 'complete' && location.href.indexOf('boom_token') >= 0")
    assert "قبلا" in page.eval("document.body.innerText")

    got = http.get(
        "/v1/payman/getId", params={"payman_code": query["payman_code"][0]}, headers=headers
    )
    assert got.status_code == 200 and got.json()["status"] == "ACTIVE"
    paid = http.post(
        "/v1/payman/pay",
        json={
            "trace_id": "b-pay-1",
            "payman_id": got.json()["payman_id"],
            "amount": 250000,
            "description": "x",
        },
        headers=headers,
    )
    assert paid.status_code == 200 and paid.json()["status"] == "SUCCEED"
    http.close()
