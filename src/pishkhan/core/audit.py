"""The append-only, hash-chained audit log.

Each entry's ``hash`` is SHA-256 over the previous entry's hash and the entry's canonical JSON;
``prev_hash`` is unique, so the chain cannot fork even under concurrent writers, and appends are
serialized (``BEGIN IMMEDIATE`` on SQLite, an advisory transaction lock on PostgreSQL).
:func:`verify` walks the chain and reports the first entry that was modified, inserted or
deleted. (Removing entries from the *end* of the chain leaves a valid shorter chain; the
``pishkhan audit verify`` output prints the head hash so operators can anchor it elsewhere.)
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
from pishkhan.core.tables import audit_log

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 7410002


def _canonical(at: datetime, actor: str, action: str, subject: str, data: Any) -> bytes:
    return orjson.dumps(
        {
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
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
    ) -> str:
        """Append one entry inside the caller's transaction; returns its hash."""
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_AUDIT_LOCK})")
        prev = conn.execute(
            select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
        ).scalar_one_or_none()
        prev_hash = prev or GENESIS
        # Round-trip through JSON so what is hashed is exactly what is stored.
        payload = orjson.loads(orjson.dumps(data or {}))
        at = self.clock.now_utc()
        digest = entry_hash(prev_hash, at, actor, action, subject, payload)
        conn.execute(
            audit_log.insert().values(
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                data=payload,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        return digest


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
        expected = entry_hash(
            prev_hash, at, row["actor"], row["action"], row["subject"], row["data"]
        )
        if expected != row["hash"]:
            return VerifyResult(
                False, count, prev_hash, "entry was modified (hash mismatch)", row["id"]
            )
        prev_hash = row["hash"]
    return VerifyResult(True, count, prev_hash)
