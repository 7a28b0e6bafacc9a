"""The active-certificate rule: a certificate counts as active while it is issued, unrevoked and
unexpired (with the same subject on the same CA). One rule, so an expiry is seen everywhere at
once: RegisterInfo no longer answers the certificate, the lists no longer show it, and the
registration may be issued again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pendar.support import ALI

ADMIN = {"Authorization": "Bearer test-admin-token"}


def _listed(customer: Any) -> list[str]:
    r = customer.get("GetAllCert", {"SerialNumber": ALI["NationalCode"]})
    assert r.status_code == 200, r.text
    return [item["Certificate"] for item in r.json()]


def test_an_expired_certificate_is_no_longer_active(customer: Any) -> None:
    tc = customer.register()
    first = customer.issue(tc)
    shown = json.loads(
        customer.post("RegisterInfo", customer.register_body()).json()["Description"]
    )
    assert shown["Certificate"] == first["Certificate"]
    assert _listed(customer) == [first["Certificate"]]
    refused = customer.post("IssueCertificateByTrackingCode", customer.issue_body(tc)).json()
    assert (refused["IsSuccess"], refused["ErrorCode"]) == (False, 1001)

    expired = datetime.fromisoformat(first["ValidTo"]) + timedelta(seconds=1)
    r = customer.client.post(
        "/_pishkhan/v1/clock/freeze",
        json={"at": expired.astimezone(UTC).isoformat()},
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text

    answer = customer.post("RegisterInfo", customer.register_body()).json()
    assert (answer["IsSuccess"], answer["TrackingCode"]) == (True, tc)
    shown = json.loads(answer["Description"])
    assert (shown["Certificate"], shown["CSR"]) == (None, None)
    assert _listed(customer) == []
    second = customer.issue(tc)
    assert second["Certificate"] != first["Certificate"]
    assert _listed(customer) == [second["Certificate"]]
