"""The append-only, hash-chained audit log.

Each entry's ``hash`` is SHA-256 over the previous entry's hash and the entry's canonical JSON,
and its ``prev_id`` is the previous entry's id (0 for the first). ``prev_id`` is unique, so the
chain cannot fork even under concurrent writers, and appends are serialized (``BEGIN
IMMEDIATE`` on SQLite, an advisory transaction lock on PostgreSQL). :func:`verify` walks the
chain and reports the first entry that was modified, inserted or deleted. (Removing entries
from the *end* of the chain leaves a valid shorter chain; the ``pishkhan audit verify`` output
prints the head hash so operators can anchor it elsewhere.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection

from pishkhan.core.clock import Clock
from pishkhan.core.db import DriverSQL, sqlite_time
from pishkhan.core.tables import audit_log

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 7410002


def _canonical(at: datetime, actor: str, action: str, subject: str, data: Any) -> bytes:
    return orjson.dumps(
        {
            # at.astimezone(UTC).isoformat(timespec="microseconds"), from the cached storage text
            "at": sqlite_time(at).replace(" ", "T") + "+00:00",
            "actor": actor,
            "action": action,
            "subject": subject,
            "data": data,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, subject: str, data: Any
) -> str:
    h = hashlib.sha256(prev_hash.encode("ascii"))
    h.update(_canonical(at, actor, action, subject, data))
    return h.hexdigest()


class AuditLog:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def append(
        self,
        conn: Connection,
        *,
        actor: str,
        action: str,
        subject: str,
        data: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> str:
        """Append one entry inside the caller's transaction; returns its hash. ``at`` (an aware
        datetime) is the entry's time when the caller has already read the clock for the
        operation; by default the clock is read here.

        Pre-written driver SQL: every audited operation pays for this, and SQLAlchemy's per-call
        statement work cost more than the two statements themselves.
        """
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            _PG_LOCK.run(conn)
        prev = _LAST.run(conn).fetchone()
        prev_id, prev_hash = (int(prev[0]), prev[1]) if prev else (0, GENESIS)
        # Round-trip through JSON so what is hashed is exactly what is stored.
        raw = orjson.dumps(data or {})
        payload = orjson.loads(raw)
        if at is None:
            at = self.clock.now_utc()
        digest = entry_hash(prev_hash, at, actor, action, subject, payload)
        (_INSERT_PG if postgres else _INSERT).run(
            conn,
            {
                # SQLAlchemy's SQLite storage form: naive UTC text.
                "at": at if postgres else sqlite_time(at),
                "actor": actor,
                "action": action,
                "subject": subject,
                "data": raw.decode(),
                "prev_hash": prev_hash,
                "hash": digest,
                "prev_id": prev_id,
            },
        )
        return digest


_PG_LOCK = DriverSQL(f"SELECT pg_advisory_xact_lock({_PG_AUDIT_LOCK})")
_LAST = DriverSQL("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
_INSERT_TEXT = (
    "INSERT INTO audit_log (at, actor, action, subject, data, prev_hash, hash, prev_id) "
    "VALUES (:at, :actor, :action, :subject, {data}, :prev_hash, :hash, :prev_id)"
)
_INSERT = DriverSQL(_INSERT_TEXT.format(data=":data"))
_INSERT_PG = DriverSQL(_INSERT_TEXT.format(data="CAST(:data AS jsonb)"))


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head: str
    problem: str | None = None
    entry_id: int | None = None


def verify(conn: Connection) -> VerifyResult:
    """Recompute the chain from the first entry; the first inconsistency is reported."""
    prev_hash = GENESIS
    prev_id = 0
    count = 0
    rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()
    for row in rows:
        count += 1
        at = row["at"]
        if at.tzinfo is None:  # SQLite returns naive UTC datetimes
            at = at.replace(tzinfo=UTC)
        if row["prev_hash"] != prev_hash:
            return VerifyResult(
                False,
                count,
                prev_hash,
                "an entry before this one was deleted or inserted (prev_hash does not match)",
                row["id"],
            )
        if row["prev_id"] != prev_id:
            return VerifyResult(
                False,
                count,
                prev_hash,
                "an entry before this one was deleted or inserted (prev_id does not match)",
                row["id"],
            )
        expected = entry_hash(
            prev_hash, at, row["actor"], row["action"], row["subject"], row["data"]
        )
        if expected != row["hash"]:
            return VerifyResult(
                False, count, prev_hash, "entry was modified (hash mismatch)", row["id"]
            )
        prev_hash, prev_id = row["hash"], row["id"]
    return VerifyResult(True, count, prev_hash)
