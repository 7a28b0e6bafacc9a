"""The consent page's security headers and its expiry reload, as the wire shows them.

A page with a form allows its forms to end at its own origin and at the merchant's redirect
origin (the 303 that answers a form post goes there, and browsers hold that redirect to the
page's ``form-action``): that one origin, nothing else; its one inline style sheet is allowed
by hash. A page left open reloads itself when it expires, and the reload goes back to the
merchant with ``status=TIMEOUT``. (``tests/e2e/test_payman_browser.py`` drives this in
Chromium with a merchant on another origin.)
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pishkhan.control import sandbox_ops
from pishkhan.runtime import Runtime
from pishkhan.tenants import service as tenants
from pishkhan.web.pages import csp_origin

from .conftest import REDIRECT, SABCIR, Payman, get_token


def policy(response: Any) -> dict[str, str]:
    parts = (p.strip() for p in response.headers["content-security-policy"].split(";"))
    return {name: value for name, _, value in (p.partition(" ") for p in parts if p)}


def style_source(page: str) -> str:
    css = re.search(r"<style>(.*?)</style>", page, re.S)
    assert css is not None
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    return f"'sha256-{digest}'"


def test_form_pages_allow_the_merchant_origin_and_nothing_else(pm: Payman) -> None:
    location, _ = pm.create()
    page = pm.client.get(location, follow_redirects=False)
    assert page.status_code == 200 and 'id="login"' in page.text
    csp = policy(page)
    assert csp == {
        "default-src": "'none'",
        "style-src": style_source(page.text),
        "img-src": "'self' data:",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self' https://merchant.example",
    }
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in page.text and "style=" not in page.text

    token = parse_qs(urlsplit(location).query)["boom_token"][0]
    # A sign-in that fails the identifier check shows the page again: same policy.
    again = pm.client.post(
        "/payman-bank/oauth/login",
        data={"boom_token": token, "national_code": "123", "mobile": SABCIR.mobile},
    )
    assert again.status_code == 200 and 'id="error"' in again.text
    assert policy(again)["form-action"] == "'self' https://merchant.example"
    signed_in = pm.client.post(
        "/payman-bank/oauth/login",
        data={"boom_token": token, "national_code": SABCIR.national_code, "mobile": SABCIR.mobile},
    )
    assert signed_in.status_code == 200 and 'id="approve"' in signed_in.text
    assert policy(signed_in)["form-action"] == "'self' https://merchant.example"
    done = pm.client.post(
        "/payman-bank/oauth/decide",
        data={"boom_token": token, "action": "approve"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(REDIRECT + "?")
    # A used page has no form: its own origin only.
    used = pm.client.get(location, follow_redirects=False)
    assert used.status_code == 410 and policy(used)["form-action"] == "'self'"


def test_the_origin_comes_from_this_consents_redirect_url(client: Any, runtime: Runtime) -> None:
    from .conftest import seed_world

    seed_world(runtime)
    sandbox_ops.freeze(runtime, "2025-06-03T12:00:00")
    back = "https://User:pw@Shop.Example:8443/payman/back?x=1"
    with runtime.db.write() as conn:
        created = tenants.create_customer(
            conn,
            runtime.clock,
            tenants.NewCustomer(name="shop", slug="shop2", payman_redirect_urls=(back,)),
        )
    p = Payman(client, runtime, created["secrets"]["payman"])
    p.token = get_token(client, p.creds)
    body = p.create_body()
    body["redirect_url"] = back
    r = client.post(
        "/v1/payman/create", json=body, headers=p.headers(person=SABCIR), follow_redirects=False
    )
    assert r.status_code == 302, r.text
    page = client.get(r.headers["location"], follow_redirects=False)
    # No user information, the host in lower case, the port kept; no path.
    assert policy(page)["form-action"] == "'self' https://shop.example:8443"


def test_csp_origin_refuses_what_could_change_the_policy() -> None:
    assert csp_origin("https://merchant.example/back?a=b") == "https://merchant.example"
    assert csp_origin("http://127.0.0.1:8000/x") == "http://127.0.0.1:8000"
    assert csp_origin("https://[::1]:9443/x") == "https://[::1]:9443"
    assert csp_origin("myapp://payman/done") == "myapp://payman"
    assert csp_origin("https://فروشگاه.ایران/back") == "https://xn--mgbtj4c7ad63e.xn--mgba3a4f16a"
    for bad in (
        "https://a;b.example/",
        "https://a b.example/",
        "https://*.example/",
        "https://a.example,'unsafe-inline'/",
        "https://a.example:99999/",
        "/relative/path",
        "",
        "https:///nohost",
    ):
        assert csp_origin(bad) is None, bad


def test_an_open_page_reloads_itself_when_it_expires(pm: Payman) -> None:
    location, trace = pm.create()
    sandbox_ops.advance(pm.runtime, 100)
    page = pm.client.get(location, follow_redirects=False)
    refresh = re.search(
        r'<meta http-equiv="refresh" id="expiry-reload" content="([^"]+)">', page.text
    )
    assert refresh is not None
    seconds, _, target = html.unescape(refresh.group(1)).partition(";url=")
    # ten minutes from creation, 100 s of them gone, one more so the reload finds it expired
    assert int(seconds) == 501
    assert urlsplit(target).path == "/payman-bank/oauth/authorize"
    sent = parse_qs(urlsplit(location).query)
    assert parse_qs(urlsplit(target).query) == {
        "boom_token": sent["boom_token"],
        "bank_id": sent["bank_id"],
    }
    assert "12:10" in page.text  # the sandbox clock's 12:00 (Tehran) plus ten minutes
    sandbox_ops.advance(pm.runtime, 501)
    reloaded = pm.client.get(target, follow_redirects=False)
    assert reloaded.status_code == 302
    back = reloaded.headers["location"]
    assert back.startswith(REDIRECT + "?")
    code = pm.client.get(
        "/v1/payman/create/trace", params={"trace-id": trace}, headers=pm.headers()
    ).json()["payman_code"]
    assert parse_qs(urlsplit(back).query) == {"payman_code": [code], "status": ["TIMEOUT"]}


WEBVIEW_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/120.0 Mobile Safari/537.36"
)


def test_a_web_view_is_refused_and_the_page_stays_open(pm: Payman) -> None:
    location, _ = pm.create()
    token = parse_qs(urlsplit(location).query)["boom_token"][0]
    page = pm.client.get(location, headers={"User-Agent": WEBVIEW_UA}, follow_redirects=False)
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-frame-options"] == "DENY"
    assert "مرورگر پشتیبانی نمی‌شود" in page.text and 'id="login"' not in page.text
    login = pm.client.post(
        "/payman-bank/oauth/login",
        data={"boom_token": token, "national_code": SABCIR.national_code, "mobile": SABCIR.mobile},
        headers={"User-Agent": WEBVIEW_UA},
        follow_redirects=False,
    )
    assert login.status_code == 403 and "set-cookie" not in login.headers
    # Nothing was used up: a browser still gets the sign-in page, and signs in.
    again = pm.client.get(location, follow_redirects=False)
    assert again.status_code == 200 and 'id="login"' in again.text
    signed_in = pm.client.post(
        "/payman-bank/oauth/login",
        data={"boom_token": token, "national_code": SABCIR.national_code, "mobile": SABCIR.mobile},
    )
    assert signed_in.status_code == 200 and 'id="approve"' in signed_in.text
