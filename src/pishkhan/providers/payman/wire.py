"""Payman on the wire: how requests are read, how answers are written, and the models of both.

Reading (the tolerances real clients need, see docs/payman.md): JSON property names and form
fields bind case-insensitively; ``null`` means absent; numbers arrive as ints, floats
(``100000.0``) and numeric strings; datetimes arrive as ISO-8601 with 0..7 fractional digits and
``Z`` or an offset (some clients put Tehran wall-clock time before a literal ``Z``), as zone-less
ISO (Tehran) or as epoch milliseconds. Every problem becomes the document's ``071`` with the
offending field in ``reference``, worded like the live service's .NET binder.

Writing: the answers are built as plain objects (orjson, no pydantic on the request path) by the
renderers below and the rules; the pydantic models at the end describe exactly those bodies and
the requests, with the document's field names, and the OpenAPI document is generated from them
and :data:`OPS` (``routes.openapi``).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal
from urllib.parse import unquote_plus

import orjson
from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema
from sqlalchemy.engine import RowMapping

from pishkhan.core.clock import TEHRAN
from pishkhan.web.asgi import InvalidQuery, query_pairs
from pishkhan.web.openapi import Op

from .errors import CATALOGUE, PaymanError, invalid

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)

# -- reading requests ------------------------------------------------------------------------


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


def _given(obj: Mapping[str, Any], key: str, ref: str, required: bool) -> Any:
    """The value of ``key``; ``None`` when it is absent, ``null`` or blank (071 if required)."""
    value = obj.get(key)
    if not present(value):
        if required:
            raise invalid(ref, f"The {ref} field is required.")
        return None
    return value


def get_str(
    obj: Mapping[str, Any], key: str, ref: str, *, required: bool = False, max_len: int = 0
) -> str | None:
    value = _given(obj, key, ref, required)
    if value is None:
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
    value = _given(obj, key, ref, required)
    if value is None:
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
    value = _given(obj, key, ref, required)
    if value is None:
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
    value = _given(obj, key, ref, required)
    if value is None:
        return None
    return parse_instant(value, ref, now=now, date_only_end=date_only_end)


def as_utc(value: datetime) -> datetime:
    """Database datetimes as aware UTC (SQLite hands back naive UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def epoch_ms(value: datetime | None) -> int | None:
    return None if value is None else int(as_utc(value).timestamp() * 1000)


def utc_from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


#: ``reference`` of the 071 that answers a query string that is not UTF-8 (the body's is ``$``)
QUERY_REFERENCE: Final = "?"


def query_value(query_string: bytes, *names: str) -> str | None:
    """A query parameter by any of ``names``, case-insensitively (``Trace-id``, ``trace_id``);
    the query decoded by the shared rule (:func:`query_pairs`): 071 when it is not UTF-8."""
    try:
        pairs = query_pairs(query_string)
    except InvalidQuery:
        raise invalid(QUERY_REFERENCE, "The query string is not UTF-8.") from None
    folded: dict[str, str] = {}
    for key, value in pairs:
        folded.setdefault(key.strip().lower(), value)
    for name in names:
        found = folded.get(name)
        if found is not None and found.strip():
            return found.strip()
    return None


def basic_credentials(header: str) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` of an ``Authorization: Basic`` header, else ``None``."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def token_form(raw: bytes, content_type: str, authorization: str) -> dict[str, str]:
    """The token request's fields: a form (or JSON) body, the client credentials possibly as
    HTTP Basic instead (generic OAuth libraries send them so, RFC 6749 2.3.1, which the
    Spring-style token endpoint accepts too)."""
    ctype = content_type.lower()
    data = parse_body(raw, ctype) if "json" in ctype else form_to_object(raw)
    form = {k: str(v) for k, v in data.items() if not isinstance(v, dict | list)}
    basic = basic_credentials(authorization)
    if basic is not None and not form.get("client_id"):
        form["client_id"], form["client_secret"] = basic
    return form


# -- writing answers -------------------------------------------------------------------------


def tehran_iso(value: datetime | None) -> str | None:
    """Zone-less Tehran wall-clock time to the second (``/v1/reports/transactions``)."""
    if value is None:
        return None
    return as_utc(value).astimezone(TEHRAN).replace(tzinfo=None).isoformat(timespec="seconds")


def mask_deposit(number: str | None) -> str | None:
    """``2137**********97-1``: the first four and last four characters kept."""
    if not number:
        return None
    if len(number) <= 8:
        return number
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_card(number: str | None) -> str | None:
    if not number or len(number) != 16:
        return None
    return number[:6] + "******" + number[-4:]


#: The creditor's permissions (``/v1/payman/creditor/permissions``); a mandate's
#: ``permission_ids`` are their ids.
PERMISSIONS: Final = (
    {"id": 1, "name": "DIRECT_DEBIT", "display_name": "برداشت وجه"},
    {"id": 2, "name": "BILL_PAY", "display_name": "پرداخت قبض"},
)
#: A mandate's over-draft facility: never offered here.
OVER_DRAFT: Final = {"status": "DEACTIVE"}


def contract_json(row: RowMapping) -> dict[str, Any]:
    """A mandate's contract (``Contract``)."""
    out: dict[str, Any] = {
        "expiration_date": epoch_ms(row["expiration_date"]),
        "start_date": epoch_ms(row["start_date"]),
        "max_daily_transaction_count": row["max_daily_count"],
    }
    if row["max_monthly_count"] is not None:
        out["max_monthly_transaction_count"] = row["max_monthly_count"]
    if row["max_amount"] is not None:
        out["max_transaction_amount"] = row["max_amount"]
    if row["daily_max_amount"] is not None:
        out["daily_max_transaction_amount"] = row["daily_max_amount"]
    out["currency"] = "IRR"
    return out


def trace_json(row: RowMapping) -> dict[str, Any]:
    """create/trace (``CreateTrace``): the document's sample fields (plus payman_code before
    activation); ``internal_status`` is the catalogue's text of the mandate's internal code."""
    out: dict[str, Any] = {
        "bank_code": row["bank_code"],
        "user_id": row["user_id"],
        "payman_id": row["payman_id"],
    }
    if row["payman_id"] is None:
        out["payman_code"] = row["payman_code"]
    out.update(
        {
            "status": row["status"],
            "internal_status": CATALOGUE[row["internal_status"]][1],
            "permission_ids": list(row["permission_ids"]),
            "contract": contract_json(row),
        }
    )
    card = mask_card(row["card_number"])
    if card:
        out["card_number"] = card
    out["over_draft"] = OVER_DRAFT
    return out


def search_item(row: RowMapping, creditor_title: str, creditor_id: str) -> dict[str, Any]:
    """One mandate of /v1/payman/search (``SearchItem``)."""
    return {
        "payman_id": row["payman_id"],
        "bank_code": row["bank_code"],
        "user_id": row["user_id"],
        "status": row["status"],
        "creditor_title": creditor_title,
        "trace_id": row["trace_id"],
        "creditor_id": creditor_id,
        "permission_ids": list(row["permission_ids"]),
        "registration_date": epoch_ms(row["created_at"]),
        "contract": contract_json(row),
        "over_draft": OVER_DRAFT,
    }


def transaction_item(r: RowMapping) -> dict[str, Any]:
    """One payment of /v1/payman/transactions (``TransactionItem``)."""
    return {
        "commission_amount": r["commission_amount"],
        "currency": "IRR",
        "description": r["description"],
        "destination_bank_code": r["destination_bank"],
        "reference_id": r["reference_id"],
        "source_bank_code": r["source_bank"],
        "status": r["status"],
        "trace_id": r["trace_id"],
        "transaction_amount": r["amount"],
        "transaction_time": epoch_ms(r["created_at"]),
        "payman_id": r["payman_id"],
        "transaction_type": r["transaction_type"],
    }


def merchant_transaction(r: RowMapping) -> dict[str, Any]:
    """One payment of /v1/reports/transactions (``MerchantTransaction``)."""
    item: dict[str, Any] = {
        "commission_amount": r["commission_amount"],
        "currency": "IRR",
        "description": r["description"],
        "destination_bank": r["destination_bank"],
        "reference_id": r["reference_id"],
        "source_bank": r["source_bank"],
        "status": r["status"],
        "trace_id": r["trace_id"],
        "transaction_amount": r["amount"],
        "payman_id": r["payman_id"],
        "error_type": r["error_code"] or "",
        "transaction_type": r["transaction_type"],
        "server_date": tehran_iso(r["created_at"]),
        "client_date": tehran_iso(r["client_date"] or r["created_at"]),
    }
    if r["reconcile_status"] is not None:
        item["reconcile_status"] = r["reconcile_status"]
    return item


# -- the models (the OpenAPI document's schemas) ---------------------------------------------


def _tidy(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The document's spelling of a model: no generated titles or ``null`` defaults, and a field
    the answer leaves out when it has no value (not required) typed without ``null``."""
    schema.pop("title", None)
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        prop.pop("default", None)
        choices = prop.get("anyOf")
        if name not in required and choices and {"type": "null"} in choices:
            rest = [c for c in choices if c != {"type": "null"}]
            del prop["anyOf"]
            if len(rest) == 1:
                prop.update(rest[0])
            else:
                prop["anyOf"] = rest


class Wire(BaseModel):
    model_config = ConfigDict(json_schema_extra=_tidy)


class WireList(RootModel[Any]):
    model_config = ConfigDict(json_schema_extra=_tidy)


EpochMs = Annotated[int, Field(description="epoch milliseconds")]
NumberIn = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": ["integer", "number", "string"],
            "description": "a number; numeric strings accepted",
        }
    ),
]
DateTimeIn = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": ["string", "integer"],
            "description": "ISO-8601 (0..7 fractional digits, Z or offset; no zone = Tehran) "
            "or epoch ms",
        }
    ),
]
Filter = Annotated[Any, WithJsonSchema({"type": ["object", "array", "null"]})]
TehranTime = Annotated[str, Field(description="zone-less Tehran time")]
MandateStatus = Literal[
    "INITIALIZING", "WAITING_FOR_CONFIRM", "ACTIVE", "DEACTIVE", "CANCELLED", "EXPIRED"
]
TransactionStatus = Literal[
    "IN_PROGRESS", "FAILED", "SUCCEED", "REVERSED", "TIMEOUT", "BALANCE_FAILED"
]


class ErrorItem(Wire):
    error: str
    code: str
    reference: str | None = None
    info: str | None = None


class Error(Wire):
    """Every error: the catalogue's code and message, and each error's field (``reference``) and
    detail (``info``)."""

    error: str
    code: Annotated[str, Field(pattern="^[0-9]+$")]
    errors: list[ErrorItem]


class OverDraft(Wire):
    status: Literal["DEACTIVE"]


class Contract(Wire):
    expiration_date: EpochMs
    start_date: EpochMs
    max_daily_transaction_count: int
    max_monthly_transaction_count: int | None = None
    max_transaction_amount: int | None = None
    daily_max_transaction_amount: int | None = None
    currency: Literal["IRR"]


class TokenRequest(Wire):
    client_id: str
    client_secret: str
    grant_type: Literal["client_credentials"]


class Token(Wire):
    access_token: str
    token_type: Literal["bearer"]
    scope: str
    expires_in: int


class ContractTerms(Wire):
    expiration_date: DateTimeIn
    start_date: DateTimeIn = None
    max_daily_transaction_count: NumberIn
    max_monthly_transaction_count: NumberIn = None
    max_transaction_amount: NumberIn = None
    daily_max_transaction_amount: NumberIn = None


class MandateTerms(Wire):
    bank_code: str
    user_id: str
    permission_ids: list[int]
    contract: ContractTerms


class CreateRequest(Wire):
    payman: MandateTerms
    redirect_url: str
    trace_id: Annotated[str, Field(max_length=35)]


class UpdateRequest(Wire):
    payman_id: str
    expiration_date: DateTimeIn = None
    max_daily_transaction_count: NumberIn = None
    max_monthly_transaction_count: NumberIn = None
    max_transaction_amount: NumberIn = None
    daily_max_transaction_amount: NumberIn = None
    redirect_url: str | None = None


class GetIdResult(Wire):
    payman_id: str
    status: MandateStatus
    deposit_number: str


class CreateTrace(Wire):
    bank_code: str
    user_id: str
    payman_id: str | None
    payman_code: str | None = None
    status: MandateStatus
    internal_status: str
    permission_ids: list[int]
    contract: Contract
    card_number: str | None = None
    over_draft: OverDraft | None = None


class StatusChangeRequest(Wire):
    new_status: Annotated[str, Field(description="ACTIVE, DEACTIVE or CANCELLED (any case)")]
    payman_id: str


class StatusChangeResult(Wire):
    payman_id: str
    status: MandateStatus


class _PageRequest(Wire):
    # a page of a list: from ``offset``, ``length`` items (1..1000), the list's ``filter``
    offset: NumberIn
    length: NumberIn
    filter: Filter = None


class SearchRequest(_PageRequest):
    pass


class SearchItem(Wire):
    payman_id: str | None
    bank_code: str
    user_id: str
    status: MandateStatus
    creditor_title: str | None = None
    trace_id: str
    creditor_id: str | None = None
    permission_ids: list[int] | None = None
    registration_date: EpochMs
    contract: Contract
    over_draft: OverDraft | None = None


class SearchResult(Wire):
    results: list[SearchItem]
    total_records: int


class Report(Wire):
    payman_id: str
    expiration_date: EpochMs
    start_date: EpochMs
    remaining_daily_transactions_count: int
    remaining_monthly_transactions_count: int | None = None
    end_of_current_month: EpochMs
    max_daily_transactions_count: int
    max_monthly_transactions_count: int | None = None
    remaining_days: int
    remaining_daily_transaction_amount: int
    daily_transaction_max_amount: int
    status: MandateStatus
    deposit_number: str


class PayRequest(Wire):
    trace_id: str
    payman_id: str
    amount: NumberIn
    description: str | None = None
    client_transaction_date: DateTimeIn = None
    pay_id: str | None = None
    commission_amount: NumberIn = None


class PayDetail(Wire):
    reference_id: str
    trace_id: str
    amount: int
    transaction_time: EpochMs
    transaction_detail_type: Literal["MAIN", "PAYMAN_COMMISSION"]
    status: TransactionStatus


class _Payment(Wire):
    # what pay answers and pay/trace repeats
    reference_id: str
    trace_id: str
    transaction_amount: int
    transaction_time: EpochMs
    batch_id: int
    commission_amount: int
    status: TransactionStatus
    is_over_draft: bool


class PayResult(_Payment):
    details: list[PayDetail]


class PayTrace(_Payment):
    currency: str
    description: str
    destination_bank: str
    destination_deposit: str
    source_bank: str
    source_deposit: str
    transaction_type: str
    card_number: str | None = None
    error_type: str
    reconcile_status: int | None = None
    pay_id: str | None = None


class TransactionsRequest(_PageRequest):
    pass


class TransactionItem(Wire):
    commission_amount: int
    currency: str
    description: str
    destination_bank_code: str
    reference_id: str
    source_bank_code: str
    status: TransactionStatus
    trace_id: str
    transaction_amount: int
    transaction_time: EpochMs
    payman_id: str
    transaction_type: str


class TransactionsResult(Wire):
    results: list[TransactionItem]
    total_records: int


class MerchantTransactionsRequest(Wire):
    offset: NumberIn
    length: NumberIn
    start_date: DateTimeIn
    end_date: DateTimeIn
    bank_code: str
    reconciled_after: DateTimeIn = None
    reconcile_status: NumberIn = None


class MerchantTransaction(Wire):
    commission_amount: int | None = None
    currency: str | None = None
    description: str | None = None
    destination_bank: str | None = None
    reference_id: str
    source_bank: str | None = None
    status: TransactionStatus
    trace_id: str
    transaction_amount: int
    payman_id: str | None = None
    error_type: str | None = None
    transaction_type: str | None = None
    server_date: TehranTime
    client_date: TehranTime
    reconcile_status: int | None = None


class MerchantTransactions(WireList):
    root: list[MerchantTransaction]


class StatisticsRequest(Wire):
    start_date: DateTimeIn
    end_date: DateTimeIn


class BankTotals(Wire):
    bank_code: str
    transaction_type: str
    total_amount: int
    total_count: int
    count_of_over_draft_payment: int | None = None


class Statistics(Wire):
    total_amount: int
    total_records: int
    results: list[BankTotals]


class ServiceHealth(Wire):
    bank: str
    service: Literal["pay", "create"]
    status: Literal["stable", "unstable", "Inaccessible"]
    last_updated: EpochMs


class Health(WireList):
    root: list[ServiceHealth]


class Permission(Wire):
    id: int
    name: str
    display_name: str


class Permissions(WireList):
    root: list[Permission]


class LoginForm(Wire):
    """The consent page's sign-in form (every field may be missing: the page answers)."""

    boom_token: str | None = None
    national_code: str | None = None
    mobile: str | None = None


class DecideForm(Wire):
    """The consent page's approve/cancel form."""

    boom_token: str | None = None
    action: Literal["approve", "cancel"] | None = None
    deposit: str | None = None


# -- the operations --------------------------------------------------------------------------

DESCRIPTION: Final = (
    "Payman (Faraboom) direct debit v1.6 as pishkhan serves it: OAuth client credentials, "
    "mandates created and updated through the bank consent page (`/payman-bank/...`), pay within "
    "the contract's limits, traces, reports and service health. Errors answer "
    "`{error, code, errors: [{error, code, reference?, info?}]}` with a string `code`. JSON "
    "property names and form fields bind case-insensitively."
)

#: The client headers create, update, status/change, create/trace and pay/trace require (2066).
CLIENT_HEADERS: Final = (
    "Client-Device-Id",
    "Client-Ip-Address",
    "Client-User-Agent",
    "Client-Platform-Type",
)
#: What the report calls require (their bearer token is optional).
REPORT_HEADERS: Final = (*CLIENT_HEADERS, "Client-User-Id")

_STR: Final = {"type": "string"}
_HTML: Final = {"type": "string", "description": "text/html"}
_Param = tuple[str, dict[str, Any], bool, str]
_ERRORS: Final = {
    400: ("documented error", Error),
    401: ("token missing or invalid (2009, 2067, 2069)", Error),
    403: ("access error (2026, 2034, 2053)", Error),
    423: ("service closed (2500)", Error),
    500: ("internal error (2001)", Error),
    503: ("bank side unavailable (2000, 60000)", Error),
}
_BASE: Final = ("App-Key", "Authorization")
_BY_CLIENT: Final = (*_BASE, *CLIENT_HEADERS)
_REPORT_OPTIONAL: Final = ("Authorization", "Device-Id")


def _q(name: str, description: str, required: bool = True) -> _Param:
    return (name, _STR, required, description)


def _op(
    summary: str,
    ok: tuple[int, str, type[BaseModel] | None],
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    *,
    body: type[BaseModel] | None = None,
    query: tuple[_Param, ...] = (),
    headers: tuple[_Param, ...] = (),
    media: str = "application/json",
    security: list[dict[str, list[str]]] | None = None,
) -> Op:
    """An API operation: its answer ``ok`` or a documented error; the ``required`` headers
    (2066/2067/2068 when missing), the ``optional`` ones, and ``headers`` said otherwise."""
    params = [(n, _STR, True, "required (2066/2067/2068 when missing)") for n in required]
    params += [(n, _STR, False, "optional") for n in optional]
    params += headers
    return Op(
        summary,
        body=body,
        body_media=media,
        query=list(query),
        headers=params,
        responses={ok[0]: (ok[1], ok[2]), **_ERRORS},
        tags=["payman"],
        security=[{"bearer": []}] if security is None else security,
        operation_id=summary.split(":")[0].replace(" ", "_"),
    )


def _report_op(
    summary: str,
    ok: tuple[int, str, type[BaseModel]],
    body: type[BaseModel] | None = None,
    query: tuple[_Param, ...] = (),
) -> Op:
    """A report call: App-Key and the client headers; the bearer token optional."""
    return _op(summary, ok, ("App-Key", *REPORT_HEADERS), _REPORT_OPTIONAL, body=body, query=query)


#: What the consent page and its sign-in answer an Android web view (the document forbids them).
_WEBVIEW: Final = {403: ("refused: an Android web view (`; wv)` in User-Agent)", _HTML)}


def _page_op(
    summary: str,
    form: type[BaseModel] | None,
    operation_id: str,
    answers: dict[int, tuple[str, Any]],
    query: tuple[_Param, ...] = (),
) -> Op:
    """A consent page operation: HTML pages or redirects (a form's fields may all be absent:
    the page answers)."""
    return Op(
        summary,
        body=form,
        body_media="application/x-www-form-urlencoded",
        query=list(query),
        responses={
            **answers,
            404: ("unknown or missing boom_token", _HTML),
            410: ("already used", _HTML),
        },
        response_media="text/html",
        tags=["consent"],
        security=[],
        operation_id=operation_id,
    )


_REDIRECT: Final = "Location: the consent page; empty body"
_PERSON: Final = "Mobile-no"

#: What each operation accepts and answers, by the name of its handler in ``routes``.
OPS: Final[dict[str, Op]] = {
    "token": _op(
        "token: client credentials (form-encoded; keys any case)",
        (200, "token", Token),
        (),
        body=TokenRequest,
        headers=(
            _q(
                "Authorization",
                "optional `Basic base64(client_id:client_secret)` instead of the body's",
                False,
            ),
        ),
        media="application/x-www-form-urlencoded",
        security=[],
    ),
    "create": _op(
        "create: 302 to the bank consent page",
        (302, _REDIRECT, None),
        (*_BY_CLIENT, _PERSON),
        ("National-code", "Client-User-Id"),
        body=CreateRequest,
    ),
    "get_id": _op(
        "getId: activate a confirmed mandate",
        (200, "activated", GetIdResult),
        _BASE,
        query=(_q("payman_code", "from the redirect"),),
    ),
    "create_trace": _op(
        "create_trace: a mandate by its creation trace id",
        (200, "the mandate", CreateTrace),
        _BY_CLIENT,
        query=(_q("trace-id", "trace_id of create"),),
    ),
    "status_change": _op(
        "status_change: ACTIVE, DEACTIVE, CANCELLED",
        (200, "changed", StatusChangeResult),
        _BY_CLIENT,
        body=StatusChangeRequest,
    ),
    "update": _op(
        "update: 302 to the consent page",
        (302, _REDIRECT, None),
        (*_BY_CLIENT, _PERSON),
        ("National-code",),
        body=UpdateRequest,
    ),
    "search": _report_op(
        "search: the merchant's mandates", (200, "a page", SearchResult), SearchRequest
    ),
    "report": _report_op("report: a mandate's remaining limits", (200, "the report", Report)),
    "report_query": _report_op(
        "report_query: a mandate's remaining limits (the document's Payman-id query form)",
        (200, "the report", Report),
        query=(_q("payman-id", "payman_id (also payman_id)"),),
    ),
    "pay": _op("pay: direct debit", (200, "the payment", PayResult), _BASE, body=PayRequest),
    "pay_trace": _op(
        "pay_trace: a payment by trace id",
        (200, "the payment", PayTrace),
        _BY_CLIENT,
        query=(_q("trace-id", "trace_id of pay"), _q("date", "transaction date", False)),
    ),
    "transactions": _report_op(
        "transactions: filtered payments", (200, "a page", TransactionsResult), TransactionsRequest
    ),
    "merchant_transactions": _report_op(
        "reports_transactions: payments in a period (top-level array)",
        (200, "payments", MerchantTransactions),
        MerchantTransactionsRequest,
    ),
    "statistics": _report_op(
        "statistics: totals per bank", (200, "totals", Statistics), StatisticsRequest
    ),
    "health": _op(
        "health: each bank's pay and create service",
        (200, "states", Health),
        (*_BY_CLIENT, "Client-User-Id"),
    ),
    "permissions": _op(
        "permissions: the creditor's permissions", (200, "permissions", Permissions), _BASE
    ),
    "authorize": _page_op(
        "consent page (HTML)",
        None,
        "consent_page",
        {
            200: ("the page (sign in, or approve once signed in)", _HTML),
            302: ("back to the merchant (the page has expired)", None),
            **_WEBVIEW,
        },
        (_q("boom_token", "from Location"), _q("bank_id", "bank code", False)),
    ),
    "login": _page_op(
        "consent page: sign in",
        LoginForm,
        "consent_login",
        {
            200: ("the sign-in page again, with the error (e.g. 2112)", _HTML),
            303: ("to the approval page or back to the merchant", None),
            **_WEBVIEW,
        },
    ),
    "decide": _page_op(
        "consent page: approve or cancel",
        DecideForm,
        "consent_decide",
        {
            200: ("the approval page again: pick a deposit", _HTML),
            303: ("back to the merchant", None),
            400: ("neither approve nor cancel", _HTML),
            403: ("not signed in", _HTML),
        },
    ),
}
