"""Revocation and receipt: RevokeCertificate and RecievedCertConfirmation (the rules and
transactions; no HTTP)."""

from __future__ import annotations

from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import Connection, RowMapping

from pishkhan.iran import fold_digits
from pishkhan.runtime import Runtime

from . import ca as ca_mod
from . import crl as crl_mod
from . import errors as E
from . import sql
from .accounts import audit, transaction
from .caches import Account
from .errors import PendarError
from .wire import Fields, check_signature, field, load_certificate

#: RFC 5280's reason codes a revocation may give (not 7, which is unused).
REVOCATION_REASONS: Final = frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9, 10})


def _certificate_row(conn: Connection, runtime: Runtime, acct: Account, text: str) -> RowMapping:
    """The customer's certificate ``text`` (PEM or base64 DER): 1112 when it is not one of the
    CAs', 1113 when another customer's."""
    cert = load_certificate(text)
    if cert is None:
        raise PendarError(E.CERT_NOT_FOUND)
    loaded = ca_mod.hierarchy(runtime).by_subject(cert.issuer)
    if loaded is None:
        raise PendarError(E.CERT_NOT_FOUND)
    row = sql.certificate_by_serial(conn, loaded.id, ca_mod.serial_hex(cert.serial_number))
    if row is None or bytes(row["der"]) != cert.public_bytes(serialization.Encoding.DER):
        raise PendarError(E.CERT_NOT_FOUND)
    if row["customer_id"] != acct.customer_id:
        raise PendarError(E.NOT_YOUR_CERT)
    return row


def revoke_certificate(runtime: Runtime, data: Fields) -> dict[str, Any]:
    h = ca_mod.hierarchy(runtime)
    with transaction(runtime, data) as (conn, acct):
        text = check_signature("RevokeCertificate", acct.public_key_pem, data)
        row = _certificate_row(conn, runtime, acct, text)
        if row["status"] == "Revoked":
            raise PendarError(E.ALREADY_REVOKED)
        reason_text = field(data, "revokecertreason") or "0"
        try:
            reason = int(reason_text)
        except ValueError:
            reason = -1
        if reason not in REVOCATION_REASONS:
            raise PendarError(E.FAILED, "کد دلیل ابطال نامعتبر است (RFC 5280)")
        now = runtime.clock.now_utc().replace(microsecond=0)
        if not sql.revoke_certificate(conn, row["id"], now, reason):
            raise PendarError(E.ALREADY_REVOKED)
        loaded = h.by_id[int(row["ca_id"])]
        number, _der = crl_mod.regenerate(conn, loaded, now)
        audit(
            runtime,
            conn,
            acct,
            "pendar.certificate.revoke",
            f"pendar.certificate:{loaded.name}:{row['serial']}",
            {"reason": reason, "crl_number": number},
        )
    return {
        "IsSuccess": True,
        "Description": "گواهی با موفقیت ابطال شد",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }


def received_cert_confirmation(runtime: Runtime, data: Fields) -> dict[str, Any]:
    ca_mod.hierarchy(runtime)
    with transaction(runtime, data) as (conn, acct):
        text = check_signature("RecievedCertConfirmation", acct.public_key_pem, data)
        row = _certificate_row(conn, runtime, acct, text)
        tc = sql.tracking_code_of(conn, row["registration_id"])
        if tc != fold_digits(field(data, "trackingcode")):
            raise PendarError(E.TRACKING_CODE_INVALID)
        if row["received_at"] is None:
            sql.mark_received(conn, row["id"], runtime.clock.now_utc())
        audit(
            runtime,
            conn,
            acct,
            "pendar.certificate.received",
            f"pendar.certificate:{row['ca_name']}:{row['serial']}",
            {"tracking_code": tc},
        )
    return {"IsSuccess": True, "Description": "", "ErrorCode": 0, "ErrorMessage": ""}
