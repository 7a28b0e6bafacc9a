"""Certificate revocation lists (RFC 5280 v2 CRLs), encoded here and signed by the CA's signer.

The TBSCertList is written directly in DER (a revoked entry is a few dozen bytes, so 100,000
entries take a fraction of a second) and signed through :meth:`Signer.sign`, which is all a
hardware signer has to offer. Each regeneration takes the next CRL number from ``pendar_cas``
with a conditional UPDATE, so numbers are strictly increasing across processes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from pishkhan.runtime import Runtime

from . import der
from .ca import LoadedCA
from .tables import REVOKED, pendar_cas, pendar_certificates, pendar_crls

CRL_LIFETIME = timedelta(days=1)
# Regenerate a CRL that is this close to its nextUpdate when it is fetched.
REFRESH_MARGIN = timedelta(hours=1)

_OID_CRL_NUMBER = bytes.fromhex("0603551d14")
_OID_AKI = bytes.fromhex("0603551d23")
_OID_REASON = bytes.fromhex("0603551d15")
_tlv = der.tlv
_int = der.integer
_time = der.utc_time


def encode_tbs(
    ca: LoadedCA,
    number: int,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[tuple[int, datetime, int | None]],
) -> bytes:
    """TBSCertList for (serial, revocation time, RFC 5280 reason or None) entries."""
    reason_ext: dict[int, bytes] = {}
    entries: list[bytes] = []
    time_cache: dict[datetime, bytes] = {}
    for serial, at, reason in revoked:
        t = time_cache.get(at)
        if t is None:
            t = time_cache[at] = _time(at)
        body = _int(serial) + t
        if reason:  # unspecified (0) is expressed by omitting the extension
            ext = reason_ext.get(reason)
            if ext is None:
                ext = reason_ext[reason] = _tlv(
                    0x30, _tlv(0x30, _OID_REASON + _tlv(0x04, _tlv(0x0A, bytes((reason,)))))
                )
            body += ext
        entries.append(_tlv(0x30, body))
    aki = _tlv(0x30, _tlv(0x80, ca.ski.digest))
    extensions = _tlv(
        0x30,
        _tlv(0x30, _OID_AKI + _tlv(0x04, aki))
        + _tlv(0x30, _OID_CRL_NUMBER + _tlv(0x04, _int(number))),
    )
    tbs = (
        _int(1)
        + ca.algorithm
        + ca.certificate.subject.public_bytes()
        + _time(this_update)
        + _time(next_update)
        + (_tlv(0x30, b"".join(entries)) if entries else b"")
        + _tlv(0xA0, extensions)
    )
    return _tlv(0x30, tbs)


def sign_crl(ca: LoadedCA, tbs: bytes) -> bytes:
    return ca.sign(tbs)


def build(
    ca: LoadedCA,
    number: int,
    this_update: datetime,
    revoked: Iterable[tuple[int, datetime, int | None]],
) -> bytes:
    """A signed DER CRL."""
    return sign_crl(ca, encode_tbs(ca, number, this_update, this_update + CRL_LIFETIME, revoked))


def _revoked_rows(conn: Connection, ca_id: int) -> list[tuple[int, datetime, int | None]]:
    rows = conn.execute(
        select(
            pendar_certificates.c.serial,
            pendar_certificates.c.revoked_at,
            pendar_certificates.c.revoke_reason,
        )
        # The condition of ix_pendar_certificates_revoked, as a literal: a bound parameter
        # would not let SQLite (nor a generic PostgreSQL plan) use the partial index.
        .where(and_(pendar_certificates.c.ca_id == ca_id, text(REVOKED)))
        .order_by(pendar_certificates.c.id)
    )
    out = []
    for serial, at, reason in rows:
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        out.append((int(serial, 16), at, reason))
    return out


def regenerate(conn: Connection, ca: LoadedCA, now: datetime) -> tuple[int, bytes]:
    """Issue the CA's next CRL inside the caller's transaction; returns (number, DER)."""
    number = conn.execute(
        update(pendar_cas)
        .where(pendar_cas.c.id == ca.id)
        .values(crl_number=pendar_cas.c.crl_number + 1)
        .returning(pendar_cas.c.crl_number)
    ).scalar_one()
    this_update = now.astimezone(UTC).replace(microsecond=0)
    der = build(ca, int(number), this_update, _revoked_rows(conn, ca.id))
    values = {
        "ca_id": ca.id,
        "crl_number": int(number),
        "this_update": this_update,
        "next_update": this_update + CRL_LIFETIME,
        "der": der,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(pendar_crls).values(**values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[pendar_crls.c.ca_id],
            set_={k: stmt.excluded[k] for k in values if k != "ca_id"},
        )
    )
    return int(number), der


def current(conn: Connection, ca: LoadedCA, now: datetime) -> tuple[bytes, bool]:
    """The stored CRL (DER) and whether it must be regenerated before it is served."""
    row = conn.execute(
        select(pendar_crls.c.der, pendar_crls.c.next_update).where(pendar_crls.c.ca_id == ca.id)
    ).first()
    if row is None:
        return b"", True
    next_update = row[1] if row[1].tzinfo else row[1].replace(tzinfo=UTC)
    return bytes(row[0]), next_update - now <= REFRESH_MARGIN


def served(runtime: Runtime, ca: LoadedCA) -> bytes:
    """The CRL ``/pki/{ca}/crl`` serves: the current one, regenerated first when stale."""
    now = runtime.clock.now_utc()
    with runtime.db.read() as conn:
        der, stale = current(conn, ca, now)
    if stale:
        with runtime.db.write() as conn:
            der, stale = current(conn, ca, now)  # another worker may have done it
            if stale:
                _number, der = regenerate(conn, ca, now)
    return der
