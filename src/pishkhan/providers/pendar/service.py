"""The rules and transactions of the Pendar RA (no HTTP).

Each public function serves one method: it takes the request's fields (a dict with lower-cased
keys, see :func:`field`) and returns the success body, or raises :class:`PendarError`. Every
state change is one transaction with its audit entry; the CA hierarchy is loaded (or created)
before that transaction opens.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import SignatureAlgorithmOID
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from pishkhan.core.clock import TEHRAN, tehran_day_bounds
from pishkhan.core.ids import new_digits, verify_secret
from pishkhan.core.ints import INT64_MAX
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
from pishkhan.tenants import billing
from pishkhan.tenants.tables import wallets
from pishkhan.world.tables import world_addresses, world_people, world_sims

from . import ca as ca_mod
from . import crl as crl_mod
from . import errors as E
from . import hot, signatures
from . import profiles as P
from .errors import PendarError
from .signer import KeyEncryptor
from .tables import (
    pendar_approvers,
    pendar_cas,
    pendar_certificates,
    pendar_payments,
    pendar_registrations,
)

VERSION = "1.10"
REVOCATION_REASONS = frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9, 10})
REPORT_PAGE = 100
P12_KEY_BITS = 2048

Fields = dict[str, Any]
#: Opens one write transaction: ``Database.write`` or ``Database.hot_write``.
WriteTx = Callable[[], AbstractContextManager[Connection]]


# -- request helpers ------------------------------------------------------------------------------


def lower_keys(data: Any) -> Fields:
    """JSON objects bind case-insensitively (ASP.NET): lower-case every key, one level."""
    if not isinstance(data, dict):
        return {}
    return {str(k).lower(): v for k, v in data.items()}


def field(data: Fields, name: str) -> str:
    """A field as text: absent and null are empty; numbers and booleans as .NET prints them."""
    value = data.get(name.lower())
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return ""
    return str(value).strip()


def check_signature(method: str, public_key_pem: str, data: Fields) -> str:
    """The request's signature by the method's rule in :data:`signatures.RULES` (1200 when it
    does not verify); answers the signed text."""

    def get(name: str) -> str:
        outer, dot, inner = name.partition(".")
        return field(lower_keys(data.get(outer)), inner) if dot else field(data, name)

    text = signatures.RULES[method].verify(public_key_pem, get)
    if text is None:
        raise PendarError(E.SIGNATURE_INVALID)
    return text


def flag(data: Fields, name: str) -> bool | None:
    value = data.get(name.lower())
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def wire_time(value: datetime | None) -> str:
    """Tehran wall-clock ISO 8601 with offset (how .NET serializes a local DateTime)."""
    value = utc(value)
    if value is None:
        return ""
    return _tehran_text(value)


@functools.lru_cache(maxsize=256)
def _tehran_text(value: datetime) -> str:
    """Cached: every issuance answers two such times, shared by the issuances of a second."""
    return value.astimezone(TEHRAN).replace(microsecond=0).isoformat()


def dumps(data: Any) -> str:
    return orjson.dumps(data).decode("utf-8")


# -- customers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    customer_id: int
    customer_code: str
    license_number: str
    public_key_pem: str
    report_key_hash: str
    settings: dict[str, Any]

    @property
    def customercode(self) -> str:
        return f"{self.customer_code}-{self.license_number}"


def account(
    conn: Connection, customercode: str, *, bare: bool = False, status: int = 200
) -> Account:
    """The customer of ``"<code>-<license>"`` (or a bare ``<code>`` where ``bare``), read on
    ``conn``; 1203 otherwise."""
    return _checked_account(
        customercode, bare, status, lambda code: hot.load_account(conn, code, rules=False)
    )


def cached_account(
    runtime: Runtime, customercode: str, *, bare: bool = False, status: int = 200
) -> Account:
    """:func:`account` from the process's credential cache (see :func:`.hot.account`)."""
    return _checked_account(customercode, bare, status, lambda code: hot.account(runtime, code))


def _checked_account(
    customercode: str, bare: bool, status: int, find: Callable[[str], hot.AccountRow | None]
) -> Account:
    """The customer-code check: ``find`` gets the digit-folded code (1203 when the code is
    malformed, unknown, disabled or its license number differs)."""
    code, sep, license_number = customercode.strip().partition("-")
    if not code or (not sep and not bare):
        raise PendarError(E.CUSTOMER_INVALID, status=status)
    row = find(fold_digits(code))
    if row is None or not row.active or (sep and row.license_number != fold_digits(license_number)):
        raise PendarError(E.CUSTOMER_INVALID, status=status)
    return Account(
        row.customer_id,
        row.customer_code,
        row.license_number,
        row.public_key_pem,
        row.report_key_hash,
        row.settings,
    )


def _failing(exc: PendarError, acct: Account | None) -> PendarError:
    exc.customer_id = acct.customer_id if acct else None  # type: ignore[attr-defined]
    return exc


def _ca_and_profile(
    runtime: Runtime, acct: Account, ca_name: str, profile_name: str
) -> tuple[ca_mod.LoadedCA, P.Profile]:
    definition = P.BY_NAME.get(ca_name)
    loaded = ca_mod.hierarchy(runtime).get(ca_name) if definition else None
    if definition is None or loaded is None:
        raise PendarError(E.CA_INVALID)
    if ca_name not in P.grants(acct.settings):
        raise PendarError(E.CA_NOT_GRANTED)
    profile = definition.profile(profile_name)
    if profile is None:
        raise PendarError(E.CA_OR_PROFILE_INVALID)
    if profile not in P.granted_profiles(acct.settings, definition):
        raise PendarError(E.CA_NOT_GRANTED)
    if not hot.caches(runtime).available(loaded.id):
        raise PendarError(E.CA_DOWN)
    return loaded, profile


# -- CA methods -----------------------------------------------------------------------------------


def get_ca_list(runtime: Runtime, data: Fields) -> dict[str, Any]:
    h = ca_mod.hierarchy(runtime)
    with runtime.db.read() as conn:
        acct = account(conn, field(data, "customercode"), bare=True, status=401)
    names = [name for name in P.grants(acct.settings) if name in P.BY_NAME and h.get(name)]
    return {"IsSuccess": True, "CAList": names, "ErrorCode": 0, "ErrorMessage": ""}


def get_ca_profile_info(runtime: Runtime, data: Fields) -> dict[str, Any]:
    ca_mod.hierarchy(runtime)
    with runtime.db.read() as conn:
        acct = account(conn, field(data, "customercode"), bare=True, status=401)
    definition = P.BY_NAME.get(field(data, "caname"))
    if definition is None:
        raise PendarError(E.CA_INVALID)
    if definition.name not in P.grants(acct.settings):
        raise PendarError(E.CA_NOT_GRANTED)
    profiles = [p.wire() for p in P.granted_profiles(acct.settings, definition)]
    return {"IsSuccess": True, "Profile": profiles, "ErrorCode": 0, "ErrorMessage": ""}


def is_available(runtime: Runtime, data: Fields) -> dict[str, Any]:
    h = ca_mod.hierarchy(runtime)
    loaded = h.get(field(data, "caname")) if field(data, "caname") in P.BY_NAME else None
    if loaded is None:
        raise PendarError(E.CA_INVALID)
    with runtime.db.read() as conn:
        available = bool(
            conn.execute(
                select(pendar_cas.c.available).where(pendar_cas.c.id == loaded.id)
            ).scalar_one()
        )
    return {
        "IsAvailable": available,
        "Description": "" if available else E.MESSAGES[E.CA_DOWN],
        "ErrorCode": 0,
        "ErrorMessage": "",
    }


# -- RegisterInfo ---------------------------------------------------------------------------------


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
        who = (
            conn.execute(select(world_people).where(world_people.c.national_code == nc))
            .mappings()
            .first()
        )
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
    if settings.get("shahkar_check"):
        owner = conn.execute(
            select(world_sims.c.national_code).where(world_sims.c.mobile == mobile)
        ).scalar_one_or_none()
        if owner != nc:
            raise PendarError(E.FAILED, "شماره همراه متعلق به این کد ملی نیست (شاهکار)")
    if settings.get("postal_check") and person["PostalCode"]:
        addr = conn.execute(
            select(world_addresses.c.city, world_addresses.c.province).where(
                world_addresses.c.postal_code == person["PostalCode"]
            )
        ).first()
        if addr is None:
            raise PendarError(E.FAILED, "کدپستی در سامانه پست یافت نشد")
        person["City"] = person["City"] or addr[0]
        person["ProvinceName"] = person["ProvinceName"] or addr[1]
    if not person["Name"] or not person["LastName"]:
        raise PendarError(E.FAILED, "نام و نام خانوادگی الزامی است")
    if ca.government and not (person["PostalCode"] and person["City"] and person["ProvinceName"]):
        raise PendarError(E.FAILED, "کدپستی، شهر و استان در مرکز میانی دولتی عام الزامی است")
    return person


def _subject_fields(person: dict[str, Any]) -> dict[str, str]:
    out = {k: str(v) for k, v in person.items() if isinstance(v, str)}
    if not out.get("EnName") or not out.get("EnLastName"):
        out["EnName"] = out.get("EnName") or out.get("Name", "")
        out["EnLastName"] = out.get("EnLastName") or out.get("LastName", "")
    return out


def _active_certificate(
    conn: Connection, ca_name: str, national_code: str, subject_dn: str, now: datetime
) -> RowMapping | None:
    """The newest unexpired, unrevoked certificate with this subject on this CA (the subject
    carries the national code, whose index keeps this lookup cheap)."""
    return (
        conn.execute(
            select(pendar_certificates.c.der, pendar_certificates.c.csr)
            .where(
                and_(
                    pendar_certificates.c.national_code == national_code,
                    pendar_certificates.c.ca_name == ca_name,
                    pendar_certificates.c.subject_dn == subject_dn,
                    pendar_certificates.c.status == "Issued",
                    pendar_certificates.c.not_after > now,
                )
            )
            .order_by(pendar_certificates.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )


def _new_tracking_code(conn: Connection, values: dict[str, Any]) -> str:
    for _ in range(8):
        code = new_digits(10)
        try:
            with conn.begin_nested():
                conn.execute(insert(pendar_registrations).values(tracking_code=code, **values))
            return code
        except IntegrityError:
            continue
    raise PendarError(E.UPDATE_FAILED)


def register_info(runtime: Runtime, data: Fields) -> dict[str, Any]:
    ca_mod.hierarchy(runtime)
    person_in = lower_keys(data.get("persondata"))
    customercode = field(data, "customercode")
    acct: Account | None = None
    try:
        with runtime.db.write() as conn:
            acct = account(conn, customercode)
            nc_raw = field(person_in, "nationalcode")
            if not nc_raw:
                raise PendarError(E.NATIONAL_CODE_REQUIRED)
            loaded, profile = _ca_and_profile(
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
            subject = ca_mod.subject_of(profile, _subject_fields(person))
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
                existing = conn.execute(
                    select(pendar_registrations.c.id, pendar_registrations.c.tracking_code).where(
                        pendar_registrations.c.subject_key == key
                    )
                ).first()
                if existing is not None:
                    tracking_code = existing[1]
                    conn.execute(
                        update(pendar_registrations)
                        .where(pendar_registrations.c.id == existing[0])
                        .values(**values)
                    )
            if tracking_code is None:
                tracking_code = _new_tracking_code(
                    conn, {**values, "approved": False, "registered_at": now}
                )
            active = _active_certificate(conn, loaded.name, person["NationalCode"], subject_dn, now)
            runtime.audit.append(
                conn,
                actor=f"pendar:{acct.customer_code}",
                action="pendar.register",
                subject=f"pendar.registration:{tracking_code}",
                data={
                    "ca": loaded.name,
                    "profile": profile.name,
                    "national_code": person["NationalCode"],
                    "subject": subject_dn,
                },
            )
    except PendarError as exc:
        raise _failing(exc, acct) from None
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
        "CSR": active["csr"] if active else None,
        "Certificate": base64.b64encode(bytes(active["der"])).decode() if active else None,
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
    row = (
        conn.execute(
            select(pendar_registrations).where(
                pendar_registrations.c.tracking_code == fold_digits(tracking_code.strip())
            )
        )
        .mappings()
        .first()
    )
    if row is None or (acct is not None and row["customer_id"] != acct.customer_id):
        raise PendarError(E.TRACKING_CODE_INVALID)
    if national_code is not None and row["national_code"] != fold_digits(national_code.strip()):
        raise PendarError(E.TRACKING_CODE_INVALID)
    return row


def get_tracking_code_info(runtime: Runtime, data: Fields) -> dict[str, Any]:
    acct: Account | None = None
    try:
        with runtime.db.write() as conn:
            acct = account(conn, field(data, "customercode"))
            nc, tc = field(data, "nationalcode"), field(data, "trackingcode")
            check_signature("GetTrackingCodeInfo", acct.public_key_pem, data)
            reg = _registration(conn, tc, acct, nc)
            runtime.audit.append(
                conn,
                actor=f"pendar:{acct.customer_code}",
                action="pendar.tracking_code.read",
                subject=f"pendar.registration:{reg['tracking_code']}",
            )
    except PendarError as exc:
        raise _failing(exc, acct) from None
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


# -- IssueCertificateByTrackingCode ---------------------------------------------------------------


def load_csr(text: str) -> x509.CertificateSigningRequest | None:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            return x509.load_pem_x509_csr(text.encode("ascii"))
        der = signatures.b64decode(text)
        return x509.load_der_x509_csr(der) if der else None
    except (ValueError, UnicodeEncodeError):
        return None


def load_certificate(text: str) -> x509.Certificate | None:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            return x509.load_pem_x509_certificate(text.encode("ascii"))
        der = signatures.b64decode(text)
        return x509.load_der_x509_certificate(der) if der else None
    except (ValueError, UnicodeEncodeError):
        return None


def _product_service(profile: P.Profile) -> str:
    return f"certificate.{profile.product_id}"


def _price_rule(runtime: Runtime, acct: Account, profile: P.Profile) -> billing.PriceRule:
    """The customer's price rule for this profile's product, from the account cache."""
    row = hot.account(runtime, fold_digits(acct.customer_code), checked=True)
    if row is None or row.customer_id != acct.customer_id:
        return billing.PriceRule(profile.price, None, True)
    return row.rule(_product_service(profile), profile.price)


def _charge(
    conn: Connection,
    runtime: Runtime,
    acct: Account,
    profile: P.Profile,
    payment_id: str,
    rule: billing.PriceRule,
) -> tuple[int, str]:
    """Pay for one certificate: a registered ``paymentId`` or the customer's credit, at
    ``rule`` (see :func:`_price_rule`)."""
    service = _product_service(profile)
    if payment_id:
        row = conn.execute(
            select(pendar_payments.c.amount, pendar_payments.c.used_at).where(
                and_(
                    pendar_payments.c.payment_id == payment_id,
                    pendar_payments.c.customer_id == acct.customer_id,
                )
            )
        ).first()
        if row is None or row[1] is not None:
            raise PendarError(E.PAYMENT_INVALID)
        if int(row[0]) != rule.price:
            raise PendarError(E.PAYMENT_MISMATCH)
        used = conn.execute(
            update(pendar_payments)
            .where(
                and_(
                    pendar_payments.c.payment_id == payment_id, pendar_payments.c.used_at.is_(None)
                )
            )
            .values(used_at=runtime.clock.now_utc())
        ).rowcount
        if used != 1:
            raise PendarError(E.PAYMENT_INVALID)
        billing.charge(
            conn,
            runtime.clock,
            customer_id=acct.customer_id,
            surface="pendar",
            service=service,
            default_price=0,
            rule=billing.PriceRule(0, rule.daily_limit, rule.enabled),
            track_id=payment_id,
        )
        return rule.price, "PaidByPaymentId"
    result = billing.charge(
        conn,
        runtime.clock,
        customer_id=acct.customer_id,
        surface="pendar",
        service=service,
        default_price=profile.price,
        rule=rule,
    )
    if result.outcome is billing.ChargeOutcome.INSUFFICIENT_FUNDS:
        raise PendarError(E.PAYMENT_MISMATCH, "اعتبار مشتری کافی نیست")
    if result.outcome is billing.ChargeOutcome.DAILY_LIMIT:
        raise PendarError(E.FAILED, "سقف صدور روزانه مشتری پر شده است")
    if result.outcome is billing.ChargeOutcome.DISABLED:
        raise PendarError(E.CA_NOT_GRANTED)
    return rule.price, ("PaidByCredit" if rule.price else "Free")


def _p12(
    cert: x509.Certificate, key: rsa.RSAPrivateKey, chain: list[x509.Certificate], password: str
) -> bytes:
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(password.encode("utf-8"))
    )
    return pkcs12.serialize_key_and_certificates(b"pendar", key, cert, chain, encryption)


class IssueJob:
    """One IssueCertificateByTrackingCode, in four steps so that no key operation holds the
    database's write lock.

    :meth:`prepare` does what needs no database (customer, CA and profile, price rule).
    :meth:`read` reads the registration as it stands (``conn``: any connection, one statement
    per read, outside the write transaction) and refuses what it already can (tracking code,
    approval, an active certificate, the token's form); a refusal there first verifies the
    request's signature, so that an invalid one still comes before every registration refusal.
    :meth:`sign` verifies the request's signature and the CSR's proof of possession and key
    policy, then builds and signs the certificate (no database; the route runs it as the
    batch's ``before`` step, see ``core.group_commit``, so that the batch's key operations run
    back to back; :func:`issue_certificate` runs it after :meth:`read`'s connection is given
    back). :meth:`run` is the write transaction's body: it reads the registration again (with
    the active-certificate check for its stored subject, in the same statement), unless on
    SQLite nothing can have changed it since :meth:`read`
    (:meth:`~pishkhan.core.db.Database.unchanged_since`), and, should the row differ from
    :meth:`read`'s (an approval, a new registration for the same tracking code), checks and
    signs again inside; then the charge, the certificate row and the audit entry. It only
    touches the database and this object, so it may be run again in another transaction after
    a rollback. Every step refuses with :class:`PendarError`; a refusal from
    :meth:`run` (no credit, a certificate issued meanwhile) leaves a signed certificate
    unused, which is never stored or published. :meth:`body` is the success answer once the
    transaction committed; ``acct`` is the customer once known (for the failure's usage
    record).

    The hot path: the customer (with its price rules) and CA availability come from the
    per-process caches of :mod:`.hot`, the registration (with the active-certificate check) and
    the certificate insert are pre-written SQL on the DBAPI cursor. Under the registration's
    own profile the subject is the one RegisterInfo stored (``hot.Registration.subject``)."""

    __slots__ = (
        "acct",
        "csr",
        "csr_stored",
        "data",
        "from_row",
        "issued",
        "loaded",
        "mark",
        "now",
        "p12_key",
        "password",
        "payment_id",
        "payment_status",
        "profile",
        "public_key",
        "reg",
        "request_verified",
        "row",
        "rule",
        "runtime",
        "subject",
        "tracking_code",
    )

    def __init__(self, runtime: Runtime, data: Fields) -> None:
        self.runtime = runtime
        self.data = data
        self.acct: Account | None = None
        self.public_key: Any = None
        self.csr: x509.CertificateSigningRequest | None = None
        self.p12_key: rsa.RSAPrivateKey | None = None
        self.request_verified = False

    def prepare(self) -> None:
        runtime, data = self.runtime, self.data
        self.payment_id = field(data, "paymentid")
        self.tracking_code = fold_digits(field(data, "trackingcode"))
        self.acct = acct = cached_account(runtime, field(data, "customercode"))
        ca_name = field(data, "caname")
        self.loaded, self.profile = _ca_and_profile(
            runtime, acct, ca_name, field(data, "profilename")
        )
        self.rule = _price_rule(runtime, acct, self.profile)

    def read(self, conn: Connection) -> None:
        """Read the registration as it stands and check what it rules out (outside the write
        transaction; see the class doc)."""
        now = self.runtime.clock.now_utc()
        row = hot.registration_row(conn, hot.is_postgres(conn), self.tracking_code, now)
        self.row = row
        self.mark = self.runtime.db.hot_mark(conn)  # SQLite's kept hot connection only
        try:
            self._check(conn, None if row is None else hot.registration(row), now, checked=True)
        except PendarError:
            self._verify_request()  # an invalid request signature is the answer, as it comes first
            raise

    def sign(self) -> None:
        """Verify the request's signature and the CSR (proof of possession, key policy), then
        build and sign the certificate :meth:`read` checked (for a P12 token, with a key pair
        made here)."""
        self._verify_request()
        key, csr = self.public_key, self.csr
        if csr is not None:
            if not _csr_signature_ok(csr, key):
                raise PendarError(E.FAILED, "امضای CSR نامعتبر است")
            problem = ca_mod.check_key_policy(self.profile, key)
            if problem:
                raise PendarError(E.FAILED, problem)
        self.p12_key = None
        if key is None:  # a P12 token
            self.p12_key = rsa.generate_private_key(public_exponent=65537, key_size=P12_KEY_BITS)
            key = self.p12_key.public_key()
        self.issued = ca_mod.issue(self.loaded, self.profile, self.subject, key, self.now)

    def _verify_request(self) -> None:
        """The request's signature (over the CSR text), verified once."""
        if self.request_verified:
            return
        acct, data = self.acct, self.data
        assert acct is not None
        check_signature("IssueCertificateByTrackingCode", acct.public_key_pem, data)
        self.request_verified = True

    def _check(
        self, conn: Connection, reg: hot.Registration | None, now: datetime, *, checked: bool
    ) -> None:
        """Refuse what the registration ``reg`` already rules out, else keep what
        :meth:`sign` needs. ``checked``: ``reg.subject_active`` came with ``reg`` in one
        statement and answers for its stored subject; False (a registration that changed, read
        in :meth:`run` before its subject's lock) checks for an active certificate
        separately."""
        runtime, data, loaded, profile = self.runtime, self.data, self.loaded, self.profile
        acct = self.acct
        assert acct is not None
        if reg is None or reg.customer_id != acct.customer_id:
            raise PendarError(E.TRACKING_CODE_INVALID)
        if reg.ca_name != loaded.name:
            raise PendarError(E.TRACKING_CODE_INVALID)
        if reg.approval_required and not reg.approved:
            raise PendarError(E.NOT_APPROVED)
        subject = reg.subject
        if subject is not None and reg.profile_name == profile.name:
            # the subject as registered; its active-certificate check came with the row
            active = reg.subject_active if checked else None
        else:  # another profile of the CA, or registered before the subject was stored
            subject = ca_mod.subject_of(profile, _subject_fields(reg.person))
            active = None
        if active is None:
            active = hot.has_active_certificate(
                conn, hot.is_postgres(conn), loaded.name, reg.national_code, subject.dn, now
            )
        if active:
            raise PendarError(E.ACTIVE_CERT_EXISTS)
        self.from_row = subject is reg.subject
        csr_text = field(data, "csr")
        csr: x509.CertificateSigningRequest | None = None
        csr_stored: str | None = None
        public_key: Any = None  # None: a P12 token, whose key pair sign() makes
        password = ""
        if reg.token_type == "P12":
            if csr_text.lower() not in ("none", ""):
                raise PendarError(E.FAILED, 'در توکن P12 مقدار csr باید "none" باشد')
            password = field(data, "password")
            if not password and reg.p12_password:
                password = (
                    KeyEncryptor(runtime.settings.token_secret)
                    .open(reg.p12_password)
                    .decode("utf-8")
                )
            if not password:
                raise PendarError(E.FAILED, "گذرواژه برای توکن P12 الزامی است")
        else:
            csr = load_csr(csr_text)
            if csr is None:
                raise PendarError(E.FAILED, "CSR نامعتبر است")
            public_key = csr.public_key()
            csr_stored = "".join(csr_text.split())
        self.reg, self.now, self.subject = reg, now, subject
        self.csr, self.csr_stored, self.public_key = csr, csr_stored, public_key
        self.password = password

    def run(self, conn: Connection) -> None:
        runtime, loaded, profile = self.runtime, self.loaded, self.profile
        acct = self.acct
        assert acct is not None
        postgres = hot.is_postgres(conn)
        built = self.reg
        # PostgreSQL: the person's issuances one at a time (see hot.lock_subject), taken
        # before the read below, whose last column is the active-certificate check.
        hot.lock_subject(conn, postgres, loaded.name, built.national_code)
        built_row = self.row
        assert built_row is not None  # read refused otherwise
        mark = self.mark
        if mark is not None and runtime.db.unchanged_since(
            conn, mark, (loaded.name, built.national_code)
        ):
            # Nothing was written anywhere since read() read the row, and no issuance for this
            # person came before this one in the transaction: the row, and its active-
            # certificate answer, still hold.
            row: tuple[Any, ...] | None = built_row
        else:
            row = hot.registration_row(conn, postgres, self.tracking_code, self.now)
        if row is None or row[:-1] != built_row[:-1]:
            # changed since read() (an approval, a new registration for the tracking code):
            # check and sign again, inside the transaction
            reg = None if row is None else hot.registration(row)
            if reg is not None and reg.national_code != built.national_code:
                hot.lock_subject(conn, postgres, loaded.name, reg.national_code)
            self._check(conn, reg, self.now, checked=False)
            self.sign()
        elif self.from_row:
            if row[-1]:
                raise PendarError(E.ACTIVE_CERT_EXISTS)
        elif hot.has_active_certificate(
            conn, postgres, loaded.name, built.national_code, self.subject.dn, self.now
        ):
            raise PendarError(E.ACTIVE_CERT_EXISTS)
        reg, issued, now, payment_id = self.reg, self.issued, self.now, self.payment_id
        price, self.payment_status = _charge(conn, runtime, acct, profile, payment_id, self.rule)
        cert_id = hot.insert_certificate(
            conn,
            postgres,
            {
                "ca_id": loaded.id,
                "serial": issued.serial_hex,
                "registration_id": reg.id,
                "customer_id": acct.customer_id,
                "ca_name": loaded.name,
                "profile_name": profile.name,
                "national_code": reg.national_code,
                "subject_dn": self.subject.dn,
                "cn": issued.cn,
                "der": issued.der,
                "csr": self.csr_stored,
                "fingerprint": issued.fingerprint,
                "not_before": issued.not_before,
                "not_after": issued.not_after,
                "issued_at": now,
                "price": price,
                "payment_id": payment_id or None,
            },
        )
        if payment_id:
            conn.execute(
                update(pendar_payments)
                .where(pendar_payments.c.payment_id == payment_id)
                .values(certificate_id=cert_id)
            )
        runtime.audit.append(
            conn,
            actor=f"pendar:{acct.customer_code}",
            action="pendar.certificate.issue",
            subject=f"pendar.certificate:{loaded.name}:{issued.serial_hex}",
            data={
                "tracking_code": reg.tracking_code,
                "profile": profile.name,
                "price": price,
                "payment": self.payment_status,
            },
            at=now,
        )

    def body(self) -> dict[str, Any]:
        issued, loaded = self.issued, self.loaded
        body: dict[str, Any] = {
            "IsSuccess": True,
            "Certificate": base64.b64encode(issued.der).decode("ascii"),
            "PaymentStatus": self.payment_status,
            "Description": "",
            "CN": issued.cn,
            "IssuerName": loaded.issuer_display,
            "ValidFrom": wire_time(issued.not_before),
            "ValidTo": wire_time(issued.not_after),
            "ErrorCode": 0,
            "ErrorMessage": "",
        }
        if self.p12_key is not None:
            body["P12"] = base64.b64encode(
                _p12(issued.certificate, self.p12_key, loaded.chain(), self.password)
            ).decode("ascii")
        return body


def failing(exc: PendarError, job: IssueJob) -> PendarError:
    """``exc`` tagged with the job's customer (for the failure's usage record)."""
    return _failing(exc, job.acct)


def issue_certificate(
    runtime: Runtime, data: Fields, write: WriteTx | None = None
) -> dict[str, Any]:
    """``write`` opens the transaction (``Database.write`` by default; ``Database.hot_write``
    when run inline on SQLite). See :class:`IssueJob`; the route batches the transactions of
    concurrent issuances on SQLite (:func:`.hot.issue_group`)."""
    ca_mod.hierarchy(runtime)
    job = IssueJob(runtime, data)
    try:
        job.prepare()
        with runtime.db.read() as conn:
            job.read(conn)
        job.sign()  # the key operations with no connection held
        with (write or runtime.db.write)() as conn:
            job.run(conn)
    except PendarError as exc:
        raise _failing(exc, job.acct) from None
    return job.body()


_RSA_SHA256 = SignatureAlgorithmOID.RSA_WITH_SHA256
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def _csr_signature_ok(csr: x509.CertificateSigningRequest, key: Any) -> bool:
    """Proof of possession, including SHA-1 signed CSRs (as some mobile clients send);
    ``key`` is ``csr.public_key()``."""
    if isinstance(key, rsa.RSAPublicKey) and csr.signature_algorithm_oid == _RSA_SHA256:
        # The common case, verified with the key directly (what ``is_signature_valid`` does for
        # it, at two thirds of the cost); a failure takes the general way below.
        try:
            key.verify(csr.signature, csr.tbs_certrequest_bytes, _PKCS1V15, _SHA256)
        except InvalidSignature:
            pass
        else:
            return True
    if csr.is_signature_valid:
        return True
    algorithm = csr.signature_hash_algorithm
    if algorithm is None:
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(csr.signature, csr.tbs_certrequest_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(csr.signature, csr.tbs_certrequest_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


# -- RevokeCertificate / RecievedCertConfirmation -------------------------------------------------


def _certificate_row(conn: Connection, runtime: Runtime, text: str) -> RowMapping:
    cert = load_certificate(text)
    if cert is None:
        raise PendarError(E.CERT_NOT_FOUND)
    loaded = ca_mod.hierarchy(runtime).by_subject(cert.issuer)
    if loaded is None:
        raise PendarError(E.CERT_NOT_FOUND)
    row = (
        conn.execute(
            select(pendar_certificates).where(
                and_(
                    pendar_certificates.c.ca_id == loaded.id,
                    pendar_certificates.c.serial == ca_mod.serial_hex(cert.serial_number),
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None or bytes(row["der"]) != cert.public_bytes(serialization.Encoding.DER):
        raise PendarError(E.CERT_NOT_FOUND)
    return row


def revoke_certificate(runtime: Runtime, data: Fields) -> dict[str, Any]:
    h = ca_mod.hierarchy(runtime)
    acct: Account | None = None
    try:
        with runtime.db.write() as conn:
            acct = account(conn, field(data, "customercode"))
            text = check_signature("RevokeCertificate", acct.public_key_pem, data)
            row = _certificate_row(conn, runtime, text)
            if row["customer_id"] != acct.customer_id:
                raise PendarError(E.NOT_YOUR_CERT)
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
            changed = conn.execute(
                update(pendar_certificates)
                .where(
                    and_(
                        pendar_certificates.c.id == row["id"],
                        pendar_certificates.c.status == "Issued",
                    )
                )
                .values(status="Revoked", revoked_at=now, revoke_reason=reason)
            ).rowcount
            if changed != 1:
                raise PendarError(E.ALREADY_REVOKED)
            loaded = h.by_id[int(row["ca_id"])]
            number, _der = crl_mod.regenerate(conn, loaded, now)
            runtime.audit.append(
                conn,
                actor=f"pendar:{acct.customer_code}",
                action="pendar.certificate.revoke",
                subject=f"pendar.certificate:{loaded.name}:{row['serial']}",
                data={"reason": reason, "crl_number": number},
            )
    except PendarError as exc:
        raise _failing(exc, acct) from None
    return {
        "IsSuccess": True,
        "Description": "گواهی با موفقیت ابطال شد",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }


def received_cert_confirmation(runtime: Runtime, data: Fields) -> dict[str, Any]:
    ca_mod.hierarchy(runtime)
    acct: Account | None = None
    try:
        with runtime.db.write() as conn:
            acct = account(conn, field(data, "customercode"))
            text = check_signature("RecievedCertConfirmation", acct.public_key_pem, data)
            row = _certificate_row(conn, runtime, text)
            if row["customer_id"] != acct.customer_id:
                raise PendarError(E.NOT_YOUR_CERT)
            tc = conn.execute(
                select(pendar_registrations.c.tracking_code).where(
                    pendar_registrations.c.id == row["registration_id"]
                )
            ).scalar_one()
            if tc != fold_digits(field(data, "trackingcode")):
                raise PendarError(E.TRACKING_CODE_INVALID)
            if row["received_at"] is None:
                conn.execute(
                    update(pendar_certificates)
                    .where(pendar_certificates.c.id == row["id"])
                    .values(received_at=runtime.clock.now_utc())
                )
            runtime.audit.append(
                conn,
                actor=f"pendar:{acct.customer_code}",
                action="pendar.certificate.received",
                subject=f"pendar.certificate:{row['ca_name']}:{row['serial']}",
                data={"tracking_code": tc},
            )
    except PendarError as exc:
        raise _failing(exc, acct) from None
    return {"IsSuccess": True, "Description": "", "ErrorCode": 0, "ErrorMessage": ""}


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
    rows = list(
        conn.execute(
            select(pendar_approvers).where(pendar_approvers.c.customer_id == acct.customer_id)
        ).mappings()
    )
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
        elsewhere = conn.execute(
            select(func.count())
            .select_from(pendar_approvers)
            .where(pendar_approvers.c.fingerprint == fingerprint)
        ).scalar_one()
        raise PendarError(E.APPROVER_NOT_ALLOWED if (elsewhere or ours) else E.APPROVER_UNKNOWN)
    verify = cms.verify
    if not callable(verify) or not verify(cert):
        raise PendarError(E.APPROVER_SIGNATURE_INVALID)
    revoked = bool(row["revoked"])
    if ours is not None:
        # By (issuer, serial), the certificates' key; the row is this certificate only if the
        # fingerprints agree.
        found = conn.execute(
            select(pendar_certificates.c.status, pendar_certificates.c.fingerprint).where(
                and_(
                    pendar_certificates.c.ca_id == ours.id,
                    pendar_certificates.c.serial == ca_mod.serial_hex(cert.serial_number),
                )
            )
        ).first()
        status = found[0] if found is not None and found[1] == fingerprint else None
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
    acct: Account | None = None
    try:
        with runtime.db.write() as conn:
            acct = account(conn, field(data, "customercode"))
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
            conn.execute(
                update(pendar_registrations)
                .where(pendar_registrations.c.id == reg["id"])
                .values(
                    approved=True,
                    approver=approver or None,
                    approval_method=method,
                    order_id=order_id or None,
                    approved_at=now,
                    updated_at=now,
                )
            )
            runtime.audit.append(
                conn,
                actor=f"pendar:{acct.customer_code}",
                action="pendar.approve",
                subject=f"pendar.registration:{reg['tracking_code']}",
                data={
                    "approver": approver,
                    "method": method,
                    "order_id": order_id or None,
                    "approver_certificate": approver_fp,
                },
            )
    except PendarError as exc:
        raise _failing(exc, acct) from None
    return {
        "ResultCode": True,
        "Description": "",
        "Message": "Success",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }


# -- reports --------------------------------------------------------------------------------------


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


def _active_list(runtime: Runtime, conditions: list[Any]) -> list[dict[str, Any]]:
    h = ca_mod.hierarchy(runtime)
    now = runtime.clock.now_utc()
    with runtime.db.read() as conn:
        rows = conn.execute(
            select(pendar_certificates, pendar_registrations.c.tracking_code)
            .join(
                pendar_registrations,
                and_(
                    pendar_registrations.c.id == pendar_certificates.c.registration_id,
                    # always true (a certificate has its registration's national code): lets a
                    # lookup by tracking code reach the certificates through their index
                    pendar_registrations.c.national_code == pendar_certificates.c.national_code,
                ),
            )
            .where(
                and_(
                    pendar_certificates.c.status == "Issued",
                    pendar_certificates.c.not_after > now,
                    *conditions,
                )
            )
            .order_by(pendar_certificates.c.id)
        ).mappings()
        return [
            _cert_item(r, r["tracking_code"], h.by_id[int(r["ca_id"])].issuer_display) for r in rows
        ]


def get_all_cert(runtime: Runtime, data: Fields) -> list[dict[str, Any]]:
    code = fold_digits(field(data, "serialnumber"))
    if not code:  # the method's one parameter, not optional in the document
        raise PendarError(E.NATIONAL_CODE_REQUIRED)
    return _active_list(runtime, [pendar_certificates.c.national_code == code])


def get_all_mobile_cert(runtime: Runtime, data: Fields) -> list[dict[str, Any]]:
    nc = fold_digits(field(data, "nationalcode"))
    tc = fold_digits(field(data, "trackingcode"))
    conditions: list[Any] = []
    if tc:  # the document: one of the two is mandatory, the tracking code wins
        conditions.append(pendar_registrations.c.tracking_code == tc)
    elif nc:
        conditions.append(pendar_certificates.c.national_code == nc)
    else:  # told apart from "no certificates" (the empty array)
        raise PendarError(E.NATIONAL_CODE_REQUIRED)
    ca_name = field(data, "caname")
    if ca_name:
        conditions.append(pendar_certificates.c.ca_name == ca_name)
    customer = field(data, "customercode")
    if customer:
        with runtime.db.read() as conn:
            try:
                acct = account(conn, customer, bare=True)
            except PendarError:
                return []
        conditions.append(pendar_certificates.c.customer_id == acct.customer_id)
    return _active_list(runtime, conditions)


def get_user_cert_history(runtime: Runtime, data: Fields) -> dict[str, Any]:
    h = ca_mod.hierarchy(runtime)
    acct: Account | None = None
    try:
        with runtime.db.write() as conn:
            acct = account(conn, field(data, "customercode"))
            serial_number = field(data, "serialnumber")
            check_signature("GetUserCertHistory", acct.public_key_pem, data)
            nc = fold_digits(serial_number)
            regs = list(
                conn.execute(
                    select(pendar_registrations)
                    .where(
                        and_(
                            pendar_registrations.c.customer_id == acct.customer_id,
                            pendar_registrations.c.national_code == nc,
                        )
                    )
                    .order_by(pendar_registrations.c.id)
                ).mappings()
            )
            certs: dict[int, list[RowMapping]] = {}
            if regs:
                for c in conn.execute(
                    select(pendar_certificates)
                    .where(
                        and_(
                            # the registrations' national code: the indexed way to their
                            # certificates
                            pendar_certificates.c.national_code == nc,
                            pendar_certificates.c.registration_id.in_([r["id"] for r in regs]),
                        )
                    )
                    .order_by(pendar_certificates.c.id)
                ).mappings():
                    certs.setdefault(int(c["registration_id"]), []).append(c)
            runtime.audit.append(
                conn,
                actor=f"pendar:{acct.customer_code}",
                action="pendar.history.read",
                subject=f"pendar.person:{nc}",
            )
    except PendarError as exc:
        raise _failing(exc, acct) from None
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


def _report_account(conn: Connection, data: Fields) -> Account:
    acct = account(conn, field(data, "customercode"), bare=True)
    if not verify_secret(field(data, "reportkey"), acct.report_key_hash):
        raise PendarError(E.CUSTOMER_INVALID)
    return acct


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
    acct: Account | None = None
    try:
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
        with runtime.db.write() as conn:
            acct = _report_account(conn, data)
            cid = acct.customer_id
            c = pendar_certificates.c
            regs = conn.execute(
                select(
                    pendar_registrations.c.ca_name,
                    pendar_registrations.c.profile_name,
                    func.count(),
                )
                .where(
                    and_(
                        pendar_registrations.c.customer_id == cid,
                        pendar_registrations.c.registered_at >= lo,
                        pendar_registrations.c.registered_at < hi,
                    )
                )
                .group_by(pendar_registrations.c.ca_name, pendar_registrations.c.profile_name)
            ).all()
            in_window = or_(
                and_(c.issued_at >= lo, c.issued_at < hi),
                and_(c.revoked_at >= lo, c.revoked_at < hi),
            )
            cond = [c.customer_id == cid, in_window]
            if kind == "detail":
                after = field(data, "id")
                cond.append(c.id > _after_id(after))
            certs = list(
                conn.execute(
                    select(
                        c.id,
                        c.ca_name,
                        c.profile_name,
                        c.status,
                        c.serial,
                        c.national_code,
                        c.issued_at,
                        c.revoked_at,
                        pendar_registrations.c.tracking_code,
                    )
                    .join(pendar_registrations, pendar_registrations.c.id == c.registration_id)
                    .where(and_(*cond))
                    .order_by(c.id)
                    .limit(REPORT_PAGE if kind == "detail" else None)
                ).mappings()
            )
            runtime.audit.append(
                conn,
                actor=f"pendar:{acct.customer_code}",
                action="pendar.report",
                subject=f"customer:{cid}",
                data={"type": kind, "start": start.isoformat(), "end": end.isoformat()},
            )
    except PendarError as exc:
        raise _failing(exc, acct) from None

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
    acct: Account | None = None
    try:
        with runtime.db.write() as conn:
            acct = _report_account(conn, data)
            balance = conn.execute(
                select(wallets.c.balance).where(
                    and_(
                        wallets.c.customer_id == acct.customer_id,
                        wallets.c.wallet == "pendar.credit",
                    )
                )
            ).scalar_one_or_none()
            runtime.audit.append(
                conn,
                actor=f"pendar:{acct.customer_code}",
                action="pendar.credit.read",
                subject=f"customer:{acct.customer_id}",
            )
    except PendarError as exc:
        raise _failing(exc, acct) from None
    return {
        "IsSuccess": True,
        "Credit": str(int(balance or 0)),
        "Description": "",
        "ErrorCode": 0,
        "ErrorMessage": "",
    }


def record_failure(runtime: Runtime, customer_id: int, method: str, code: int) -> None:
    """Count a refused call in the usage ledger (never charged), after its transaction rolled back."""
    with runtime.db.write() as conn:
        billing.record_failure(
            conn,
            runtime.clock,
            customer_id=customer_id,
            surface="pendar",
            service=method,
            outcome=str(code),
        )


def new_payment(
    conn: Connection, runtime: Runtime, customer_id: int, payment_id: str, amount: int
) -> dict[str, Any]:
    conn.execute(
        insert(pendar_payments).values(
            payment_id=payment_id,
            customer_id=customer_id,
            amount=amount,
            created_at=runtime.clock.now_utc(),
        )
    )
    return {"payment_id": payment_id, "amount": amount}
