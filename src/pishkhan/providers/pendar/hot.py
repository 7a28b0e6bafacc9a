"""The IssueCertificateByTrackingCode hot path: the account lookup, CA availability and
pre-written SQL.

Accounts (with their Pendar price rules) come from the process's credential cache
(:mod:`pishkhan.tenants.cache`): disabling a customer, rotating its key, changing its grants,
switches or a price is seen by the next request of every process. CA availability is read at
most once per ``ttl`` seconds per process (the sandbox state refresh interval, 1 s by default;
0 in tests): marking a CA unavailable takes effect everywhere within that interval, and at once
in the process whose admin API made it (:func:`forget`).

The statements of the issuance transaction are :class:`~pishkhan.core.db.DriverSQL` (run on the
DBAPI cursor): through SQLAlchemy Core each cost several times what the database takes to run it.
Values are passed in the driver's storage form (SQLite: naive UTC datetimes as text, booleans as
0/1) and rows come back as tuples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection

from pishkhan.core.caches import PerDatabase
from pishkhan.core.db import Database, DriverSQL, sqlite_time
from pishkhan.core.group_commit import GroupCommit
from pishkhan.iran import fold_digits
from pishkhan.runtime import Runtime
from pishkhan.tenants import cache
from pishkhan.tenants.billing import PriceRule, PriceRules
from pishkhan.tenants.cache import Lookup
from pishkhan.tenants.tables import customers, pendar_accounts

from .ca import Subject
from .errors import PendarError
from .tables import pendar_cas

SURFACE: Final = "pendar"


@dataclass(frozen=True)
class AccountRow:
    customer_id: int
    customer_code: str
    license_number: str
    public_key_pem: str
    report_key_hash: str
    settings: dict[str, Any]
    active: bool
    rules: PriceRules = field(default_factory=lambda: PriceRules({}))

    def rule(self, service: str, default_price: int) -> PriceRule:
        return self.rules.rule(service, default_price)


def load_account(conn: Connection, code: str, *, rules: bool = True) -> AccountRow | None:
    """The account of a (digit-folded) customer code read on ``conn`` (with its price rules
    unless ``rules`` is false), or None."""
    row = conn.execute(
        select(
            pendar_accounts.c.customer_id,
            pendar_accounts.c.customer_code,
            pendar_accounts.c.license_number,
            pendar_accounts.c.public_key_pem,
            pendar_accounts.c.report_key_hash,
            pendar_accounts.c.settings,
            customers.c.status,
        )
        .join(customers, customers.c.id == pendar_accounts.c.customer_id)
        .where(pendar_accounts.c.customer_code == code)
    ).first()
    if row is None:
        return None
    return AccountRow(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        dict(row[5] or {}),
        row[6] == "active",
        PriceRules.load(conn, int(row[0]), SURFACE) if rules else PriceRules({}),
    )


#: Accounts by (digit-folded) customer code, in the credential cache.
ACCOUNTS: Final[Lookup[str, AccountRow]] = Lookup(
    "pendar.customer_code", lambda conn, code, _epoch: load_account(conn, code)
)


def account(runtime: Runtime, code: str, *, checked: bool = False) -> AccountRow | None:
    """The account of a (digit-folded) customer code from the credential cache, or None; the
    credential epoch is read first unless ``checked`` (this request's customer check just did)."""
    found = cache.of(runtime.db, runtime.settings.credential_refresh)
    return (found.latest() if checked else found.fresh()).get(ACCOUNTS, code)


class Caches:
    """CA availability by CA id, kept ``ttl`` seconds."""

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._available: tuple[float, dict[int, bool]] | None = None

    def available(self, ca_id: int) -> bool:
        hit = self._available
        now = time.monotonic()
        if hit is None or now - hit[0] >= self._ttl:
            with self._db.read() as conn:
                rows = conn.execute(select(pendar_cas.c.id, pendar_cas.c.available)).all()
            hit = self._available = (now, {int(r[0]): bool(r[1]) for r in rows})
        return hit[1].get(ca_id, False)

    def clear(self) -> None:
        self._available = None


_caches: PerDatabase[Caches] = PerDatabase()


def caches(runtime: Runtime) -> Caches:
    return _caches.get(runtime.db, Caches, runtime.db, runtime.state.refresh_seconds)


def forget(runtime: Runtime) -> None:
    """Drop this process's CA availability (after an admin change)."""
    found = _caches.peek(runtime.db)
    if found is not None:
        found.clear()


def account_code(customercode: str) -> str:
    return fold_digits(customercode.strip().partition("-")[0])


# -- pre-written SQL ------------------------------------------------------------------------------

#: The registration of a tracking code and whether its stored subject already has an active
#: certificate on its CA (the last column: what :data:`ACTIVE_CERTIFICATE` answers for it), in
#: one statement.
REGISTRATION: Final = DriverSQL(
    "SELECT r.id, r.tracking_code, r.customer_id, r.ca_name, r.national_code, r.person, "
    "r.token_type, r.p12_password, r.approval_required, r.approved, r.profile_name, "
    "r.subject_der, r.subject_dn, r.subject_cn, EXISTS (SELECT 1 FROM pendar_certificates c "
    "WHERE c.national_code = r.national_code AND c.ca_name = r.ca_name "
    "AND c.subject_dn = r.subject_dn AND c.status = 'Issued' AND c.not_after > :now) "
    "FROM pendar_registrations r WHERE r.tracking_code = :tc"
)
ACTIVE_CERTIFICATE: Final = DriverSQL(
    "SELECT id FROM pendar_certificates "
    "WHERE national_code = :nc AND ca_name = :ca AND subject_dn = :dn "
    "AND status = 'Issued' AND not_after > :now LIMIT 1"
)
_INSERT_CERTIFICATE_TEXT: Final = (
    "INSERT INTO pendar_certificates (ca_id, serial, registration_id, customer_id, ca_name, "
    "profile_name, national_code, subject_dn, cn, der, csr, fingerprint, not_before, not_after, "
    "status, issued_at, price, payment_id) VALUES (:ca_id, :serial, :registration_id, "
    ":customer_id, :ca_name, :profile_name, :national_code, :subject_dn, :cn, :der, :csr, "
    ":fingerprint, :not_before, :not_after, 'Issued', :issued_at, :price, :payment_id)"
)
#: PostgreSQL: the new id comes back with ``RETURNING``.
INSERT_CERTIFICATE: Final = DriverSQL(_INSERT_CERTIFICATE_TEXT + " RETURNING id")
#: SQLite: the new id is the cursor's ``lastrowid`` (the table's INTEGER PRIMARY KEY is the
#: rowid); without ``RETURNING`` the statement completes in its one step.
INSERT_CERTIFICATE_SQLITE: Final = DriverSQL(_INSERT_CERTIFICATE_TEXT)


@dataclass(frozen=True)
class Registration:
    id: int
    tracking_code: str
    customer_id: int
    ca_name: str
    national_code: str
    #: the registered person as the driver gives it (JSON text on SQLite); see :attr:`person`
    person_stored: Any
    token_type: str
    p12_password: bytes | None
    approval_required: bool
    approved: bool
    profile_name: str
    #: the subject as registered (None for rows registered before migration 0008)
    subject: Subject | None
    #: whether that subject has an active certificate on the registration's CA
    subject_active: bool

    @property
    def person(self) -> dict[str, Any]:
        """The registered person, parsed when asked for: an issuance under the registration's
        own profile signs the stored subject and never needs it."""
        person = self.person_stored
        if isinstance(person, str | bytes):
            person = orjson.loads(person)
        return dict(person or {})


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def db_time(postgres: bool, value: datetime) -> Any:
    """A timestamp in the driver's storage form (SQLAlchemy's SQLite form: naive UTC text)."""
    return value if postgres else sqlite_time(value)


def registration_row(
    conn: Connection, postgres: bool, tracking_code: str, now: datetime
) -> tuple[Any, ...] | None:
    """The :data:`REGISTRATION` row as the driver gives it (compare two of them to tell whether
    the registration changed in between; :func:`registration` makes it a value)."""
    row = REGISTRATION.run(conn, {"tc": tracking_code, "now": db_time(postgres, now)}).fetchone()
    return None if row is None else tuple(row)


def registration(row: tuple[Any, ...]) -> Registration:
    password, der = row[7], row[11]
    return Registration(
        int(row[0]),
        row[1],
        int(row[2]),
        row[3],
        row[4],
        row[5],
        row[6],
        None if password is None else bytes(password),
        bool(row[8]),
        bool(row[9]),
        row[10],
        None if der is None else Subject(bytes(der), row[12], row[13] or ""),
        bool(row[14]),
    )


#: PostgreSQL: issuances for one person on one CA run one at a time (the lock is held to the end
#: of the transaction), so the active-certificate check of the later sees the earlier's row.
#: (SQLite serializes every write transaction already.) Two int4 keys: a space of their own,
#: apart from the single-key audit lock.
_SUBJECT_LOCK_PG: Final = DriverSQL(
    "SELECT pg_advisory_xact_lock(7410006, hashtext(:ca || '/' || :nc))"
)


def lock_subject(conn: Connection, postgres: bool, ca_name: str, national_code: str) -> None:
    """Serialize the issuances of ``national_code`` on ``ca_name`` (PostgreSQL; see above)."""
    if postgres:
        _SUBJECT_LOCK_PG.run(conn, {"ca": ca_name, "nc": national_code})


def has_active_certificate(
    conn: Connection,
    postgres: bool,
    ca_name: str,
    national_code: str,
    subject_dn: str,
    now: datetime,
) -> bool:
    params = {"nc": national_code, "ca": ca_name, "dn": subject_dn, "now": db_time(postgres, now)}
    return ACTIVE_CERTIFICATE.run(conn, params).fetchone() is not None


def insert_certificate(conn: Connection, postgres: bool, values: dict[str, Any]) -> int:
    params = dict(values)
    for key in ("not_before", "not_after", "issued_at"):
        params[key] = db_time(postgres, params[key])
    if postgres:
        row = INSERT_CERTIFICATE.run(conn, params).fetchone()
        return int(row[0])
    return int(INSERT_CERTIFICATE_SQLITE.run(conn, params).lastrowid)


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
