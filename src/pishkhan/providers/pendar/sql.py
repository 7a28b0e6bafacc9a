"""The SQL statements of the Pendar surface, each written once and used by every path.

The statements of the issuance transaction (and the reads the other methods share with it) are
:class:`~pishkhan.core.db.DriverSQL` (run on the DBAPI cursor): through SQLAlchemy Core each
cost several times what the database takes to run it. Values are passed in the driver's storage
form (SQLite: naive UTC datetimes as text, booleans as 0/1) and rows come back as tuples. The
other methods' statements are SQLAlchemy Core.

A certificate is *active* while it is issued (not revoked) and unexpired: :func:`_active_sql`
says it once, for the registration read's check of its stored subject, for
:data:`ACTIVE_CERTIFICATE` and for the lists of active certificates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson
from sqlalchemy import TextClause, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection, Row, RowMapping

from pishkhan.core.db import DriverSQL, sqlite_time
from pishkhan.tenants.tables import wallets
from pishkhan.world.tables import world_addresses, world_people, world_sims

from .ca import Subject
from .tables import (
    pendar_approvers,
    pendar_cas,
    pendar_certificates,
    pendar_payments,
    pendar_registrations,
)


def _active_sql(table: str) -> str:
    """The rule: a certificate (a row of ``table``, ``pendar_certificates`` or an alias of it)
    is active at ``:now`` while it is issued (not revoked) and unexpired."""
    return f"{table}.status = 'Issued' AND {table}.not_after > :now"


def _active_where(national_code: str, ca_name: str, subject_dn: str) -> str:
    """The condition on ``pendar_certificates c``: an active certificate with this subject on
    this CA (the subject carries the national code, whose index keeps the lookup cheap)."""
    return (
        f"c.national_code = {national_code} AND c.ca_name = {ca_name} "
        f"AND c.subject_dn = {subject_dn} AND {_active_sql('c')}"
    )


# -- the registration read and the issuance transaction ------------------------------------------

#: The registration of a tracking code and whether its stored subject already has an active
#: certificate on its CA (the last column: what :data:`ACTIVE_CERTIFICATE` answers for it), in
#: one statement.
REGISTRATION: Final = DriverSQL(
    "SELECT r.id, r.tracking_code, r.customer_id, r.ca_name, r.national_code, r.person, "
    "r.token_type, r.p12_password, r.approval_required, r.approved, r.profile_name, "
    "r.subject_der, r.subject_dn, r.subject_cn, EXISTS (SELECT 1 FROM pendar_certificates c "
    f"WHERE {_active_where('r.national_code', 'r.ca_name', 'r.subject_dn')}) "
    "FROM pendar_registrations r WHERE r.tracking_code = :tc"
)
#: The newest active certificate with a subject on a CA: its DER and the CSR it was issued for.
ACTIVE_CERTIFICATE: Final = DriverSQL(
    f"SELECT c.der, c.csr FROM pendar_certificates c WHERE {_active_where(':nc', ':ca', ':dn')} "
    "ORDER BY c.id DESC LIMIT 1"
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


def active_certificate(
    conn: Connection, ca_name: str, national_code: str, subject_dn: str, now: datetime
) -> tuple[bytes, str | None] | None:
    """The :data:`ACTIVE_CERTIFICATE` with this subject on ``ca_name`` at ``now`` (its DER and
    CSR), or None."""
    params = {
        "nc": national_code,
        "ca": ca_name,
        "dn": subject_dn,
        "now": db_time(is_postgres(conn), now),
    }
    row = ACTIVE_CERTIFICATE.run(conn, params).fetchone()
    return None if row is None else (bytes(row[0]), row[1])


def insert_certificate(conn: Connection, postgres: bool, values: dict[str, Any]) -> int:
    params = dict(values)
    for key in ("not_before", "not_after", "issued_at"):
        params[key] = db_time(postgres, params[key])
    if postgres:
        row = INSERT_CERTIFICATE.run(conn, params).fetchone()
        return int(row[0])
    return int(INSERT_CERTIFICATE_SQLITE.run(conn, params).lastrowid)


# -- the other methods' statements (SQLAlchemy Core) ----------------------------------------------


def _active(table: str, now: datetime) -> TextClause:
    """:func:`_active_sql` for SQLAlchemy Core: ``table``'s rows active at ``now``."""
    return text(_active_sql(table)).bindparams(
        bindparam("now", now, type_=pendar_certificates.c.not_after.type)
    )


def ca_available(conn: Connection, ca_id: int) -> bool:
    return bool(
        conn.execute(select(pendar_cas.c.available).where(pendar_cas.c.id == ca_id)).scalar_one()
    )


def world_person(conn: Connection, national_code: str) -> RowMapping | None:
    """The civil registry's record of a national code."""
    return (
        conn.execute(select(world_people).where(world_people.c.national_code == national_code))
        .mappings()
        .first()
    )


def sim_owner(conn: Connection, mobile: str) -> str | None:
    """The national code a mobile number is registered to (Shahkar)."""
    return conn.execute(
        select(world_sims.c.national_code).where(world_sims.c.mobile == mobile)
    ).scalar_one_or_none()


def postal_address(conn: Connection, postal_code: str) -> Row[Any, Any] | None:
    """The city and province of a postal code."""
    return conn.execute(
        select(world_addresses.c.city, world_addresses.c.province).where(
            world_addresses.c.postal_code == postal_code
        )
    ).first()


def registration_by_subject(conn: Connection, subject_key: str) -> Row[Any, Any] | None:
    """The id and tracking code of the registration of a customer's subject on a CA."""
    return conn.execute(
        select(pendar_registrations.c.id, pendar_registrations.c.tracking_code).where(
            pendar_registrations.c.subject_key == subject_key
        )
    ).first()


def insert_registration(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(pendar_registrations).values(**values))


def update_registration(conn: Connection, registration_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        update(pendar_registrations)
        .where(pendar_registrations.c.id == registration_id)
        .values(**values)
    )


def registration_by_code(conn: Connection, tracking_code: str) -> RowMapping | None:
    return (
        conn.execute(
            select(pendar_registrations).where(
                pendar_registrations.c.tracking_code == tracking_code
            )
        )
        .mappings()
        .first()
    )


def tracking_code_of(conn: Connection, registration_id: int) -> str:
    return str(
        conn.execute(
            select(pendar_registrations.c.tracking_code).where(
                pendar_registrations.c.id == registration_id
            )
        ).scalar_one()
    )


def certificate_by_serial(conn: Connection, ca_id: int, serial: str) -> RowMapping | None:
    """A certificate by its key: its CA and serial (hex)."""
    return (
        conn.execute(
            select(pendar_certificates).where(
                and_(pendar_certificates.c.ca_id == ca_id, pendar_certificates.c.serial == serial)
            )
        )
        .mappings()
        .first()
    )


def revoke_certificate(conn: Connection, certificate_id: int, at: datetime, reason: int) -> bool:
    """Revoke an issued certificate; False when it was not (or no longer) issued."""
    changed = conn.execute(
        update(pendar_certificates)
        .where(
            and_(
                pendar_certificates.c.id == certificate_id,
                pendar_certificates.c.status == "Issued",
            )
        )
        .values(status="Revoked", revoked_at=at, revoke_reason=reason)
    ).rowcount
    return bool(changed == 1)


def mark_received(conn: Connection, certificate_id: int, at: datetime) -> None:
    conn.execute(
        update(pendar_certificates)
        .where(pendar_certificates.c.id == certificate_id)
        .values(received_at=at)
    )


def approvers(conn: Connection, customer_id: int) -> list[RowMapping]:
    """A customer's registered approvers."""
    return list(
        conn.execute(
            select(pendar_approvers).where(pendar_approvers.c.customer_id == customer_id)
        ).mappings()
    )


def approver_registered(conn: Connection, fingerprint: str) -> bool:
    """Whether any customer registered the approver certificate of this fingerprint."""
    return bool(
        conn.execute(
            select(func.count())
            .select_from(pendar_approvers)
            .where(pendar_approvers.c.fingerprint == fingerprint)
        ).scalar_one()
    )


def payment(conn: Connection, payment_id: str, customer_id: int) -> Row[Any, Any] | None:
    """A customer's registered payment: its amount and when it was used (None: unused)."""
    return conn.execute(
        select(pendar_payments.c.amount, pendar_payments.c.used_at).where(
            and_(
                pendar_payments.c.payment_id == payment_id,
                pendar_payments.c.customer_id == customer_id,
            )
        )
    ).first()


def use_payment(conn: Connection, payment_id: str, at: datetime) -> bool:
    """Mark an unused payment used; False when it was used meanwhile."""
    used = conn.execute(
        update(pendar_payments)
        .where(
            and_(pendar_payments.c.payment_id == payment_id, pendar_payments.c.used_at.is_(None))
        )
        .values(used_at=at)
    ).rowcount
    return bool(used == 1)


def pay_certificate(conn: Connection, payment_id: str, certificate_id: int) -> None:
    """Record the certificate a payment paid for."""
    conn.execute(
        update(pendar_payments)
        .where(pendar_payments.c.payment_id == payment_id)
        .values(certificate_id=certificate_id)
    )


def insert_payment(
    conn: Connection, payment_id: str, customer_id: int, amount: int, at: datetime
) -> None:
    conn.execute(
        insert(pendar_payments).values(
            payment_id=payment_id, customer_id=customer_id, amount=amount, created_at=at
        )
    )


def active_certificates(
    conn: Connection,
    now: datetime,
    *,
    national_code: str | None = None,
    tracking_code: str | None = None,
    ca_name: str | None = None,
    customer_id: int | None = None,
) -> list[RowMapping]:
    """The certificates active at ``now`` (with their registration's tracking code) that match
    every filter given, oldest first."""
    c, r = pendar_certificates.c, pendar_registrations.c
    conditions: list[Any] = [_active("pendar_certificates", now)]
    if national_code is not None:
        conditions.append(c.national_code == national_code)
    if tracking_code is not None:
        conditions.append(r.tracking_code == tracking_code)
    if ca_name is not None:
        conditions.append(c.ca_name == ca_name)
    if customer_id is not None:
        conditions.append(c.customer_id == customer_id)
    return list(
        conn.execute(
            select(pendar_certificates, r.tracking_code)
            .join(
                pendar_registrations,
                and_(
                    r.id == c.registration_id,
                    # always true (a certificate has its registration's national code): lets a
                    # lookup by tracking code reach the certificates through their index
                    r.national_code == c.national_code,
                ),
            )
            .where(and_(*conditions))
            .order_by(c.id)
        ).mappings()
    )


def registrations_of(conn: Connection, customer_id: int, national_code: str) -> list[RowMapping]:
    """A customer's registrations of a person, oldest first."""
    return list(
        conn.execute(
            select(pendar_registrations)
            .where(
                and_(
                    pendar_registrations.c.customer_id == customer_id,
                    pendar_registrations.c.national_code == national_code,
                )
            )
            .order_by(pendar_registrations.c.id)
        ).mappings()
    )


def certificates_of(
    conn: Connection, national_code: str, registration_ids: list[int]
) -> list[RowMapping]:
    """The certificates of a person's registrations, oldest first."""
    return list(
        conn.execute(
            select(pendar_certificates)
            .where(
                and_(
                    # the registrations' national code: the indexed way to their certificates
                    pendar_certificates.c.national_code == national_code,
                    pendar_certificates.c.registration_id.in_(registration_ids),
                )
            )
            .order_by(pendar_certificates.c.id)
        ).mappings()
    )


def registrations_per_profile(
    conn: Connection, customer_id: int, start: datetime, end: datetime
) -> list[Row[Any, Any, Any]]:
    """(CA, profile, count) of a customer's registrations in [start, end)."""
    r = pendar_registrations.c
    return list(
        conn.execute(
            select(r.ca_name, r.profile_name, func.count())
            .where(
                and_(r.customer_id == customer_id, r.registered_at >= start, r.registered_at < end)
            )
            .group_by(r.ca_name, r.profile_name)
        ).all()
    )


def report_certificates(
    conn: Connection,
    customer_id: int,
    start: datetime,
    end: datetime,
    *,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[RowMapping]:
    """A customer's certificates issued or revoked in [start, end) (with their tracking code),
    by id; ``after_id``: only those after it."""
    c = pendar_certificates.c
    in_window = or_(
        and_(c.issued_at >= start, c.issued_at < end),
        and_(c.revoked_at >= start, c.revoked_at < end),
    )
    cond = [c.customer_id == customer_id, in_window]
    if after_id is not None:
        cond.append(c.id > after_id)
    return list(
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
            .limit(limit)
        ).mappings()
    )


def credit(conn: Connection, customer_id: int) -> int | None:
    """The balance of a customer's Pendar credit wallet (None: no wallet)."""
    return conn.execute(
        select(wallets.c.balance).where(
            and_(wallets.c.customer_id == customer_id, wallets.c.wallet == "pendar.credit")
        )
    ).scalar_one_or_none()
