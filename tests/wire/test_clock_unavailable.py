"""A stored sandbox clock outside its range (an older version's ``offset 2**53``): every
surface answers its own server-error envelope (no traceback, no text/plain), and clearing the
clock brings every surface back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, insert

from pishkhan.core.shared_state import CLOCK_KEY
from pishkhan.core.tables import sandbox_state
from pishkhan.runtime import Runtime
from pishkhan.tenants import rsa_keys
from pishkhan.tenants import service as tenants

ADMIN = {"Authorization": "Bearer test-admin-token"}
UNAVAILABLE = (
    "the sandbox clock is unusable (offset state puts it outside 1970-01-01T00:00:00Z .. "
    "9000-01-01T00:00:00Z); clear it (pishkhan clock clear, POST /_pishkhan/v1/clock/clear) "
    "or reset the sandbox"
)


def _plant(runtime: Runtime) -> None:
    with runtime.db.engine.begin() as conn:
        conn.execute(delete(sandbox_state).where(sandbox_state.c.key == CLOCK_KEY))
        conn.execute(
            insert(sandbox_state).values(
                key=CLOCK_KEY,
                value={"frozen_at": None, "offset_seconds": 9007199254740992.0},
                updated_at=datetime.now(UTC),
            )
        )


@pytest.mark.undocumented(
    "Pendar's methods answer their last-resort 500, which the Pendar document does not list"
)
def test_every_surface_answers_its_server_error_and_recovers(client: Any, runtime: Runtime) -> None:
    with runtime.db.write() as conn:
        created = tenants.create_customer(
            conn,
            runtime.clock,
            tenants.NewCustomer(
                name="Acme",
                slug="acme",
                pendar_public_key_pem=rsa_keys.generate_key_pair()[0],
            ),
        )
    s = created["secrets"]
    calls = {
        "jibit": lambda: client.post(
            "/ide/v1/tokens/generate",
            json={"apiKey": s["jibit"]["apiKey"], "secretKey": s["jibit"]["secretKey"]},
        ),
        "payman": lambda: client.post(
            "/oauth/token",
            data={
                "client_id": s["payman"]["client_id"],
                "client_secret": s["payman"]["client_secret"],
                "grant_type": "client_credentials",
            },
        ),
        "paystar": lambda: client.post(
            "/api/open-banking/application/refresh-api-key",
            json={
                "application_id": s["paystar"]["application_id"],
                "access_password": s["paystar"]["access_password"],
                "refresh_token": s["paystar"]["refresh_token"],
            },
        ),
        "control": lambda: client.post(
            "/_pishkhan/v1/customers/acme/topup",
            json={"wallet": "jibit.PRF", "amount": 1000},
            headers=ADMIN,
        ),
        "pendar": lambda: client.post(
            "/api/GetCredit",
            json={
                "ReportKey": s["pendar"]["report_key"],
                "CustomerCode": s["pendar"]["customercode"],
            },
        ),
        "pendar-crl": lambda: client.get("/pki/root/crl.pem"),
    }
    pendar_error = {"ErrorCode": 1, "ErrorMessage": "خطا در اجرای برنامه"}
    expected = {
        "jibit": (500, {"code": "server.error", "message": "خطای داخلی سرور"}),
        "payman": (
            500,
            {
                "error": "خطای سرور",
                "code": "2001",
                "errors": [{"error": "خطای سرور", "code": "2001"}],
            },
        ),
        "paystar": (500, {"status": 0, "data": None, "message": "خطای سرور"}),
        "control": (503, {"error": {"code": "clock_unavailable", "message": UNAVAILABLE}}),
        "pendar": (500, pendar_error),
        "pendar-crl": (500, pendar_error),
    }
    _plant(runtime)
    for name, call in calls.items():
        r = call()
        assert r.headers["content-type"] == "application/json", name
        assert (r.status_code, r.json()) == expected[name], name
    r = client.post("/_pishkhan/v1/clock/clear", headers=ADMIN)
    assert r.status_code == 200 and r.json()["mode"] == "real"
    for name, call in calls.items():
        r = call()
        assert r.status_code == 200, (name, r.text)


def test_an_unexpected_control_plane_failure_is_its_json_500(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pishkhan.control import sandbox_ops

    def boom(_runtime: Runtime) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sandbox_ops, "verify_audit", boom)
    r = client.get("/_pishkhan/v1/audit/verify", headers=ADMIN)
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"error": {"code": "server_error", "message": "internal error"}}
