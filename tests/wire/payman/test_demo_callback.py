"""The demo customer's Payman redirect page, ``GET /_pishkhan/demo/payman-callback``: what the
merchant received, what it calls next, every received value escaped."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shlex
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from pishkhan.core import bootstrap
from pishkhan.providers.payman.errors import CATALOGUE
from pishkhan.runtime import Runtime
from pishkhan.tenants.tables import payman_clients

PATH = "/_pishkhan/demo/payman-callback"


def received(page: str) -> list[tuple[str, str]]:
    rows = re.findall(
        r'<code class="name" dir="ltr">(.*?)</code>.*?<code class="value" dir="ltr">(.*?)</code>',
        page,
    )
    return [(html.unescape(n), html.unescape(v)) for n, v in rows]


def words(line: str) -> list[str]:
    """A line of the example as the shell splits it (its continuation backslash dropped)."""
    return shlex.split(line.removesuffix("\\").rstrip())


def script(page: str) -> str:
    found = re.search(r'<code id="next-curl">(.*?)</code>', page, re.S)
    assert found is not None, page
    return html.unescape(found.group(1))


def test_created_shows_the_code_and_the_getid_call(client: Any, runtime: Runtime) -> None:
    r = client.get(PATH, params={"payman_code": "2gZ04Yx9iHEP", "status": "CREATED"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="fa" dir="rtl">' in r.text
    csp = r.headers["content-security-policy"]
    css = re.search(r"<style>(.*?)</style>", r.text, re.S)
    assert css is not None
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    assert csp == (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    assert "<script" not in r.text and "http://" not in r.text.split("<pre", 1)[0]
    assert received(r.text) == [("payman_code", "2gZ04Yx9iHEP"), ("status", "CREATED")]
    assert 'id="status"' in r.text and "پیمان ایجاد شد" in r.text
    base = runtime.settings.effective_base_url
    shell = script(r.text)
    lines = shell.splitlines()
    get_id = next(line for line in lines if line.startswith("curl -s ") and "getId" in line)
    assert words(get_id)[2] == f"{base}/v1/payman/getId?payman_code=2gZ04Yx9iHEP"
    assert f"{base}/oauth/token" in shell
    assert "${PISHKHAN_DATA_DIR:-var}/demo-credentials.json" in shell
    assert "docs/payman.md" in r.text and 'href="/_pishkhan/openapi/payman.json"' in r.text


def test_the_demo_customer_redirects_here(runtime: Runtime) -> None:
    assert bootstrap.ensure_demo(runtime) is not None
    with runtime.db.read() as conn:
        urls = conn.execute(select(payman_clients.c.redirect_urls)).scalar_one()
    assert urls == [f"{runtime.settings.effective_base_url}{PATH}"]


def test_failures_show_the_code_and_no_call(client: Any) -> None:
    r = client.get(PATH, params={"payman_code": "abc", "status": "INTERNAL_ERROR", "code": "2098"})
    assert r.status_code == 200
    assert received(r.text) == [
        ("payman_code", "abc"),
        ("status", "INTERNAL_ERROR"),
        ("code", "2098"),
    ]
    assert html.escape(CATALOGUE["2098"][1]) in r.text
    assert 'id="next-curl"' not in r.text and "POST /v1/payman/create" in r.text
    r = client.get(PATH, params={"payman_code": "abc", "status": "CANCELED", "code": "2156"})
    assert html.escape(CATALOGUE["2156"][1]) in r.text and 'id="next-curl"' not in r.text
    r = client.get(PATH, params={"payman_code": "abc", "status": "TIMEOUT"})
    assert "مهلت صفحه بانک تمام شد" in r.text and 'id="next-curl"' not in r.text
    # An update that failed leaves the mandate as it was (the redirect carries payman_id).
    r = client.get(PATH, params={"payman_code": "abc", "payman_id": "P1", "status": "TIMEOUT"})
    assert "former terms" in r.text
    r = client.get(PATH)
    assert r.status_code == 200 and "No query parameters" in r.text


def test_updated_shows_the_report_call(client: Any, runtime: Runtime) -> None:
    r = client.get(PATH, params={"payman_code": "abc", "status": "UPDATED", "payman_id": "P-1"})
    assert received(r.text) == [
        ("payman_code", "abc"),
        ("status", "UPDATED"),
        ("payman_id", "P-1"),
    ]
    report = next(line for line in script(r.text).splitlines() if line.startswith("curl -s "))
    assert words(report)[2] == f"{runtime.settings.effective_base_url}/v1/payman/report/P-1"


def test_every_received_value_is_escaped(client: Any, runtime: Runtime) -> None:
    evil = "<script>alert(1)</script>'$(touch /tmp/pwned)'\"><img src=x onerror=alert(2)>"
    r = client.get(
        PATH,
        params=[("payman_code", evil), ("status", "CREATED"), ("code", evil), (evil, evil)],
    )
    assert r.status_code == 200
    for raw in ("<script", "<img", "onerror=alert(2)>"):
        assert raw not in r.text
    assert received(r.text) == [
        ("payman_code", evil),
        ("status", "CREATED"),
        ("code", evil),
        (evil, evil),
    ]
    # In the shell example the code is URL-encoded inside one shell word: it cannot run.
    get_id = next(
        line
        for line in script(r.text).splitlines()
        if line.startswith("curl -s ") and "getId" in line
    )
    url = words(get_id)[2]
    assert url == (
        f"{runtime.settings.effective_base_url}/v1/payman/getId?payman_code={quote(evil, safe='')}"
    )
    assert "$(" not in url and "'" not in url
