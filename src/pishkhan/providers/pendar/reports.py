"""Reports: GetAllCert, GetAllMobileCert, GetUserCertHistory, IssuingReport and GetCredit (the
rules; no HTTP)."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.engine import RowMapping

from pishkhan.core.clock import tehran_day_bounds
from pishkhan.core.ints import INT64_MAX
from pishkhan.iran import fold_digits
from pishkhan.runtime import Runtime

from . import ca as ca_mod
from . import errors as E
from . import sql
from .accounts import account, audit, transaction
from .errors import PendarError
from .wire import Fields, check_signature, field, utc, wire_time

#: The detail report's page.
REPORT_PAGE: Final = 100


def _cert_item(row: RowMapping, tracking_code: str, issuer: str) -> dict[str, Any]:
    return {
        "Id": int(row["id"]),
        "TrackingCode": tracking_code,
        "CAName": row["ca_name"],
        "ProfileName": row["profile_name"],
        "SerialNumber": row["serial"],
        "Subject": row["subject_dn"],
        "Issuer": issuer,
        "Certificate": base64.b64encode(bytes(row["der"])).decode("ascii"),
        "ValidFrom": wire_time(row["not_before"]),
        "ValidTo": wire_time(row["not_after"]),
        "Status": row["status"],
    }


def _active_list(runtime: Runtime, **filters: Any) -> list[dict[str, Any]]:
    """The active certificates matching ``filters`` (see :func:`.sql.active_certificates`)."""
    h = ca_mod.hierarchy(runtime)
    now = runtime.clock.now_utc()
    with runtime.db.read() as conn:
        rows = sql.active_certificates(conn, now, **filters)
    return [
        _cert_item(r, r["tracking_code"], h.by_id[int(r["ca_id"])].issuer_display) for r in rows
    ]


def get_all_cert(runtime: Runtime, data: Fields) -> list[dict[str, Any]]:
    code = fold_digits(field(data, "serialnumber"))
    if not code:  # the method's one parameter, not optional in the document
        raise PendarError(E.NATIONAL_CODE_REQUIRED)
    return _active_list(runtime, national_code=code)


def get_all_mobile_cert(runtime: Runtime, data: Fields) -> list[dict[str, Any]]:
    nc = fold_digits(field(data, "nationalcode"))
    tc = fold_digits(field(data, "trackingcode"))
    filters: dict[str, Any] = {}
    if tc:  # the document: one of the two is mandatory, the tracking code wins
        filters["tracking_code"] = tc
    elif nc:
        filters["national_code"] = nc
    else:  # told apart from "no certificates" (the empty array)
        raise PendarError(E.NATIONAL_CODE_REQUIRED)
    ca_name = field(data, "caname")
    if ca_name:
        filters["ca_name"] = ca_name
    customer = field(data, "customercode")
    if customer:
        with runtime.db.read() as conn:
            try:
                acct = account(conn, customer, bare=True)
            except PendarError:
                return []
        filters["customer_id"] = acct.customer_id
    return _active_list(runtime, **filters)


def get_user_cert_history(runtime: Runtime, data: Fields) -> dict[str, Any]:
    h = ca_mod.hierarchy(runtime)
    with transaction(runtime, data) as (conn, acct):
        serial_number = field(data, "serialnumber")
        check_signature("GetUserCertHistory", acct.public_key_pem, data)
        nc = fold_digits(serial_number)
        regs = sql.registrations_of(conn, acct.customer_id, nc)
        certs: dict[int, list[RowMapping]] = {}
        if regs:
            for c in sql.certificates_of(conn, nc, [r["id"] for r in regs]):
                certs.setdefault(int(c["registration_id"]), []).append(c)
        audit(runtime, conn, acct, "pendar.history.read", f"pendar.person:{nc}")
    items: list[dict[str, Any]] = []
    for reg in regs:
        issued = certs.get(int(reg["id"]), [])
        if not issued:
            items.append(
                {
                    "Id": int(reg["id"]),
                    "TrackingCode": reg["tracking_code"],
                    "Status": "Registered",
                    "Issuer": h.cas[reg["ca_name"]].issuer_display
                    if reg["ca_name"] in h.cas
                    else "",
                    "Certificate": "",
                    "RegisterDate": wire_time(reg["registered_at"]),
                    "IssueDate": "",
                    "RevokeDate": "",
                }
            )
        for c in issued:
            items.append(
                {
                    "Id": int(c["id"]),
                    "TrackingCode": reg["tracking_code"],
                    "Status": c["status"],
                    "Issuer": h.by_id[int(c["ca_id"])].issuer_display,
                    "Certificate": base64.b64encode(bytes(c["der"])).decode("ascii"),
                    "RegisterDate": wire_time(reg["registered_at"]),
                    "IssueDate": wire_time(c["issued_at"]),
                    "RevokeDate": wire_time(c["revoked_at"]),
                }
            )
    return {"IsSuccess": True, "CertList": items, "ErrorCode": 0, "ErrorMessage": ""}


def _report_day(raw: str) -> date:
    text = fold_digits(raw.strip()).replace("-", "/")
    day = datetime.strptime(text, "%Y/%m/%d").date()
    if not 2 <= day.year <= 9998:  # a Tehran day's bounds in UTC must still be dates
        raise ValueError(raw)
    return day


def _after_id(text: str) -> int:
    """The detail report's ``id`` (the last id of the previous page): not digits is 0, an id
    beyond every 64-bit id is the largest one (an empty page), never a database overflow."""
    if not (text.isascii() and text.isdigit()):
        return 0
    return INT64_MAX if len(text) > 18 else min(int(text), INT64_MAX)


def issuing_report(runtime: Runtime, data: Fields) -> list[dict[str, Any]]:
    kind = field(data, "type")
    try:
        start = _report_day(field(data, "startdate"))
        end = _report_day(field(data, "enddate"))
    except ValueError as exc:
        raise PendarError(E.FAILED, "تاریخ باید میلادی و به شکل yyyy/mm/dd باشد") from exc
    kinds = {"perca": "PerCA", "perca&status": "PerCA&Status", "detail": "detail"}
    if kind.lower() not in kinds:
        raise PendarError(E.UNSUPPORTED)
    kind = kinds[kind.lower()]
    lo, _ = tehran_day_bounds(start)
    _, hi = tehran_day_bounds(end)
    with transaction(runtime, data, report=True) as (conn, acct):
        cid = acct.customer_id
        regs = sql.registrations_per_profile(conn, cid, lo, hi)
        detail = kind == "detail"
        certs = sql.report_certificates(
            conn,
            cid,
            lo,
            hi,
            after_id=_after_id(field(data, "id")) if detail else None,
            limit=REPORT_PAGE if detail else None,
        )
        audit(
            runtime,
            conn,
            acct,
            "pendar.report",
            f"customer:{cid}",
            {"type": kind, "start": start.isoformat(), "end": end.isoformat()},
        )

    def within(at: datetime | None) -> bool:
        at = utc(at)
        return at is not None and lo <= at < hi

    if kind == "detail":
        return [
            {
                "id": int(r["id"]),
                "caName": r["ca_name"],
                "profileName": r["profile_name"],
                "status": r["status"] == "Issued",
                "count": 1,
                "RegisterCount": 0,
                "IssueCount": 1 if within(r["issued_at"]) else 0,
                "RevokeCount": 1 if within(r["revoked_at"]) else 0,
                "trackingCode": r["tracking_code"],
                "nationalCode": r["national_code"],
                "serialNumber": r["serial"],
                "issueDate": wire_time(r["issued_at"]),
                "revokeDate": wire_time(r["revoked_at"]),
            }
            for r in certs
        ]
    groups: dict[tuple[str, str], dict[str, int]] = {}

    def group(ca_name: str, profile_name: str) -> dict[str, int]:
        return groups.setdefault(
            (ca_name, profile_name),
            {"register": 0, "issue": 0, "revoke": 0, "active": 0, "revoked": 0},
        )

    for ca_name, profile_name, n in regs:
        group(ca_name, profile_name)["register"] += int(n)
    for r in certs:
        g = group(r["ca_name"], r["profile_name"])
        if within(r["issued_at"]):
            g["issue"] += 1
            g["active" if r["status"] == "Issued" else "revoked"] += 1
        if within(r["revoked_at"]):
            g["revoke"] += 1
    out: list[dict[str, Any]] = []
    for (ca_name, profile_name), g in sorted(groups.items()):
        common = {
            "RegisterCount": g["register"],
            "IssueCount": g["issue"],
            "RevokeCount": g["revoke"],
        }
        if kind == "PerCA":
            out.append(
                {
                    "caName": ca_name,
                    "profileName": profile_name,
                    "status": True,
                    "count": g["issue"],
                    **common,
                }
            )
        else:
            for status, key in ((True, "active"), (False, "revoked")):
                out.append(
                    {
                        "caName": ca_name,
                        "profileName": profile_name,
                        "status": status,
                        "count": g[key],
                        **common,
                    }
                )
    return out


def get_credit(runtime: Runtime, data: Fields) -> dict[str, Any]:
    with transaction(runtime, data, report=True) as (conn, acct):
        balance = sql.credit(conn, acct.customer_id)
        audit(runtime, conn, acct, "pendar.credit.read", f"customer:{acct.customer_id}")
    return {
        "IsSuccess": True,
        "Credit": str(int(balance or 0)),
        "Description": "",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
