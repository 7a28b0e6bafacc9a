"""World records by kind: create, read, update, delete with validation; JSON Lines import and
export; statistics. Every function takes a Connection and works inside the caller's
transaction (use ``db.write()`` for changes). No HTTP here.

Errors: :class:`~pishkhan.core.errors.InvalidInput` (bad kind, bad key, invalid fields, with a
``{field: message}`` map), :class:`~pishkhan.core.errors.NotFound` and
:class:`~pishkhan.core.errors.Conflict` (a record with that key exists; a deposit number already
used at that bank).

Cross-references between registries (a card's holder, a SIM's owner, a deposit's owners) are
checked for format only, because the real registries are independent and some documented
outcomes need a reference to nobody. Two references are structural and checked: a card's
``deposit_iban`` must be a deposit of the world at the card's bank, and a deposit number is
unique per bank.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import Table, bindparam, delete, func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from pishkhan.core.errors import Conflict, InvalidInput, NotFound
from pishkhan.core.ints import INT64_MAX, INT64_MIN, ints_beyond_int64, parse_int
from pishkhan.iran import by_key

from .records import KINDS, CardRecord, DepositRecord, Record
from .tables import (
    WORLD_TABLES,
    world_banks,
    world_cards,
    world_deposit_owners,
    world_deposits,
    world_foreigners,
    world_guilds,
    world_legal_entities,
    world_military,
    world_people,
    world_sana,
    world_sims,
)

Row = dict[str, Any]

#: Record kinds, in dependency order.
KIND_NAMES: tuple[str, ...] = tuple(KINDS)

IMPORT_CHUNK = 5000
EXPORT_PAGE = 5000
MAX_REPORTED_ERRORS = 20
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


# -- kinds and keys --------------------------------------------------------------------------


def record_class(kind: str) -> type[Record]:
    cls = KINDS.get(kind.strip().lower().replace("-", "_"))
    if cls is None:
        raise InvalidInput(f"unknown kind {kind!r}; kinds: {', '.join(KIND_NAMES)}")
    return cls


def parse_key(kind: str, raw: str) -> str:
    cls = record_class(kind)
    try:
        return cls.parse_key(raw)
    except ValueError as exc:
        raise InvalidInput(str(exc), {cls.key_field: str(exc)}) from None


def _key_column(cls: type[Record]) -> Any:
    return cls.table.c[cls.key_field]


def validation_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "record"
        message = str(err["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        out.setdefault(field, message)
    return out


def validate(kind: str, data: dict[str, Any]) -> Record:
    """Validate ``data`` as a record of ``kind`` (a ``kind`` key in ``data`` is ignored)."""
    cls = record_class(kind)
    payload = {k: v for k, v in data.items() if k != "kind"}
    try:
        record = cls.model_validate(payload)
    except ValidationError as exc:
        errors = validation_errors(exc)
        summary = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise InvalidInput(f"invalid {cls.kind}: {summary}", errors) from None
    # Every integer of a record is kept in a 64-bit column.
    beyond = ints_beyond_int64(record.model_dump())
    if beyond:
        errors = dict.fromkeys(beyond, f"must be between {INT64_MIN} and {INT64_MAX}")
        summary = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise InvalidInput(f"invalid {cls.kind}: {summary}", errors)
    return record


# -- reading ---------------------------------------------------------------------------------


def _owners_of(conn: Connection, ibans: list[str]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {iban: [] for iban in ibans}
    if not ibans:
        return out
    rows = conn.execute(
        select(world_deposit_owners)
        .where(world_deposit_owners.c.iban.in_(ibans))
        .order_by(world_deposit_owners.c.iban, world_deposit_owners.c.position)
    ).mappings()
    for r in rows:
        out[r["iban"]].append(dict(r))
    return out


def _records_from_rows(cls: type[Record], conn: Connection, rows: list[Row]) -> list[Record]:
    if cls is DepositRecord:
        owners = _owners_of(conn, [r["iban"] for r in rows])
        return [DepositRecord.from_row(r, owners[r["iban"]]) for r in rows]
    return [cls.from_row(r) for r in rows]


def find(conn: Connection, kind: str, key: str) -> Record | None:
    cls = record_class(kind)
    key = parse_key(kind, key)
    row = conn.execute(select(cls.table).where(_key_column(cls) == key)).mappings().first()
    if row is None:
        return None
    return _records_from_rows(cls, conn, [dict(row)])[0]


def get(conn: Connection, kind: str, key: str) -> Record:
    record = find(conn, kind, key)
    if record is None:
        raise NotFound(record_class(kind).kind, parse_key(kind, key))
    return record


def list_records(
    conn: Connection,
    kind: str,
    *,
    filters: dict[str, str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Record]:
    """Records of ``kind`` ordered by key; ``filters`` are column equalities."""
    cls = record_class(kind)
    stmt = select(cls.table)
    for column, value in (filters or {}).items():
        if column not in cls.table.c:
            raise InvalidInput(
                f"cannot filter {cls.kind} by {column!r}; columns: {', '.join(cls.table.c.keys())}"
            )
        col = cls.table.c[column]
        python_type = col.type.python_type
        typed: Any = value
        if python_type is bool:
            typed = str(value).lower() in ("1", "true", "yes")
        elif python_type is int:
            try:
                typed = parse_int(str(value))
            except ValueError:
                raise InvalidInput(
                    f"{column} must be an integer between {INT64_MIN} and {INT64_MAX}"
                ) from None
        stmt = stmt.where(col == typed)
    if limit < 1 or limit > 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    if not 0 <= offset <= INT64_MAX:
        raise InvalidInput(f"offset must be between 0 and {INT64_MAX}")
    stmt = stmt.order_by(_key_column(cls)).limit(limit).offset(offset)
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    return _records_from_rows(cls, conn, rows)


def count(conn: Connection, kind: str) -> int:
    cls = record_class(kind)
    return int(conn.execute(select(func.count()).select_from(cls.table)).scalar_one())


# -- writing ---------------------------------------------------------------------------------


def _check_references(conn: Connection, record: Record) -> None:
    if isinstance(record, CardRecord) and record.deposit_iban is not None:
        deposit = (
            conn.execute(
                select(world_deposits.c.bank).where(world_deposits.c.iban == record.deposit_iban)
            )
            .mappings()
            .first()
        )
        if deposit is None:
            message = f"no deposit {record.deposit_iban} in the world"
            raise InvalidInput(message, {"deposit_iban": message})
        _check_card_deposit_bank(record, str(deposit["bank"]))
    if isinstance(record, DepositRecord):
        other = conn.execute(
            select(world_deposits.c.iban).where(
                world_deposits.c.bank == record.bank,
                world_deposits.c.deposit_number == record.deposit_number,
                world_deposits.c.iban != record.iban,
            )
        ).first()
        if other is not None:
            raise Conflict(
                f"deposit number {record.deposit_number} at {record.bank} already belongs to "
                f"{other[0]}"
            )


def _check_card_deposit_bank(record: CardRecord, deposit_bank: str) -> None:
    card_bank = by_key(record.bank or "")
    dep_bank = by_key(deposit_bank)
    if card_bank is not None and dep_bank is not None and card_bank.jibit_id != dep_bank.jibit_id:
        message = f"deposit {record.deposit_iban} is at {dep_bank.key}, the card at {card_bank.key}"
        raise InvalidInput(message, {"deposit_iban": message})


def _write(conn: Connection, record: Record, *, exists: bool) -> None:
    cls = type(record)
    table = cls.table
    key_col = _key_column(cls)
    row = record.row()
    if exists:
        values = {k: v for k, v in row.items() if k != cls.key_field}
        conn.execute(table.update().where(key_col == record.key).values(**values))
    else:
        conn.execute(table.insert().values(**row))
    if isinstance(record, DepositRecord):
        conn.execute(delete(world_deposit_owners).where(world_deposit_owners.c.iban == record.iban))
        owner_rows = record.owner_rows()
        if owner_rows:
            conn.execute(world_deposit_owners.insert(), owner_rows)


def _exists(conn: Connection, cls: type[Record], key: str) -> bool:
    return conn.execute(select(_key_column(cls)).where(_key_column(cls) == key)).first() is not None


def create(conn: Connection, kind: str, data: dict[str, Any]) -> Record:
    record = validate(kind, data)
    cls = type(record)
    if _exists(conn, cls, record.key):
        raise Conflict(f"{cls.kind} {record.key} already exists")
    _check_references(conn, record)
    _write(conn, record, exists=False)
    return record


def upsert(conn: Connection, kind: str, data: dict[str, Any]) -> tuple[Record, bool]:
    """Create or replace; returns the record and whether it was created."""
    record = validate(kind, data)
    cls = type(record)
    exists = _exists(conn, cls, record.key)
    _check_references(conn, record)
    _write(conn, record, exists=exists)
    return record, not exists


def update(conn: Connection, kind: str, key: str, patch: dict[str, Any]) -> Record:
    """Apply ``patch`` (some fields) to the record ``key``; the key itself cannot change."""
    current = get(conn, kind, key)
    cls = type(current)
    merged = current.model_dump(mode="json")
    patch = {k: v for k, v in patch.items() if k != "kind"}
    if cls.key_field in patch:
        try:
            new_key = cls.parse_key(str(patch[cls.key_field]))
        except ValueError:
            new_key = None
        if new_key != current.key:
            message = f"the key ({cls.key_field}) of a {cls.kind} cannot change"
            raise InvalidInput(message, {cls.key_field: message})
    if isinstance(current, DepositRecord) and "owners" in patch and "joint" not in patch:
        merged.pop("joint", None)
    if (
        isinstance(current, DepositRecord)
        and ("bank" in patch or "deposit_number" in patch)
        and "iban" not in patch
    ):
        message = "changing bank or deposit_number would change the IBAN (the key)"
        raise InvalidInput(message, {"deposit_number": message})
    merged.update(patch)
    record = validate(kind, merged)
    if record.key != current.key:
        message = f"the key ({cls.key_field}) of a {cls.kind} cannot change"
        raise InvalidInput(message, {cls.key_field: message})
    _check_references(conn, record)
    _write(conn, record, exists=True)
    return record


def delete_record(conn: Connection, kind: str, key: str) -> Record:
    """Delete one record (a deposit takes its owners with it; its cards lose their deposit)."""
    record = get(conn, kind, key)
    cls = type(record)
    if isinstance(record, DepositRecord):
        conn.execute(
            world_cards.update()
            .where(world_cards.c.deposit_iban == record.iban)
            .values(deposit_iban=None)
        )
        conn.execute(delete(world_deposit_owners).where(world_deposit_owners.c.iban == record.iban))
    conn.execute(delete(cls.table).where(_key_column(cls) == record.key))
    return record


# -- JSON Lines ------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    raise TypeError(f"cannot serialize {type(value).__name__}")


def export_records(
    conn: Connection, kinds: Iterable[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every record of ``kinds`` (default all), kinds in dependency order, each by key."""
    wanted = [record_class(k).kind for k in kinds] if kinds else list(KIND_NAMES)
    for kind in KIND_NAMES:
        if kind not in wanted:
            continue
        cls = KINDS[kind]
        key_col = _key_column(cls)
        last: str | None = None
        while True:
            stmt = select(cls.table).order_by(key_col).limit(EXPORT_PAGE)
            if last is not None:
                stmt = stmt.where(key_col > last)
            rows = [dict(r) for r in conn.execute(stmt).mappings()]
            if not rows:
                break
            last = rows[-1][cls.key_field]
            if cls is DepositRecord:
                owners = _owners_of(conn, [r["iban"] for r in rows])
                for r in rows:
                    r["owners"] = [
                        {"national_code": o["national_code"], "owner_type": o["owner_type"]}
                        for o in owners[r["iban"]]
                    ]
            for r in rows:
                yield {"kind": kind, **r}
            if len(rows) < EXPORT_PAGE:
                break


def export_jsonl(conn: Connection, kinds: Iterable[str] | None = None) -> Iterator[bytes]:
    """The export as JSON Lines (one UTF-8 line per record, ``\\n``-terminated)."""
    for record in export_records(conn, kinds):
        yield orjson.dumps(record, default=_json_default, option=_JSON_OPTIONS) + b"\n"


class _ImportBuffer:
    def __init__(self) -> None:
        self.by_kind: dict[str, dict[str, tuple[int, Record]]] = {k: {} for k in KIND_NAMES}
        self.size = 0

    def add(self, line_no: int, record: Record) -> None:
        bucket = self.by_kind[record.kind]
        if record.key not in bucket:
            self.size += 1
        bucket[record.key] = (line_no, record)


def import_jsonl(conn: Connection, lines: Iterable[bytes | str]) -> dict[str, dict[str, int]]:
    """Create or replace the records of a JSON Lines file, all or nothing.

    Each line is an object with a ``kind`` and the record's fields (as ``export`` writes
    them); blank lines and lines starting with ``#`` are skipped. Records are validated as by
    :func:`create`. Within a file a later line with the same key wins. Lines are buffered and
    written in dependency order (deposits before the cards on them) every
    ``IMPORT_CHUNK`` records, so large files must list deposits before their cards, as
    ``export`` does. Returns ``{kind: {"created": n, "updated": n}}``.
    """
    result: dict[str, dict[str, int]] = {}
    errors: dict[str, str] = {}
    buffer = _ImportBuffer()
    line_no = 0
    for raw in lines:
        line_no += 1
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            errors[f"line {line_no}"] = f"not JSON: {exc}"
        else:
            if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
                errors[f"line {line_no}"] = 'expected an object with a "kind"'
            else:
                try:
                    buffer.add(line_no, validate(data["kind"], data))
                except InvalidInput as exc:
                    errors[f"line {line_no}"] = str(exc)
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
        if not errors and buffer.size >= IMPORT_CHUNK:
            _flush(conn, buffer, result)
            buffer = _ImportBuffer()
    if errors:
        raise InvalidInput(f"import failed: {len(errors)} invalid line(s)", errors)
    _flush(conn, buffer, result)
    return result


def _flush(conn: Connection, buffer: _ImportBuffer, result: dict[str, dict[str, int]]) -> None:
    for kind in KIND_NAMES:
        bucket = buffer.by_kind[kind]
        if not bucket:
            continue
        cls = KINDS[kind]
        keys = list(bucket)
        for i in range(0, len(keys), IMPORT_CHUNK):
            chunk = [bucket[k] for k in keys[i : i + IMPORT_CHUNK]]
            created, updated = _write_chunk(conn, cls, chunk)
            counts = result.setdefault(kind, {"created": 0, "updated": 0})
            counts["created"] += created
            counts["updated"] += updated


def _write_chunk(
    conn: Connection, cls: type[Record], chunk: list[tuple[int, Record]]
) -> tuple[int, int]:
    table: Table = cls.table
    key_col = _key_column(cls)
    keys = [r.key for _, r in chunk]
    existing = {row[0] for row in conn.execute(select(key_col).where(key_col.in_(keys)))}
    if cls is CardRecord:
        _check_chunk_cards(conn, chunk)
    if cls is DepositRecord:
        _check_chunk_deposits(conn, chunk)
    new_rows = [r.row() for _, r in chunk if r.key not in existing]
    old_rows = [r.row() for _, r in chunk if r.key in existing]
    try:
        if new_rows:
            conn.execute(table.insert(), new_rows)
        if old_rows:
            columns = [c.name for c in table.c if c.name != cls.key_field]
            stmt = (
                table.update()
                .where(key_col == bindparam("_key"))
                .values({c: bindparam(c) for c in columns})
            )
            conn.execute(stmt, [{"_key": r[cls.key_field], **r} for r in old_rows])
        if cls is DepositRecord:
            conn.execute(delete(world_deposit_owners).where(world_deposit_owners.c.iban.in_(keys)))
            owner_rows = [o for _, r in chunk for o in r.owner_rows()]  # type: ignore[attr-defined]
            if owner_rows:
                conn.execute(world_deposit_owners.insert(), owner_rows)
    except IntegrityError as exc:
        raise Conflict(f"import of {cls.kind} records failed: {exc.orig}") from None
    return len(new_rows), len(old_rows)


def _check_chunk_cards(conn: Connection, chunk: list[tuple[int, Record]]) -> None:
    ibans = sorted(
        {r.deposit_iban for _, r in chunk if isinstance(r, CardRecord) and r.deposit_iban}
    )
    banks: dict[str, str] = {}
    for i in range(0, len(ibans), 1000):
        part = ibans[i : i + 1000]
        rows = conn.execute(
            select(world_deposits.c.iban, world_deposits.c.bank).where(
                world_deposits.c.iban.in_(part)
            )
        )
        banks.update({row[0]: row[1] for row in rows})
    errors: dict[str, str] = {}
    for line_no, record in chunk:
        assert isinstance(record, CardRecord)
        if record.deposit_iban is None:
            continue
        bank = banks.get(record.deposit_iban)
        if bank is None:
            errors[f"line {line_no}"] = f"card {record.number}: no deposit {record.deposit_iban}"
            continue
        try:
            _check_card_deposit_bank(record, bank)
        except InvalidInput as exc:
            errors[f"line {line_no}"] = f"card {record.number}: {exc}"
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise InvalidInput(f"import failed: {len(errors)} invalid card(s)", errors)


def _check_chunk_deposits(conn: Connection, chunk: list[tuple[int, Record]]) -> None:
    pairs = [
        (r.bank, r.deposit_number, r.iban, n) for n, r in chunk if isinstance(r, DepositRecord)
    ]
    seen: dict[tuple[str, str], str] = {}
    errors: dict[str, str] = {}
    for bank, number, iban, line_no in pairs:
        other = seen.setdefault((bank, number), iban or "")
        if other != iban:
            errors[f"line {line_no}"] = f"deposit number {number} at {bank} used twice"
    for i in range(0, len(pairs), 500):
        part = pairs[i : i + 500]
        rows = conn.execute(
            select(
                world_deposits.c.bank, world_deposits.c.deposit_number, world_deposits.c.iban
            ).where(
                tuple_(world_deposits.c.bank, world_deposits.c.deposit_number).in_(
                    [(b, n) for b, n, _, _ in part]
                )
            )
        )
        owners = {(row[0], row[1]): row[2] for row in rows}
        for bank, number, iban, line_no in part:
            current = owners.get((bank, number))
            if current is not None and current != iban:
                errors[f"line {line_no}"] = (
                    f"deposit number {number} at {bank} already belongs to {current}"
                )
    if errors:
        raise InvalidInput(f"import failed: {len(errors)} conflicting deposit(s)", errors)


# -- statistics ------------------------------------------------------------------------------


def _group(conn: Connection, column: Any) -> dict[str, int]:
    rows = conn.execute(select(column, func.count()).group_by(column).order_by(column))
    return {str(k): int(n) for k, n in rows}


def stats(conn: Connection) -> dict[str, Any]:
    """Counts per kind and the main breakdowns (statuses, types, operators...)."""
    counts = {
        kind: int(conn.execute(select(func.count()).select_from(cls.table)).scalar_one())
        for kind, cls in KINDS.items()
    }
    counts["deposit_owner"] = int(
        conn.execute(select(func.count()).select_from(world_deposit_owners)).scalar_one()
    )
    balance = conn.execute(
        select(func.coalesce(func.sum(world_deposits.c.balance), 0))
    ).scalar_one()
    return {
        "counts": counts,
        "people": {
            "alive": int(
                conn.execute(
                    select(func.count()).where(world_people.c.alive.is_(True))
                ).scalar_one()
            ),
            "dead": int(
                conn.execute(
                    select(func.count()).where(world_people.c.alive.is_(False))
                ).scalar_one()
            ),
            "by_gender": _group(conn, world_people.c.gender),
            "blacklisted": int(
                conn.execute(
                    select(func.count()).where(world_people.c.blacklisted.is_(True))
                ).scalar_one()
            ),
        },
        "sims": {"by_operator": _group(conn, world_sims.c.operator)},
        "cards": {
            "by_status": _group(conn, world_cards.c.status),
            "by_type": _group(conn, world_cards.c.type),
            "by_bank": _group(conn, world_cards.c.bank),
        },
        "deposits": {
            "by_status": _group(conn, world_deposits.c.status),
            "by_account_type": _group(conn, world_deposits.c.account_type),
            "by_bank": _group(conn, world_deposits.c.bank),
            "joint": int(
                conn.execute(
                    select(func.count()).where(world_deposits.c.joint.is_(True))
                ).scalar_one()
            ),
            "total_balance_rials": int(balance),
        },
        "military": {"by_status": _group(conn, world_military.c.status)},
        "sana": {"registered": _group(conn, world_sana.c.registered)},
        "foreigners": {"by_nationality": _group(conn, world_foreigners.c.nationality)},
        "guilds": {"by_union": _group(conn, world_guilds.c.union_id)},
        "legal_entities": {"by_status": _group(conn, world_legal_entities.c.status)},
        "banks": {
            "inactive": sorted(
                str(r[0])
                for r in conn.execute(
                    select(world_banks.c.bank).where(world_banks.c.active.is_(False))
                )
            ),
            "provider_inactive": sorted(
                str(r[0])
                for r in conn.execute(
                    select(world_banks.c.bank).where(world_banks.c.provider_active.is_(False))
                )
            ),
            "card_to_iban_unavailable": sorted(
                str(r[0])
                for r in conn.execute(
                    select(world_banks.c.bank).where(
                        world_banks.c.card_to_iban_available.is_(False)
                    )
                )
            ),
        },
    }


def is_empty(conn: Connection) -> bool:
    """True when the world has no people at all (a fresh database)."""
    return conn.execute(select(world_people.c.national_code).limit(1)).first() is None


def table_counts(conn: Connection) -> dict[str, int]:
    return {
        str(t.name): int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        for t in WORLD_TABLES
    }


__all__ = [
    "KIND_NAMES",
    "count",
    "create",
    "delete_record",
    "export_jsonl",
    "export_records",
    "find",
    "get",
    "import_jsonl",
    "is_empty",
    "list_records",
    "parse_key",
    "record_class",
    "stats",
    "table_counts",
    "update",
    "upsert",
    "validate",
]
