"""Payman credentials: a rotation or a disable ends every earlier token at once (issue 19 item
10), and the App-Key is stored hashed (item 12).

In process here (SQLite and PostgreSQL); across two server processes on one database in
``tests/concurrency/test_payman_credentials.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pishkhan.core.ids import hash_secret
from pishkhan.providers.payman import payments, pgpay
from pishkhan.providers.payman.tables import payman_transactions
from pishkhan.tenants import credentials
from pishkhan.tenants.tables import payman_clients

from .conftest import Payman, get_token, new_merchant

MESSAGES = {
    "2002": "موسسه یافت نشد",
    "2009": "خطای احراز هویت رخ داده است.",
    "2015": "وضعیت موسسه نامعتبر است",
    "2069": "توکن غیر معتبر است",
}


def refusal(code: str, reference: str | None) -> dict[str, Any]:
    """Payman's error envelope, exactly."""
    message = MESSAGES[code]
    item: dict[str, Any] = {"error": message, "code": code}
    if reference is not None:
        item["reference"] = reference
    return {"error": message, "code": code, "errors": [item]}


TOKEN_INVALID = refusal("2069", "Authorization")
APP_KEY_UNKNOWN = refusal("2002", "App-Key")


def calls(pm: Payman, token: str, app_key: str) -> list[tuple[int, Any]]:
    """A pay (the hot path: on PostgreSQL answered from the merchant cache) and a getId (the
    threadpool's authentication), both naming no mandate: 2014 once authenticated."""
    headers = {**pm.headers(), "Authorization": f"Bearer {token}", "App-Key": app_key}
    pay = pm.client.post(
        "/v1/payman/pay",
        json={"trace_id": pm.next_trace("r"), "payman_id": "no-such-mandate", "amount": 1000},
        headers=headers,
    )
    get_id = pm.client.get(
        "/v1/payman/getId", params={"payman_code": "no-such-code"}, headers=headers
    )
    return [(pay.status_code, pay.json()), (get_id.status_code, get_id.json())]


def authenticated(pm: Payman, token: str, app_key: str) -> bool:
    answers = calls(pm, token, app_key)
    assert all(status in (400, 401) for status, _ in answers), answers
    return all(body["code"] in ("2014", "071") for _, body in answers)


def test_rotation_in_the_same_second_ends_earlier_tokens(pm: Payman, admin: Any) -> None:
    # The sandbox clock is frozen (the fixture): the customer's creation, its token and the
    # rotation share one second, the case a generation in whole seconds could not tell apart.
    old = dict(pm.creds)
    old_token = pm.token
    assert authenticated(pm, old_token, old["app_key"])
    r = admin.post("/_pishkhan/v1/customers/shop/rotate", json={"surface": "payman"})
    assert r.status_code == 200, r.text
    new = r.json()["secrets"]["payman"]
    assert new["client_id"] == old["client_id"]
    assert new["client_secret"] != old["client_secret"] and new["app_key"] != old["app_key"]

    assert calls(pm, old_token, old["app_key"]) == [(401, TOKEN_INVALID)] * 2
    assert calls(pm, old_token, new["app_key"]) == [(401, TOKEN_INVALID)] * 2
    # The old secret gets no token; the new one does, and the old App-Key goes with the old
    # secret.
    r = pm.client.post(
        "/oauth/token",
        data={
            **{k: old[k] for k in ("client_id", "client_secret")},
            "grant_type": "client_credentials",
        },
    )
    assert (r.status_code, r.json()) == (401, refusal("2009", None))
    new_token = get_token(pm.client, new)
    assert calls(pm, new_token, old["app_key"]) == [(400, APP_KEY_UNKNOWN)] * 2
    assert authenticated(pm, new_token, new["app_key"])
    # A second rotation in that same second ends the second token too.
    r = admin.post("/_pishkhan/v1/customers/shop/rotate", json={"surface": "payman"})
    assert r.status_code == 200, r.text
    assert calls(pm, new_token, new["app_key"]) == [(401, TOKEN_INVALID)] * 2


def test_disable_ends_earlier_tokens_for_good(pm: Payman, admin: Any) -> None:
    token = pm.token
    assert authenticated(pm, token, pm.creds["app_key"])
    r = admin.post("/_pishkhan/v1/customers/shop/status", json={"status": "disabled"})
    assert r.status_code == 200, r.text
    assert calls(pm, token, pm.creds["app_key"]) == [(401, TOKEN_INVALID)] * 2
    r = pm.client.post(
        "/oauth/token",
        data={
            "client_id": pm.creds["client_id"],
            "client_secret": pm.creds["client_secret"],
            "grant_type": "client_credentials",
        },
    )
    assert (r.status_code, r.json()) == (400, refusal("2015", None))
    r = admin.post("/_pishkhan/v1/customers/shop/status", json={"status": "active"})
    assert r.status_code == 200, r.text
    # Enabled again: the token of before the disable stays dead; a new one works.
    assert calls(pm, token, pm.creds["app_key"]) == [(401, TOKEN_INVALID)] * 2
    assert authenticated(pm, get_token(pm.client, pm.creds), pm.creds["app_key"])


def test_a_stale_pay_statement_changes_nothing(pm: Payman) -> None:
    """PostgreSQL's pay checks the epoch inside its one statement: a pay authenticated at an
    older epoch runs nothing (the route then authenticates again)."""
    if not pm.runtime.db.is_postgres:
        return
    payman_id = pm.active_mandate()
    svc = payments.PaymanService(pm.runtime)
    merchant = svc.authenticate({k.lower(): v for k, v in pm.headers().items()})
    with pm.runtime.db.write() as conn:
        credentials.bump(conn)  # any credential change of any customer
    import asyncio

    async def pay() -> Any:
        return await payments.pay_async(
            svc, merchant, {"trace_id": "stale-1", "payman_id": payman_id, "amount": 1000}
        )

    try:
        asyncio.run(pay())
    except payments.StaleCredentials:
        pass
    else:  # pragma: no cover - the assertion's message
        raise AssertionError("a pay at an older credential epoch ran")
    with pm.runtime.db.read() as conn:
        assert conn.execute(select(payman_transactions.c.id)).all() == []
    assert pgpay.STALE == "STALE"
    # Through the route: authenticated again at the current epoch, the pay goes through.
    r = pm.pay(payman_id, trace="stale-1")
    assert r.status_code == 200, r.text


def test_the_app_key_is_stored_hashed(pm: Payman) -> None:
    app_key = pm.creds["app_key"]
    with pm.runtime.db.read() as conn:
        row = conn.execute(select(payman_clients)).mappings().one()
    assert "app_key" not in row
    assert row["app_key_hash"] == hash_secret(app_key)
    assert all(app_key not in str(value) for value in row.values())
    assert authenticated(pm, pm.token, app_key)
    # A wrong key (one character off, the hash, the key in another case) is unknown: 2002.
    for wrong in (
        app_key[:-1] + ("A" if app_key[-1] != "A" else "B"),
        row["app_key_hash"],
        app_key.swapcase(),
    ):
        assert calls(pm, pm.token, wrong) == [(400, APP_KEY_UNKNOWN)] * 2


def test_a_token_of_before_a_sandbox_reset_never_passes_for_a_new_customer(
    pm: Payman, admin: Any
) -> None:
    """A reset empties the customers, so a new customer may get an old one's id (SQLite reuses
    it); under a clock frozen at the same instant its generation used to be the old one's too,
    and the old token then spoke for the new customer (given its App-Key, which ``search``
    answered as ``creditor_id``). Generations come from the epoch, which a reset keeps: never
    twice."""
    old = new_merchant(pm.runtime, slug="second")
    old_token = get_token(pm.client, old["secrets"]["payman"])
    frozen_at = pm.runtime.clock.now_utc().isoformat()
    r = admin.post("/_pishkhan/v1/sandbox/reset", json={"seed_world": False})
    assert r.status_code == 200, r.text
    r = admin.post("/_pishkhan/v1/clock/freeze", json={"at": frozen_at})  # a reset clears it
    assert r.status_code == 200, r.text
    r = admin.post("/_pishkhan/v1/customers", json={"name": "another", "slug": "another"})
    assert r.status_code in (200, 201), r.text
    new = r.json()
    if pm.runtime.db.is_sqlite:
        assert new["id"] == old["id"]  # the case that matters: the token's id is in use again
    app_key = new["secrets"]["payman"]["app_key"]
    assert calls(pm, old_token, app_key) == [(401, TOKEN_INVALID)] * 2
    assert authenticated(pm, get_token(pm.client, new["secrets"]["payman"]), app_key)
