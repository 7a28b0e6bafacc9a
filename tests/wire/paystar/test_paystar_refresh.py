"""refresh-api-key: golden bodies for success and every status it can answer."""

from __future__ import annotations

from typing import Any

from paystar_wire_support import REFRESH, App, balance, usage

from pishkhan.control import sandbox_ops
from pishkhan.runtime import Runtime

SHORT_REFRESH = "/api/application/refresh-api-key"


def test_refresh_success_golden(client: Any, runtime: Runtime, app_creds: App) -> None:
    sandbox_ops.freeze(runtime, "2025-03-01T10:15:30")  # Tehran wall-clock
    for path in (REFRESH, SHORT_REFRESH):
        _check_success(client.post(path, json=app_creds.refresh_body()))


def _check_success(r: Any) -> None:
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    key = body["data"]["api_key"]
    assert isinstance(key, str) and len(key) > 40
    assert body == {
        "status": 1,
        "data": {"api_key": key, "api_key_expire_date": "2025-03-02 10:15:30"},
        "message": "درخواست با موفقیت انجام شد",
    }
    assert list(body) == ["status", "data", "message"]


def test_refresh_ignores_authorization_header_and_issues_fresh_keys(
    client: Any, app_creds: App
) -> None:
    headers = {"Authorization": "Bearer "}
    a = client.post(REFRESH, json=app_creds.refresh_body(), headers=headers).json()
    b = client.post(REFRESH, json=app_creds.refresh_body()).json()
    assert a["status"] == b["status"] == 1
    assert a["data"]["api_key"] != b["data"]["api_key"]


def test_refresh_accepts_form_and_integer_application_id(client: Any, app_creds: App) -> None:
    r = client.post(REFRESH, data=app_creds.refresh_body())
    assert r.json()["status"] == 1, r.text
    body: dict[str, Any] = {
        **app_creds.refresh_body(),
        "application_id": int(app_creds.application_id),
    }
    assert client.post(REFRESH, json=body).json()["status"] == 1


def _golden(status: int, message: str) -> dict[str, Any]:
    return {"status": status, "data": None, "message": message}


INVALID = _golden(10, "اطلاعات ارسال شده صحیح نمی باشد")
OPENING = 10_000_000_000


def assert_untouched(runtime: Runtime, app: App) -> None:
    """refresh-api-key is free and records no usage, whatever it answers."""
    assert balance(runtime, app.customer_id) == OPENING
    assert usage(runtime, app.customer_id) == []


def test_refresh_malformed_body_is_status_10(client: Any, runtime: Runtime, app_creds: App) -> None:
    for content in (b"{not json", b"[1, 2]", b'"text"'):
        r = client.post(REFRESH, content=content, headers={"content-type": "application/json"})
        assert (r.status_code, r.json()) == (200, INVALID), content
    assert_untouched(runtime, app_creds)


def test_refresh_missing_field_is_status_10(client: Any, runtime: Runtime, app_creds: App) -> None:
    for missing in ("application_id", "access_password", "refresh_token"):
        body: dict[str, Any] = app_creds.refresh_body()
        del body[missing]
        assert client.post(REFRESH, json=body).json() == INVALID, missing
        for empty in ("", "  ", None, True, {"x": 1}):
            body[missing] = empty
            assert client.post(REFRESH, json=body).json() == INVALID, (missing, empty)
    assert_untouched(runtime, app_creds)


def test_refresh_unknown_application_is_status_2(
    client: Any, runtime: Runtime, app_creds: App
) -> None:
    body = {**app_creds.refresh_body(), "application_id": "999999999"}
    r = client.post(REFRESH, json=body)
    assert (r.status_code, r.json()) == (200, _golden(2, "برنامه یافت نشد"))
    assert_untouched(runtime, app_creds)


def test_refresh_disabled_customer_is_status_3(
    admin: Any, runtime: Runtime, app_creds: App
) -> None:
    r = admin.post(f"/_pishkhan/v1/customers/{app_creds.slug}/status", json={"status": "disabled"})
    assert r.status_code == 200, r.text
    r = admin.post(REFRESH, json=app_creds.refresh_body())
    assert (r.status_code, r.json()) == (200, _golden(3, "برنامه فعال نیست"))
    assert_untouched(runtime, app_creds)


def test_refresh_wrong_password_is_status_6(client: Any, runtime: Runtime, app_creds: App) -> None:
    body = {**app_creds.refresh_body(), "access_password": app_creds.access_password + "x"}
    r = client.post(REFRESH, json=body)
    assert (r.status_code, r.json()) == (200, _golden(6, "رمز دسترسی برنامه استباه است"))
    assert_untouched(runtime, app_creds)


def test_refresh_ip_not_allowed_is_status_7(admin: Any, runtime: Runtime, app_creds: App) -> None:
    r = admin.patch(
        f"/_pishkhan/v1/customers/{app_creds.slug}",
        json={"paystar_allowed_ips": ["10.0.0.0/8", "192.168.1.7"]},
    )
    assert r.status_code == 200, r.text
    r = admin.post(REFRESH, json=app_creds.refresh_body())
    assert (r.status_code, r.json()) == (200, _golden(7, "آی پی مجاز نمی باشد"))
    # The test client's address is "testclient"; listing it lets the call through.
    admin.patch(
        f"/_pishkhan/v1/customers/{app_creds.slug}",
        json={"paystar_allowed_ips": ["10.0.0.0/8", "testclient"]},
    )
    assert admin.post(REFRESH, json=app_creds.refresh_body()).json()["status"] == 1
    assert_untouched(runtime, app_creds)


def test_refresh_wrong_refresh_token_is_status_13(
    client: Any, runtime: Runtime, app_creds: App
) -> None:
    body = {**app_creds.refresh_body(), "refresh_token": "not-the-refresh-token"}
    r = client.post(REFRESH, json=body)
    assert (r.status_code, r.json()) == (200, _golden(13, "توکن بازیابی API key اشتباه است"))
    assert_untouched(runtime, app_creds)


def test_refresh_after_rotation_needs_the_new_secrets(admin: Any, app_creds: App) -> None:
    r = admin.post(f"/_pishkhan/v1/customers/{app_creds.slug}/rotate", json={"surface": "paystar"})
    assert r.status_code == 200, r.text
    fresh = r.json()["secrets"]["paystar"]
    old = app_creds.refresh_body()
    assert admin.post(REFRESH, json=old).json()["status"] == 6
    body = {**old, **fresh}
    assert admin.post(REFRESH, json=body).json()["status"] == 1
    body["refresh_token"] = app_creds.refresh_token
    assert admin.post(REFRESH, json=body).json()["status"] == 13


def test_refresh_server_error_fault_is_status_0(
    admin: Any, runtime: Runtime, app_creds: App
) -> None:
    r = admin.put(
        "/_pishkhan/v1/paystar/faults", json={"target": "refresh-api-key", "fault": "server_error"}
    )
    assert r.json() == {"faults": {"refresh-api-key": "server_error"}}
    r = admin.post(REFRESH, json=app_creds.refresh_body())
    assert (r.status_code, r.json()) == (500, _golden(0, "خطای سرور"))
    admin.put("/_pishkhan/v1/paystar/faults", json={"target": "refresh-api-key", "fault": None})
    assert admin.post(REFRESH, json=app_creds.refresh_body()).json()["status"] == 1
    assert_untouched(runtime, app_creds)


def test_refresh_checks_run_in_the_documented_order(
    admin: Any, runtime: Runtime, app_creds: App
) -> None:
    """10 -> 2 -> 3 -> 6 -> 7 -> 13 -> 1, lifting one failure condition at a time."""
    ref = f"/_pishkhan/v1/customers/{app_creds.slug}"
    admin.post(ref + "/status", json={"status": "disabled"})
    admin.patch(ref, json={"paystar_allowed_ips": ["203.0.113.9"]})
    body: dict[str, Any] = {"application_id": "999999999", "access_password": "wrong"}

    def status() -> int:
        r = admin.post(REFRESH, json=body)
        assert r.status_code == 200, r.text
        return int(r.json()["status"])

    assert status() == 10  # refresh_token missing
    body["refresh_token"] = "wrong"
    assert status() == 2
    body["application_id"] = app_creds.application_id
    assert status() == 3
    admin.post(ref + "/status", json={"status": "active"})
    assert status() == 6
    body["access_password"] = app_creds.access_password
    assert status() == 7
    admin.patch(ref, json={"paystar_allowed_ips": []})
    assert status() == 13
    body["refresh_token"] = app_creds.refresh_token
    assert status() == 1
    assert_untouched(runtime, app_creds)
