"""Fixtures for the Payman wire tests: the world's Payman people, a merchant, a token, and
helpers that drive a mandate through the bank consent page with the in-process client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pishkhan.runtime import Runtime
from pishkhan.tenants import service as tenants
from pishkhan.world.fixtures import PAYMAN, PaymanFixture, fixture_rows
from pishkhan.world.generator import insert_rows

REDIRECT = "https://merchant.example/payman/back"
CLIENT_HEADERS = {
    "Client-Device-Id": "169.254.75.178",
    "Client-Ip-Address": "127.0.0.1",
    "Client-User-Agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "Client-Platform-Type": "WEB",
    "Client-User-Id": "09352673656",
}
SABCIR = next(p for p in PAYMAN if p.payman_code == "SABCIR")


def seed_world(runtime: Runtime) -> None:
    with runtime.db.write() as conn:
        insert_rows(conn, fixture_rows())


def new_merchant(runtime: Runtime, slug: str = "shop", **kw: Any) -> dict[str, Any]:
    with runtime.db.write() as conn:
        created = tenants.create_customer(
            conn,
            runtime.clock,
            tenants.NewCustomer(
                name="فروشگاه نمونه", slug=slug, payman_redirect_urls=(REDIRECT,), **kw
            ),
        )
    return created


@dataclass
class Payman:
    client: Any
    runtime: Runtime
    creds: dict[str, str]
    token: str = ""
    counter: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def headers(self, *, person: PaymanFixture | None = None, **over: str) -> dict[str, str]:
        h = {
            "Authorization": f"Bearer {self.token}",
            "App-Key": self.creds["app_key"],
            **CLIENT_HEADERS,
        }
        if person is not None:
            h["Mobile-no"] = person.mobile
            h["National-code"] = person.national_code
        h.update(over)
        return {k: v for k, v in h.items() if v is not None}

    def next_trace(self, prefix: str = "t") -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:05d}"

    def create_body(
        self, person: PaymanFixture = SABCIR, trace: str | None = None, **contract: Any
    ) -> dict[str, Any]:
        now = self.runtime.clock.now_utc()
        c: dict[str, Any] = {
            "expiration_date": (now.replace(year=now.year + 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "max_daily_transaction_count": 10,
            "max_monthly_transaction_count": 100,
            "max_transaction_amount": 5_000_000,
        }
        c.update(contract)
        return {
            "payman": {
                "bank_code": person.payman_code,
                "user_id": f"user-{person.national_code}",
                "permission_ids": [1],
                "contract": {k: v for k, v in c.items() if v is not None},
            },
            "redirect_url": REDIRECT,
            "trace_id": trace or self.next_trace("c"),
        }

    def create(self, person: PaymanFixture = SABCIR, **contract: Any) -> tuple[str, str]:
        body = self.create_body(person, **contract)
        r = self.client.post(
            "/v1/payman/create",
            json=body,
            headers=self.headers(person=person),
            follow_redirects=False,
        )
        assert r.status_code == 302, r.text
        return r.headers["location"], body["trace_id"]

    def consent(
        self,
        location: str,
        national_code: str,
        mobile: str,
        action: str = "approve",
        deposit: str | None = None,
    ) -> dict[str, list[str]]:
        """Drive the consent page: sign in, then approve/cancel; the merchant redirect's query."""
        page = self.client.get(location, follow_redirects=False)
        assert page.status_code == 200, page.text
        token = parse_qs(urlsplit(location).query)["boom_token"][0]
        r = self.client.post(
            "/payman-bank/oauth/login",
            data={"boom_token": token, "national_code": national_code, "mobile": mobile},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        if r.headers["location"].startswith(REDIRECT):
            return parse_qs(urlsplit(r.headers["location"]).query)
        page = self.client.get(r.headers["location"], follow_redirects=False)
        assert page.status_code == 200 and 'id="approve"' in page.text, page.text
        form: dict[str, str] = {"boom_token": token, "action": action}
        if deposit is None:
            m = re.search(r'name="deposit" value="([^"]+)"', page.text)
            if m:
                form["deposit"] = m.group(1)
        else:
            form["deposit"] = deposit
        r = self.client.post("/payman-bank/oauth/decide", data=form, follow_redirects=False)
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith(REDIRECT), r.headers["location"]
        return parse_qs(urlsplit(r.headers["location"]).query)

    def active_mandate(self, person: PaymanFixture = SABCIR, **contract: Any) -> str:
        location, _ = self.create(person, **contract)
        back = self.consent(location, person.national_code, person.mobile)
        assert back["status"] == ["CREATED"], back
        r = self.client.get(
            "/v1/payman/getId",
            params={"payman_code": back["payman_code"][0]},
            headers=self.headers(),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["payman_id"])

    def pay(
        self, payman_id: str, amount: Any = 100_000, trace: str | None = None, **extra: Any
    ) -> Any:
        body = {
            "trace_id": trace or self.next_trace("p"),
            "payman_id": payman_id,
            "amount": amount,
            "description": "خرید اشتراک",
            **extra,
        }
        return self.client.post("/v1/payman/pay", json=body, headers=self.headers())


def get_token(client: Any, creds: dict[str, str]) -> str:
    r = client.post(
        "/oauth/token",
        data={
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "grant_type": "client_credentials",
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.fixture
def pm(client: Any, runtime: Runtime) -> Payman:
    seed_world(runtime)
    # Tehran noon, well away from every bank's cut-off window.
    from datetime import UTC, datetime

    from pishkhan.control import sandbox_ops

    sandbox_ops.freeze(runtime, datetime(2025, 6, 3, 8, 30, tzinfo=UTC).isoformat())
    created = new_merchant(runtime)
    creds = created["secrets"]["payman"]
    p = Payman(client, runtime, creds)
    p.token = get_token(client, creds)
    return p
