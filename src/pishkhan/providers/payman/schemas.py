"""Reading Payman requests with the tolerances real clients need (see docs/payman.md).

JSON property names and form fields bind case-insensitively; ``null`` means absent; numbers
arrive as ints, floats (``100000.0``) and numeric strings; datetimes arrive as ISO-8601 with
0..7 fractional digits and ``Z`` or an offset (some clients put Tehran wall-clock time before a
literal ``Z``), as zone-less ISO (Tehran) or as epoch milliseconds. Every problem becomes the
document's ``071`` with the offending field in ``reference``, worded like the live service's
.NET binder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from pishkhan.core.clock import TEHRAN
from pishkhan.web.asgi import InvalidQuery, query_pairs

from .errors import PaymanError, invalid

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


def fold_keys(value: Any) -> Any:
    """Lower-case every object key, recursively (ASP.NET binds names case-insensitively)."""
    if isinstance(value, dict):
        return {str(k).strip().lower(): fold_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fold_keys(v) for v in value]
    return value


def _set_path(target: dict[str, Any], path: list[str], value: Any) -> None:
    node = target
    for part in path[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    leaf = path[-1]
    if leaf in node:
        existing = node[leaf]
        node[leaf] = [*existing, value] if isinstance(existing, list) else [existing, value]
    else:
        node[leaf] = value


def form_to_object(raw: bytes) -> dict[str, Any]:
    """A form body as an object: ``payman.contract.x`` / ``payman[contract][x]`` nest, and a
    field whose value is JSON text (``payman={...}``) is parsed. Names and values are decoded
    as a query string is (:func:`query_pairs`): one that is not UTF-8 is 071 on the body."""
    out: dict[str, Any] = {}
    try:
        pairs = query_pairs(raw.strip())
    except InvalidQuery:
        raise invalid("$", "The request body is not UTF-8.") from None
    for key, value in pairs:
        path = [p for p in re.split(r"[.\[\]]+", key.strip().lower()) if p]
        if not path:
            continue
        parsed: Any = value
        text = value.strip()
        if text[:1] in ("{", "["):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                parsed = value
        _set_path(out, path, parsed)
    return fold_keys(out)  # type: ignore[no-any-return]


def parse_body(raw: bytes, content_type: str, *, required: bool = True) -> dict[str, Any]:
    """The request body as a case-folded object (JSON or form-encoded); ``null``/empty -> {}."""
    text = raw.strip()
    if "application/x-www-form-urlencoded" in content_type.lower() and text[:1] != b"{":
        # The document's note says create/update are form-encoded; clients that follow it
        # sometimes still send a JSON body: read that as JSON.
        return form_to_object(raw)
    if not text:
        if required:
            raise invalid("$", "A non-empty request body is required.")
        return {}
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise invalid(
            "$", f"The request body is not valid JSON: {exc}. Path: $ | LineNumber: 0."
        ) from exc
    if data is None or data == []:
        return {}
    if not isinstance(data, dict):
        raise invalid("$", "The JSON value could not be converted to an object. Path: $.")
    return fold_keys(data)  # type: ignore[no-any-return]


def present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() == "")


def get_str(
    obj: Mapping[str, Any], key: str, ref: str, *, required: bool = False, max_len: int = 0
) -> str | None:
    value = obj.get(key)
    if not present(value):
        if required:
            raise invalid(ref, f"The {ref} field is required.")
        return None
    if isinstance(value, bool | dict | list):
        raise invalid(ref, f"The JSON value could not be converted to System.String. Path: {ref}.")
    text = str(value).strip()
    if max_len and len(text) > max_len:
        raise invalid(ref, f"The field {ref} must be a string with a maximum length of {max_len}.")
    return text


def _number(value: Any, ref: str, type_name: str) -> Decimal:
    if isinstance(value, bool | dict | list):
        raise invalid(ref, f"The JSON value could not be converted to {type_name}. Path: {ref}.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise invalid(
            ref, f"The JSON value could not be converted to {type_name}. Path: {ref}."
        ) from exc
    # Beyond 10**30 no type here holds it (and Decimal arithmetic on 1e999999999 overflows).
    if not number.is_finite() or number.adjusted() > 30:
        raise invalid(ref, f"The JSON value could not be converted to {type_name}. Path: {ref}.")
    return number


def get_int(obj: Mapping[str, Any], key: str, ref: str, *, required: bool = False) -> int | None:
    value = obj.get(key)
    if not present(value):
        if required:
            raise invalid(ref, f"The {ref} field is required.")
        return None
    number = _number(value, ref, "System.Int32")
    if abs(number) > 2**31 - 1 or number != number.to_integral_value():
        raise invalid(ref, f"The JSON value could not be converted to System.Int32. Path: {ref}.")
    return int(number)


_MAX_AMOUNT = 10**17


def get_amount(
    obj: Mapping[str, Any],
    key: str,
    ref: str,
    *,
    required: bool = False,
    code: str = "071",
) -> int | None:
    """A rial amount: an integral decimal (``100000``, ``100000.0``, ``"100000"``)."""
    value = obj.get(key)
    if not present(value):
        if required:
            raise invalid(ref, f"The {ref} field is required.")
        return None
    if type(value) is int:  # the usual JSON amount: what the Decimal route gives, sooner
        if abs(value) > _MAX_AMOUNT:
            raise PaymanError(
                code, reference=ref, info=f"The amount {value} is not a whole rial amount."
            )
        return value
    number = _number(value, ref, "System.Decimal")
    if abs(number) > _MAX_AMOUNT or number != number.to_integral_value():
        raise PaymanError(
            code, reference=ref, info=f"The amount {value} is not a whole rial amount."
        )
    return int(number)


def get_list(obj: Mapping[str, Any], key: str, ref: str) -> list[Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, list):
        return value
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [value]
    raise invalid(ref, f"The JSON value could not be converted to a list. Path: {ref}.")


def parse_instant(
    value: Any, ref: str, *, now: datetime | None = None, date_only_end: bool = False
) -> datetime:
    """A datetime as an aware UTC instant.

    Epoch milliseconds (numbers or digit strings) are accepted; ISO text without a zone is
    Tehran time. With ``now`` given, a ``Z`` time is read either as UTC or as Tehran wall-clock
    time (what two real clients send), whichever lies closer to ``now``.
    """
    try:
        instant = _instant(value, now, date_only_end)
        if not _EARLIEST <= instant <= _LATEST:
            raise ValueError("out of range")
    except (ValueError, OverflowError, OSError) as exc:
        # Beyond what a date holds (epoch milliseconds that do not fit, year 1 minus an offset,
        # the day after 9999-12-31): not a DateTime, as for the .NET binder.
        raise invalid(
            ref, f"The JSON value could not be converted to System.DateTime. Path: {ref}."
        ) from exc
    return instant


# .NET's DateTime range less a day at each end, so that a day more or less, or Tehran's
# wall-clock time, of an instant taken is still a date.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)
_EPOCH_MS_MAX = 253402300799999  # 9999-12-31T23:59:59.999Z: beyond it no date, skip the work


def _instant(value: Any, now: datetime | None, date_only_end: bool) -> datetime:
    if isinstance(value, bool):
        raise ValueError("a boolean")
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().isascii() and value.strip().isdigit()
    ):
        ms = int(value)
        if not -_EPOCH_MS_MAX <= ms <= _EPOCH_MS_MAX:
            raise ValueError("epoch milliseconds out of range")
        return datetime.fromtimestamp(ms / 1000, UTC)
    if not isinstance(value, str):
        raise ValueError("not a string")
    m = _ISO.match(value.strip())
    if not m:
        raise ValueError("not ISO-8601")
    y, mo, d, hh, mm, ss, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    wall = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), micro)
    if hh is None and date_only_end:
        wall = wall + timedelta(days=1) - timedelta(microseconds=1)
    if zone is None:
        return wall.replace(tzinfo=TEHRAN).astimezone(UTC)
    if zone in ("Z", "z"):
        as_utc = wall.replace(tzinfo=UTC)
        if now is not None:
            as_tehran = wall.replace(tzinfo=TEHRAN).astimezone(UTC)
            if abs(as_tehran - now) < abs(as_utc - now):
                return as_tehran
        return as_utc
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (wall - sign * offset).replace(tzinfo=UTC)


def get_instant(
    obj: Mapping[str, Any],
    key: str,
    ref: str,
    *,
    required: bool = False,
    now: datetime | None = None,
    date_only_end: bool = False,
) -> datetime | None:
    value = obj.get(key)
    if not present(value):
        if required:
            raise invalid(ref, f"The {ref} field is required.")
        return None
    return parse_instant(value, ref, now=now, date_only_end=date_only_end)


def as_utc(value: datetime) -> datetime:
    """Database datetimes as aware UTC (SQLite hands back naive UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def epoch_ms(value: datetime | None) -> int | None:
    return None if value is None else int(as_utc(value).timestamp() * 1000)


def tehran_iso(value: datetime | None) -> str | None:
    """Zone-less Tehran wall-clock time to the second (``/v1/reports/transactions``)."""
    if value is None:
        return None
    return as_utc(value).astimezone(TEHRAN).replace(tzinfo=None).isoformat(timespec="seconds")


def parse_day(value: str, ref: str) -> date:
    try:
        return parse_instant(value, ref).astimezone(TEHRAN).date()
    except PaymanError:
        raise


def utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
