"""Registration: RegisterInfo, GetTrackingCodeInfo, IsApproved and RequestApprove (the rules
and transactions; no HTTP).

Each public function serves one method: it takes the request's fields (a dict with lower-cased
keys, see :func:`.wire.field`) and returns the success body, or raises :class:`PendarError`.
Every state change is one transaction with its audit entry; the CA hierarchy is loaded (or
created) before that transaction opens.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from pishkhan.core.ids import new_digits
from pishkhan.iran import (
    InvalidIdentifier,
    canonicalize,
    fold_digits,
    names_equal,
    normalize_mobile,
    parse_gregorian,
    parse_jalali,
    parse_national_code,
    parse_postal_code,
)
from pishkhan.runtime import Runtime

from . import ca as ca_mod
from . import errors as E
from . import profiles as P
from . import signatures, sql
from .accounts import audit, transaction
from .authorities import ca_and_profile
from .caches import Account
from .errors import PendarError
from .signer import KeyEncryptor
from .wire import Fields, check_signature, dumps, field, flag, lower_keys


def _birth_date(raw: str) -> tuple[str, date]:
    """``yyyy/mm/dd`` Gregorian or Jalali (years below 1700 are Jalali)."""
    text = fold_digits(canonicalize(raw)).replace("-", "/").strip()
    head = text.split("/")[0] if "/" in text else text[:4]
    if not head.isdigit():
        raise ValueError(raw)
    if int(head) < 1700:
        jd = parse_jalali(text)
        return jd.slashed(), jd.to_gregorian()
    g = parse_gregorian(text)
    return g.strftime("%Y/%m/%d"), g


def _registration_person(
    conn: Connection, acct: Account, ca: P.CADef, person_in: Fields
) -> dict[str, Any]:
    nc_raw = field(person_in, "nationalcode")
    try:
        nc = parse_national_code(nc_raw)
    except InvalidIdentifier as exc:
        raise PendarError(E.FAILED, "کد ملی نامعتبر است") from exc
    mobile_raw = field(person_in, "telephone")
    if not mobile_raw:
        raise PendarError(E.MOBILE_REQUIRED)
    try:
        mobile = normalize_mobile(mobile_raw)
    except InvalidIdentifier as exc:
        raise PendarError(E.MOBILE_REQUIRED, "شماره همراه نامعتبر است") from exc
    person: dict[str, Any] = {
        "NationalCode": nc,
        "Name": canonicalize(field(person_in, "name")),
        "LastName": canonicalize(field(person_in, "lastname")),
        "EnName": field(person_in, "enname"),
        "EnLastName": field(person_in, "enlastname"),
        "FatherName": canonicalize(field(person_in, "fathername")),
        "IsMan": flag(person_in, "isman") is not False,
        "PostalCode": fold_digits(field(person_in, "postalcode")),
        "Telephone": mobile,
        "IsForeign": bool(flag(person_in, "isforeign")),
        "BirthCertificateID": fold_digits(field(person_in, "birthcertificateid")),
        "City": canonicalize(field(person_in, "city")),
        "ProvinceName": canonicalize(field(person_in, "provincename")),
        "AgencySN": field(person_in, "agencysn"),
        "Email": field(person_in, "email"),
    }
    birth = field(person_in, "birthdate")
    person["BirthDate"] = ""
    if birth:
        try:
            person["BirthDate"], gregorian = _birth_date(birth)
        except (InvalidIdentifier, ValueError) as exc:
            raise PendarError(E.FAILED, "تاریخ تولد نامعتبر است") from exc
        person["BirthDateGregorian"] = gregorian.isoformat()
    if person["PostalCode"]:
        try:
            person["PostalCode"] = parse_postal_code(person["PostalCode"])
        except InvalidIdentifier as exc:
            raise PendarError(E.FAILED, "کدپستی نامعتبر است") from exc

    settings = acct.settings
    if settings.get("identity_check") or settings.get("fill_names"):
        who = sql.world_person(conn, nc)
        if who is None:
            raise PendarError(E.FAILED, "کد ملی در ثبت احوال یافت نشد")
        if settings.get("fill_names"):
            for key, column in (
                ("Name", "first_name"),
                ("LastName", "last_name"),
                ("EnName", "first_name_en"),
                ("EnLastName", "last_name_en"),
                ("FatherName", "father_name"),
            ):
                if not person[key]:
                    person[key] = who[column]
        if person["Name"] and not names_equal(person["Name"], who["first_name"]):
            raise PendarError(E.FIRST_NAME_MISMATCH)
        if person["LastName"] and not names_equal(person["LastName"], who["last_name"]):
            raise PendarError(E.LAST_NAME_MISMATCH)
    if settings.get("shahkar_check") and sql.sim_owner(conn, mobile) != nc:
        raise PendarError(E.FAILED, "شماره همراه متعلق به این کد ملی نیست (شاهکار)")
    if settings.get("postal_check") and person["PostalCode"]:
        addr = sql.postal_address(conn, person["PostalCode"])
        if addr is None:
            raise PendarError(E.FAILED, "کدپستی در سامانه پست یافت نشد")
        person["City"] = person["City"] or addr[0]
        person["ProvinceName"] = person["ProvinceName"] or addr[1]
    if not person["Name"] or not person["LastName"]:
        raise PendarError(E.FAILED, "نام و نام خانوادگی الزامی است")
    if ca.government and not (person["PostalCode"] and person["City"] and person["ProvinceName"]):
        raise PendarError(E.FAILED, "کدپستی، شهر و استان در مرکز میانی دولتی عام الزامی است")
    return person


def subject_fields(person: dict[str, Any]) -> dict[str, str]:
    out = {k: str(v) for k, v in person.items() if isinstance(v, str)}
    if not out.get("EnName") or not out.get("EnLastName"):
        out["EnName"] = out.get("EnName") or out.get("Name", "")
        out["EnLastName"] = out.get("EnLastName") or out.get("LastName", "")
    return out


def _new_tracking_code(conn: Connection, values: dict[str, Any]) -> str:
    for _ in range(8):
        code = new_digits(10)
        try:
            with conn.begin_nested():
                sql.insert_registration(conn, {"tracking_code": code, **values})
            return code
        except IntegrityError:
            continue
    raise PendarError(E.UPDATE_FAILED)


def register_info(runtime: Runtime, data: Fields) -> dict[str, Any]:
    ca_mod.hierarchy(runtime)
    person_in = lower_keys(data.get("persondata"))
    with transaction(runtime, data) as (conn, acct):
        nc_raw = field(person_in, "nationalcode")
        if not nc_raw:
            raise PendarError(E.NATIONAL_CODE_REQUIRED)
        loaded, profile = ca_and_profile(
            runtime, acct, field(data, "caname"), field(data, "profilename")
        )
        check_signature("RegisterInfo", acct.public_key_pem, data)
        person = _registration_person(conn, acct, loaded.definition, person_in)
        token_type = (field(person_in, "tokentype") or "USERGENERATED").upper()
        if token_type not in ("USERGENERATED", "P12"):
            raise PendarError(E.FAILED, "نوع توکن باید USERGENERATED یا P12 باشد")
        password = field(person_in, "password")
        if token_type == "P12" and not password:
            raise PendarError(E.FAILED, "گذرواژه برای توکن P12 الزامی است")
        subject = ca_mod.subject_of(profile, subject_fields(person))
        subject_dn = subject.dn
        now = runtime.clock.now_utc()
        sealed = (
            KeyEncryptor(runtime.settings.token_secret).seal(password.encode("utf-8"))
            if password
            else None
        )
        values: dict[str, Any] = {
            "customer_id": acct.customer_id,
            "ca_name": loaded.name,
            "profile_name": profile.name,
            "national_code": person["NationalCode"],
            "subject_dn": subject_dn,
            "subject_der": subject.der,
            "subject_cn": subject.cn,
            "person": person,
            "token_type": token_type,
            "p12_password": sealed,
            "approval_required": profile.approval,
            "updated_at": now,
        }
        tracking_code: str | None = None
        if not loaded.definition.government:
            key = hashlib.sha256(
                f"{acct.customer_id}|{loaded.name}|{subject_dn}".encode()
            ).hexdigest()
            values["subject_key"] = key
            existing = sql.registration_by_subject(conn, key)
            if existing is not None:
                tracking_code = existing[1]
                sql.update_registration(conn, existing[0], values)
        if tracking_code is None:
            tracking_code = _new_tracking_code(
                conn, {**values, "approved": False, "registered_at": now}
            )
        active = sql.active_certificate(conn, loaded.name, person["NationalCode"], subject_dn, now)
        audit(
            runtime,
            conn,
            acct,
            "pendar.register",
            f"pendar.registration:{tracking_code}",
            {
                "ca": loaded.name,
                "profile": profile.name,
                "national_code": person["NationalCode"],
                "subject": subject_dn,
            },
        )
    province_id = P.PROVINCES.get(person["ProvinceName"])
    description = {
        "FirstName": person["Name"],
        "LastName": person["LastName"],
        "EnFirstName": person["EnName"],
        "EnLastName": person["EnLastName"],
        "City": person["City"],
        "ProvinceName": person["ProvinceName"],
        "ProvinceId": "" if province_id is None else str(province_id),
        "FatherName": person["FatherName"],
        "AgencySN": person["AgencySN"],
        "CSR": active[1] if active else None,
        "Certificate": base64.b64encode(active[0]).decode() if active else None,
    }
    return {
        "IsSuccess": True,
        "TrackingCode": tracking_code,
        "Description": dumps(description),
        "ErrorCode": 0,
        "ErrorMessage": "",
    }


# -- GetTrackingCodeInfo --------------------------------------------------------------------------


def _registration(
    conn: Connection, tracking_code: str, acct: Account | None, national_code: str | None
) -> RowMapping:
    row = sql.registration_by_code(conn, fold_digits(tracking_code.strip()))
    if row is None or (acct is not None and row["customer_id"] != acct.customer_id):
        raise PendarError(E.TRACKING_CODE_INVALID)
    if national_code is not None and row["national_code"] != fold_digits(national_code.strip()):
        raise PendarError(E.TRACKING_CODE_INVALID)
    return row


def get_tracking_code_info(runtime: Runtime, data: Fields) -> dict[str, Any]:
    with transaction(runtime, data) as (conn, acct):
        nc, tc = field(data, "nationalcode"), field(data, "trackingcode")
        check_signature("GetTrackingCodeInfo", acct.public_key_pem, data)
        reg = _registration(conn, tc, acct, nc)
        audit(
            runtime,
            conn,
            acct,
            "pendar.tracking_code.read",
            f"pendar.registration:{reg['tracking_code']}",
        )
    p = dict(reg["person"])
    description = {
        "Name": p.get("Name", ""),
        "LastName": p.get("LastName", ""),
        "EnName": p.get("EnName", ""),
        "EnLastName": p.get("EnLastName", ""),
        "NationalCode": p.get("NationalCode", ""),
        "BirthCertificateID": p.get("BirthCertificateID", ""),
        "FatherName": p.get("FatherName", ""),
        "EnFatherName": None,
        "IssueCardDate": None,
        "Organization": None,
        "EnOrganization": None,
        "OrganizationUnit": None,
        "EnOrganizationUnit": None,
        "AgencySN": p.get("AgencySN") or None,
        "Affliation": None,
        "EnAffliation": None,
        "IssuerIdentification": None,
        "ValidityDuration": None,
        "BirthDate": p.get("BirthDate", ""),
        "IsMan": "True" if p.get("IsMan", True) else "False",
        "City": p.get("City", ""),
        "EnCity": None,
        "Customize1": "",
        "Customize2": None,
        "Customize3": None,
        "Customize4": None,
        "GUID": None,
        "EndEntityProfile": None,
        "ExpirationEnglishDate": None,
        "IsForeign": bool(p.get("IsForeign", False)),
        "Country": None,
        "Address": "",
        "PostalCode": p.get("PostalCode", ""),
        "Telephone": p.get("Telephone", ""),
        "ProvinceName": p.get("ProvinceName", ""),
        "ProvinceId": P.PROVINCES.get(p.get("ProvinceName", "")),
    }
    return {"ResultCode": True, "Description": dumps(description), "Message": "Success"}


# -- approvals ------------------------------------------------------------------------------------


def is_approved(runtime: Runtime, data: Fields) -> dict[str, Any]:
    with runtime.db.write() as conn:
        reg = _registration(conn, field(data, "trackingcode"), None, None)
        runtime.audit.append(
            conn,
            actor="pendar:anonymous",
            action="pendar.approval.read",
            subject=f"pendar.registration:{reg['tracking_code']}",
        )
    ok = bool(reg["approved"] or not reg["approval_required"])
    return {"ResultCode": ok, "Description": "", "Message": "Success" if ok else "Unsuccess"}


def _approver_certificate(
    conn: Connection, runtime: Runtime, acct: Account, approver_sign: str, content: bytes
) -> tuple[x509.Certificate, RowMapping]:
    cms = signatures.parse_cms(approver_sign, content)
    rows = sql.approvers(conn, acct.customer_id)
    registered: dict[str, RowMapping] = {r["fingerprint"]: r for r in rows}
    cert = cms.signer
    if cert is None:  # not embedded: look among the customer's registered approvers
        for r in rows:
            candidate = x509.load_der_x509_certificate(bytes(r["certificate_der"]))
            if signatures.matches(candidate, cms.issuer_serial, cms.key_id):
                cert = candidate
                break
    if cert is None:
        raise PendarError(E.APPROVER_UNKNOWN)
    der = cert.public_bytes(serialization.Encoding.DER)
    fingerprint = hashlib.sha256(der).hexdigest()
    row = registered.get(fingerprint)
    h = ca_mod.hierarchy(runtime)
    ours = h.by_subject(cert.issuer)
    if row is None:
        elsewhere = sql.approver_registered(conn, fingerprint)
        raise PendarError(E.APPROVER_NOT_ALLOWED if (elsewhere or ours) else E.APPROVER_UNKNOWN)
    verify = cms.verify
    if not callable(verify) or not verify(cert):
        raise PendarError(E.APPROVER_SIGNATURE_INVALID)
    revoked = bool(row["revoked"])
    if ours is not None:
        # By (issuer, serial), the certificates' key; the row is this certificate only if the
        # fingerprints agree.
        found = sql.certificate_by_serial(conn, ours.id, ca_mod.serial_hex(cert.serial_number))
        status = (
            found["status"] if found is not None and found["fingerprint"] == fingerprint else None
        )
        revoked = revoked or status == "Revoked"
    if revoked:
        raise PendarError(E.APPROVER_REVOKED)
    now = runtime.clock.now_utc()
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise PendarError(E.APPROVER_VALIDATION_ERROR)
    if ours is not None:
        try:
            cert.verify_directly_issued_by(ours.certificate)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise PendarError(E.APPROVER_VALIDATION_ERROR) from exc
    return cert, row


def request_approve(runtime: Runtime, data: Fields) -> dict[str, Any]:
    ca_mod.hierarchy(runtime)
    with transaction(runtime, data) as (conn, acct):
        nc, tc = field(data, "nationalcode"), field(data, "trackingcode")
        approver = field(data, "approver")
        signed_text = check_signature("RequestApprove", acct.public_key_pem, data)
        reg = _registration(conn, tc, acct, nc)
        approver_sign = field(data, "approversign")
        order_id = field(data, "orderid")
        approver_fp: str | None = None
        if approver_sign:
            cert, row = _approver_certificate(
                conn, runtime, acct, approver_sign, signatures.unicode(signed_text)
            )
            method = "in-person"
            approver_fp = row["fingerprint"]
            del cert
        else:
            # Remote (non in-person) identification: approverSign is empty and orderId is
            # only mandatory with Pendar's own face authentication; the document lets any
            # root-approved provider be used, so both may be empty.
            method = "remote"
        now = runtime.clock.now_utc()
        sql.update_registration(
            conn,
            reg["id"],
            {
                "approved": True,
                "approver": approver or None,
                "approval_method": method,
                "order_id": order_id or None,
                "approved_at": now,
                "updated_at": now,
            },
        )
        audit(
            runtime,
            conn,
            acct,
            "pendar.approve",
            f"pendar.registration:{reg['tracking_code']}",
            {
                "approver": approver,
                "method": method,
                "order_id": order_id or None,
                "approver_certificate": approver_fp,
            },
        )
    return {
        "ResultCode": True,
        "Description": "",
        "Message": "Success",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }
