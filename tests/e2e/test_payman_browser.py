"""The Payman bank consent page in headless Chromium, driven over the DevTools protocol.

A real server process serves the page; the merchant is a second HTTP server on another
loopback port (another origin, as every real merchant is), which records what reaches it.
Chromium signs in, sees the terms and approves, cancels, fails a check, or lets the page expire,
and must land at the merchant with exactly the documented query parameters (``payman_code``,
``status``, and ``code`` on failure; the merchant's own query string kept). getId then activates
an approved mandate and a pay succeeds. The demo customer's flow ends on pishkhan's own demo
callback page, whose curl example is run as shown.

With ``PISHKHAN_SCREENSHOTS=<dir>`` the pages are saved there at a phone (390x844) and a
desktop (1366x900) viewport (``docs/img`` holds the committed ones); at both sizes every page
must fit its width. Skipped only when Chromium is absent and ``CI`` is not set (in CI a missing
Chromium fails the test).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from pishkhan.core import bootstrap
from pishkhan.core.db import Database
from pishkhan.providers.payman.tables import payman_mandates
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
OTHER = next(p for p in PAYMAN if p.mobile != PERSON.mobile)
ADMIN = {"Authorization": "Bearer test-admin-token"}  # the live server's (tests/conftest.py)
SHOTS = os.environ.get("PISHKHAN_SCREENSHOTS", "").strip()
VIEWPORTS = (("phone", 390, 844, True, 2), ("desktop", 1366, 900, False, 1))


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


def look(page: Page, name: str) -> None:
    """The current page at a phone and a desktop viewport: it must fit the width (no
    sideways scrolling) and be right-to-left; saved as ``<name>-<viewport>.png`` when asked."""
    for label, width, height, mobile, scale in VIEWPORTS:
        page.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=scale,
            mobile=mobile,
        )
        page.wait_for(f"window.innerWidth === {width}")
        assert page.eval("document.documentElement.scrollWidth") <= width, (name, label)
        assert page.eval("getComputedStyle(document.body).direction") == "rtl", name
        if SHOTS:
            content = page.send("Page.getLayoutMetrics")["cssContentSize"]
            shot = page.send(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={
                    "x": 0,
                    "y": 0,
                    "width": width,
                    "height": max(height, int(content["height"])),
                    "scale": 1,
                },
            )
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            (Path(SHOTS) / f"{name}-{label}.png").write_bytes(base64.b64decode(shot["data"]))
    page.send("Emulation.clearDeviceMetricsOverride")


class MerchantSite:
    """The merchant: a second HTTP server on another loopback port, recording each request."""

    def __init__(self) -> None:
        hits: list[str] = []
        self.hits = hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/favicon.ico":  # the browser's own request
                    hits.append(self.path)
                body = b'<!DOCTYPE html><html><body><h1 id="merchant">merchant</h1></body></html>'
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def landing(self, page: Page, timeout: float = 20) -> dict[str, list[str]]:
        """Wait for the browser to land here (exactly one visit); its query parameters."""
        page.wait_for(
            f"location.href.startsWith({json.dumps(self.base_url + '/')}) && "
            "!!document.getElementById('merchant')",
            timeout,
        )
        assert len(self.hits) == 1, self.hits
        path = self.hits.pop()
        assert urlsplit(path).path == "/payman/back", path
        return parse_qs(urlsplit(path).query, keep_blank_values=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@dataclass
class Flow:
    """A live pishkhan, a merchant on another origin, the merchant's Payman token."""

    server: Any
    url: str
    creds: dict[str, str]
    redirect: str
    http: httpx.Client
    headers: dict[str, str] = field(default_factory=dict)

    def clock(self, action: str, **body: Any) -> None:
        # One worker: the process that answers applies the new clock at once (no cache wait).
        r = self.http.post(f"/_pishkhan/v1/clock/{action}", json=body, headers=ADMIN)
        assert r.status_code == 200, r.text

    def create(self, trace: str) -> str:
        body = {
            "payman": {
                "bank_code": PERSON.payman_code,
                "user_id": "u-1",
                "permission_ids": [1],
                "contract": {
                    "expiration_date": "2026-03-04T07:58:07.600Z",
                    "max_daily_transaction_count": 5,
                    "max_transaction_amount": 500000,
                },
            },
            "redirect_url": self.redirect,
            "trace_id": trace,
        }
        r = self.http.post("/v1/payman/create", json=body, headers=self.headers)
        assert r.status_code == 302 and r.content == b"", r.text
        return str(r.headers["location"])

    def mandate(self, trace: str) -> Any:
        db = Database(self.url)
        try:
            with db.read() as conn:
                return (
                    conn.execute(select(payman_mandates).where(payman_mandates.c.trace_id == trace))
                    .mappings()
                    .one()
                )
        finally:
            db.dispose()


def start_flow(
    live_server_factory: Callable[..., Any],
    db_url: str,
    tmp_path: Path,
    redirect_of: Callable[[str], str],
    *,
    demo: bool = False,
) -> Flow:
    """Seed the fixtures, start pishkhan (one worker), make the merchant, freeze the clock at a
    Tehran noon; ``redirect_of(base_url)`` is the merchant's registered redirect URL."""
    server = live_server_factory(db_url, workers=1)
    redirect = redirect_of(server.base_url)
    rt = Runtime.open(
        Settings(
            data_dir=server.data_dir,
            database_url=db_url,
            admin_token="t",
            token_secret="s" * 32,
            seed_world=False,
            public_base_url=server.base_url,
        ),
        refresh_seconds=0.0,
    )
    with rt.db.write() as conn:
        insert_rows(conn, fixture_rows())
    if demo:
        # What the first run does: the demo customer, its redirect on pishkhan's demo page,
        # its credentials in the data directory.
        created = bootstrap.ensure_demo(rt)
        assert created is not None
    else:
        with rt.db.write() as conn:
            created = tenants.create_customer(
                conn,
                rt.clock,
                tenants.NewCustomer(name="فروشگاه", slug="shop", payman_redirect_urls=(redirect,)),
            )
    rt.close()
    creds = created["secrets"]["payman"]
    http = httpx.Client(base_url=server.base_url, timeout=30)
    flow = Flow(server, db_url, creds, redirect, http)
    flow.clock("freeze", at="2025-06-03T12:00:00")
    token = http.post(
        "/oauth/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
        },
    ).json()["access_token"]
    flow.headers = {
        "Authorization": f"Bearer {token}",
        "App-Key": creds["app_key"],
        "Client-Device-Id": "1",
        "Client-Ip-Address": "127.0.0.1",
        "Client-User-Agent": "chromium",
        "Client-Platform-Type": "WEB",
        "Mobile-no": PERSON.mobile,
        "National-code": PERSON.national_code,
    }
    return flow


@pytest.fixture
def merchant() -> Iterator[MerchantSite]:
    site = MerchantSite()
    yield site
    site.close()


@pytest.fixture
def flow(
    live_server_factory: Callable[..., Any],
    db_url: str,
    tmp_path: Path,
    merchant: MerchantSite,
) -> Iterator[Flow]:
    f = start_flow(
        live_server_factory,
        db_url,
        tmp_path,
        lambda _base: f"{merchant.base_url}/payman/back?order=42",
    )
    yield f
    f.http.close()


def open_page(page: Page, location: str) -> None:
    page.send("Page.enable")
    page.send("Page.navigate", url=location)
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('login')")


def sign_in(page: Page, national_code: str, mobile: str) -> None:
    page.eval(
        f"document.getElementById('national_code').value = '{national_code}';"
        f"document.getElementById('mobile').value = '{mobile}';"
        "document.getElementById('login-submit').click(); true"
    )


def test_approve_lands_at_the_merchant_on_another_origin(
    chromium: Callable[[], Page], flow: Flow, merchant: MerchantSite
) -> None:
    location = flow.create("browser-1")
    page = chromium()
    open_page(page, location)
    assert page.eval("document.documentElement.dir") == "rtl"
    assert page.eval("document.documentElement.lang") == "fa"
    assert page.eval("!!document.querySelector('meta[name=viewport]')")
    assert "سینا" in page.eval("document.getElementById('terms').innerText")
    # the page names the merchant asking for the mandate
    assert "فروشگاه" in page.eval("document.getElementById('terms').innerText")
    assert "«فروشگاه»" in page.eval("document.getElementById('merchant').innerText")
    # the frozen clock's 12:00 plus the page's ten minutes
    assert "12:10" in page.eval("document.getElementById('expires').innerText")
    look(page, "payman-consent-login")
    sign_in(page, PERSON.national_code, PERSON.mobile)
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('approve')")
    assert PERSON.deposit_number in page.eval("document.body.innerText")
    look(page, "payman-consent-approve")
    page.eval("document.getElementById('approve-submit').click(); true")
    code = flow.mandate("browser-1")["payman_code"]
    assert merchant.landing(page) == {
        "order": ["42"],
        "payman_code": [code],
        "status": ["CREATED"],
    }
    assert flow.mandate("browser-1")["status"] == "WAITING_FOR_CONFIRM"
    # The page is single use: opening it again says so.
    page.send("Page.navigate", url=location)
    page.wait_for("document.readyState === 'complete' && location.href.indexOf('boom_token') >= 0")
    assert "قبلا" in page.eval("document.body.innerText")
    assert merchant.hits == []

    got = flow.http.get("/v1/payman/getId", params={"payman_code": code}, headers=flow.headers)
    assert got.status_code == 200 and got.json()["status"] == "ACTIVE"
    paid = flow.http.post(
        "/v1/payman/pay",
        json={
            "trace_id": "b-pay-1",
            "payman_id": got.json()["payman_id"],
            "amount": 250000,
            "description": "x",
        },
        headers=flow.headers,
    )
    assert paid.status_code == 200 and paid.json()["status"] == "SUCCEED"


@pytest.mark.parametrize("where", ["approval page", "sign-in page"])
def test_cancel_lands_at_the_merchant_on_another_origin(
    chromium: Callable[[], Page], flow: Flow, merchant: MerchantSite, where: str
) -> None:
    page = chromium()
    open_page(page, flow.create("browser-cancel"))
    if where == "approval page":
        sign_in(page, PERSON.national_code, PERSON.mobile)
        page.wait_for("document.readyState === 'complete' && !!document.getElementById('cancel')")
        page.eval("document.getElementById('cancel').click(); true")
    else:
        page.eval("document.getElementById('cancel-login').click(); true")
    code = flow.mandate("browser-cancel")["payman_code"]
    assert merchant.landing(page) == {
        "order": ["42"],
        "payman_code": [code],
        "status": ["CANCELED"],
        "code": ["2156"],
    }
    assert flow.mandate("browser-cancel")["status"] == "CANCELLED"


def test_failed_sign_in_lands_at_the_merchant_with_the_error_code(
    chromium: Callable[[], Page], flow: Flow, merchant: MerchantSite
) -> None:
    page = chromium()
    open_page(page, flow.create("browser-2098"))
    sign_in(page, PERSON.national_code, OTHER.mobile)  # not the create call's Mobile-no
    code = flow.mandate("browser-2098")["payman_code"]
    assert merchant.landing(page) == {
        "order": ["42"],
        "payman_code": [code],
        "status": ["INTERNAL_ERROR"],
        "code": ["2098"],
    }
    assert flow.mandate("browser-2098")["status"] == "CANCELLED"


def test_acting_on_an_expired_page_lands_at_the_merchant_with_timeout(
    chromium: Callable[[], Page], flow: Flow, merchant: MerchantSite
) -> None:
    page = chromium()
    open_page(page, flow.create("browser-late"))
    sign_in(page, PERSON.national_code, PERSON.mobile)
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('approve')")
    flow.clock("advance", seconds=601)  # the page's ten minutes are over
    page.eval("document.getElementById('approve-submit').click(); true")
    code = flow.mandate("browser-late")["payman_code"]
    assert merchant.landing(page) == {
        "order": ["42"],
        "payman_code": [code],
        "status": ["TIMEOUT"],
    }
    mandate = flow.mandate("browser-late")
    assert mandate["status"] == "CANCELLED" and mandate["deposit_iban"] is None


def test_a_page_left_open_returns_to_the_merchant_when_it_expires(
    chromium: Callable[[], Page], flow: Flow, merchant: MerchantSite
) -> None:
    # The clock must run for the page to expire while it is open: from the frozen instant on.
    frozen = datetime.fromisoformat(
        flow.http.get("/_pishkhan/v1/clock", headers=ADMIN).json()["now_utc"]
    )
    flow.clock("offset", seconds=(frozen - datetime.now(UTC)).total_seconds())
    location = flow.create("browser-idle")
    flow.clock("advance", seconds=597)
    page = chromium()
    open_page(page, location)
    # Nobody touches the page; about four seconds later it is past its ten minutes.
    code = flow.mandate("browser-idle")["payman_code"]
    assert merchant.landing(page, timeout=15) == {
        "order": ["42"],
        "payman_code": [code],
        "status": ["TIMEOUT"],
    }
    assert flow.mandate("browser-idle")["status"] == "CANCELLED"


def test_the_demo_flow_ends_on_the_demo_callback_page(
    chromium: Callable[[], Page],
    live_server_factory: Callable[..., Any],
    db_url: str,
    tmp_path: Path,
) -> None:
    flow = start_flow(
        live_server_factory,
        db_url,
        tmp_path,
        lambda base: f"{base}/_pishkhan/demo/payman-callback",
        demo=True,
    )
    page = chromium()
    open_page(page, flow.create("demo-1"))
    sign_in(page, PERSON.national_code, PERSON.mobile)
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('approve')")
    page.eval("document.getElementById('approve-submit').click(); true")
    page.wait_for(
        "location.pathname === '/_pishkhan/demo/payman-callback' && "
        "document.readyState === 'complete'"
    )
    code = flow.mandate("demo-1")["payman_code"]
    assert page.eval("document.documentElement.dir") == "rtl"
    assert "CREATED" in page.eval("document.getElementById('status').innerText")
    received = page.eval(
        "[...document.querySelectorAll('#received tbody tr')]"
        ".map(r => [r.querySelector('.name').innerText, r.querySelector('.value').innerText])"
    )
    assert received == [["payman_code", code], ["status", "CREATED"]]
    script = page.eval("document.getElementById('next-curl').innerText")
    assert f"{flow.server.base_url}/v1/payman/getId?payman_code={code}" in script
    look(page, "payman-demo-callback")
    # The example runs as shown, from the server's data directory, and activates the mandate.
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PISHKHAN_DATA_DIR": str(flow.server.data_dir),
    }
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "ACTIVE" and answer["payman_id"], answer
    assert flow.mandate("demo-1")["payman_id"] == answer["payman_id"]
    flow.http.close()
