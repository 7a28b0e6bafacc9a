"""Issuance: IssueCertificateByTrackingCode (:class:`IssueJob`), its charge, and the batching of
concurrent issuances' transactions on SQLite (the rules and transactions; no HTTP)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import SignatureAlgorithmOID
from sqlalchemy.engine import Connection

from pishkhan.core.caches import PerDatabase
from pishkhan.core.db import Database
from pishkhan.core.group_commit import GroupCommit
from pishkhan.iran import fold_digits
from pishkhan.runtime import Runtime
from pishkhan.tenants import billing

from . import ca as ca_mod
from . import caches, sql
from . import errors as E
from . import profiles as P
from .accounts import audit, cached_account, failing
from .authorities import ca_and_profile
from .caches import Account
from .errors import PendarError
from .registration import subject_fields
from .signer import KeyEncryptor
from .wire import Fields, check_signature, field, load_csr, wire_time

P12_KEY_BITS = 2048


def _product_service(profile: P.Profile) -> str:
    return f"certificate.{profile.product_id}"


def _price_rule(runtime: Runtime, acct: Account, profile: P.Profile) -> billing.PriceRule:
    """The customer's price rule for this profile's product, from the account cache."""
    row = caches.account(runtime, fold_digits(acct.customer_code), checked=True)
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
        row = sql.payment(conn, payment_id, acct.customer_id)
        if row is None or row[1] is not None:
            raise PendarError(E.PAYMENT_INVALID)
        if int(row[0]) != rule.price:
            raise PendarError(E.PAYMENT_MISMATCH)
        if not sql.use_payment(conn, payment_id, runtime.clock.now_utc()):
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
    policy, then builds and signs the certificate (no database; :func:`issue_batched` runs it
    as the batch's ``before`` step, see ``core.group_commit``, so that the batch's key
    operations run back to back; :func:`issue_certificate` runs it after :meth:`read`'s
    connection is given back). :meth:`run` is the write transaction's body: it reads the
    registration again (with the active-certificate check for its stored subject, in the same
    statement), unless on SQLite nothing can have changed it since :meth:`read`
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
    per-process caches of :mod:`.caches`, the registration (with the active-certificate check)
    and the certificate insert are pre-written SQL on the DBAPI cursor (:mod:`.sql`). Under the
    registration's own profile the subject is the one RegisterInfo stored
    (``sql.Registration.subject``)."""

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
        self.loaded, self.profile = ca_and_profile(
            runtime, acct, ca_name, field(data, "profilename")
        )
        self.rule = _price_rule(runtime, acct, self.profile)

    def read(self, conn: Connection) -> None:
        """Read the registration as it stands and check what it rules out (outside the write
        transaction; see the class doc)."""
        now = self.runtime.clock.now_utc()
        row = sql.registration_row(conn, sql.is_postgres(conn), self.tracking_code, now)
        self.row = row
        self.mark = self.runtime.db.hot_mark(conn)  # SQLite's kept hot connection only
        try:
            self._check(conn, None if row is None else sql.registration(row), now, checked=True)
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
        self, conn: Connection, reg: sql.Registration | None, now: datetime, *, checked: bool
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
            subject = ca_mod.subject_of(profile, subject_fields(reg.person))
            active = None
        if active is None:
            active = (
                sql.active_certificate(conn, loaded.name, reg.national_code, subject.dn, now)
                is not None
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
        postgres = sql.is_postgres(conn)
        built = self.reg
        # PostgreSQL: the person's issuances one at a time (see sql.lock_subject), taken
        # before the read below, whose last column is the active-certificate check.
        sql.lock_subject(conn, postgres, loaded.name, built.national_code)
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
            row = sql.registration_row(conn, postgres, self.tracking_code, self.now)
        if row is None or row[:-1] != built_row[:-1]:
            # changed since read() (an approval, a new registration for the tracking code):
            # check and sign again, inside the transaction
            reg = None if row is None else sql.registration(row)
            if reg is not None and reg.national_code != built.national_code:
                sql.lock_subject(conn, postgres, loaded.name, reg.national_code)
            self._check(conn, reg, self.now, checked=False)
            self.sign()
        elif self.from_row:
            if row[-1]:
                raise PendarError(E.ACTIVE_CERT_EXISTS)
        elif sql.active_certificate(
            conn, loaded.name, built.national_code, self.subject.dn, self.now
        ):
            raise PendarError(E.ACTIVE_CERT_EXISTS)
        reg, issued, now, payment_id = self.reg, self.issued, self.now, self.payment_id
        price, self.payment_status = _charge(conn, runtime, acct, profile, payment_id, self.rule)
        cert_id = sql.insert_certificate(
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
            sql.pay_certificate(conn, payment_id, cert_id)
        audit(
            runtime,
            conn,
            acct,
            "pendar.certificate.issue",
            f"pendar.certificate:{loaded.name}:{issued.serial_hex}",
            {
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


def issue_certificate(runtime: Runtime, data: Fields) -> dict[str, Any]:
    """See :class:`IssueJob`; on SQLite the route runs :func:`issue_batched` instead, once the
    CA hierarchy is loaded."""
    ca_mod.hierarchy(runtime)
    job = IssueJob(runtime, data)
    try:
        job.prepare()
        with runtime.db.read() as conn:
            job.read(conn)
        job.sign()  # the key operations with no connection held
        with runtime.db.write() as conn:
            job.run(conn)
    except PendarError as exc:
        raise failing(exc, job.acct) from None
    return job.body()


async def issue_batched(runtime: Runtime, batcher: GroupCommit, data: Fields) -> dict[str, Any]:
    """:func:`issue_certificate` on SQLite, on the event loop: the registration read on the kept
    hot connection, the transaction in ``batcher``'s next batch (see :func:`issue_group`), whose
    signatures run back to back outside the write lock. The CA hierarchy must be loaded."""
    job = IssueJob(runtime, data)
    try:
        job.prepare()
        with runtime.db.hot_read() as conn:
            job.read(conn)
        await batcher.run(job.run, before=job.sign)
    except PendarError as exc:
        raise failing(exc, job.acct) from None
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


# -- batched issuance transactions (SQLite) -------------------------------------------------------

#: Issuances committed together at most.
MAX_BATCH: Final = 16


def issue_group(db: Database) -> GroupCommit:
    """Issuance transactions of concurrent requests committed together (``core.group_commit``).
    An issuance normally refuses before its first write (the registration and
    active-certificate checks come first), so no savepoints: such a :class:`PendarError`
    refusal keeps nothing of its issuance and the others still commit; a refusal after a write
    (the charge's: no credit left, a daily limit reached) has the batch redone one issuance per
    transaction."""
    return GroupCommit(
        db, MAX_BATCH, refusals=(PendarError,), savepoints=False, name="pendar.issue"
    )


_batchers: PerDatabase[GroupCommit] = PerDatabase()


def batcher(runtime: Runtime) -> GroupCommit:
    """This process's issuance batcher for the runtime's database."""
    return _batchers.get(runtime.db, issue_group, runtime.db)


def new_payment(
    conn: Connection, runtime: Runtime, customer_id: int, payment_id: str, amount: int
) -> dict[str, Any]:
    """Register a payment a customer may pay one certificate with (``paymentId``)."""
    sql.insert_payment(conn, payment_id, customer_id, amount, runtime.clock.now_utc())
    return {"payment_id": payment_id, "amount": amount}
