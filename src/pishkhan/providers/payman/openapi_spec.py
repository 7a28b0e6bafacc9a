"""What each Payman endpoint accepts and answers, for the OpenAPI 3.1 document."""

from __future__ import annotations

from typing import Any

from pishkhan.web.openapi import Op

S = dict[str, Any]
STR: S = {"type": "string"}
INT: S = {"type": "integer"}
EPOCH_MS: S = {"type": "integer", "description": "epoch milliseconds"}
NUMBER_IN: S = {
    "type": ["integer", "number", "string"],
    "description": "a number; numeric strings accepted",
}
DATETIME_IN: S = {
    "type": ["string", "integer"],
    "description": "ISO-8601 (0..7 fractional digits, Z or offset; no zone = Tehran) or epoch ms",
}
REF = "#/components/schemas/"


def ref(name: str) -> S:
    return {"$ref": REF + name}


DESCRIPTION = (
    "Payman (Faraboom) direct debit v1.6 as pishkhan serves it: OAuth client credentials, "
    "mandates created and updated through the bank consent page (`/payman-bank/...`), pay within "
    "the contract's limits, traces, reports and service health. Errors answer "
    "`{error, code, errors: [{error, code, reference?, info?}]}` with a string `code`. JSON "
    "property names and form fields bind case-insensitively."
)

ERROR: S = {
    "type": "object",
    "required": ["error", "code", "errors"],
    "properties": {
        "error": STR,
        "code": {"type": "string", "pattern": "^[0-9]+$"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["error", "code"],
                "properties": {"error": STR, "code": STR, "reference": STR, "info": STR},
            },
        },
    },
}
CONTRACT_OUT: S = {
    "type": "object",
    "required": ["expiration_date", "start_date", "max_daily_transaction_count", "currency"],
    "properties": {
        "expiration_date": EPOCH_MS,
        "start_date": EPOCH_MS,
        "max_daily_transaction_count": INT,
        "max_monthly_transaction_count": INT,
        "max_transaction_amount": INT,
        "daily_max_transaction_amount": INT,
        "currency": {"const": "IRR"},
    },
}
CONTRACT_IN: S = {
    "type": "object",
    "required": ["expiration_date", "max_daily_transaction_count"],
    "properties": {
        "expiration_date": DATETIME_IN,
        "start_date": DATETIME_IN,
        "max_daily_transaction_count": NUMBER_IN,
        "max_monthly_transaction_count": NUMBER_IN,
        "max_transaction_amount": NUMBER_IN,
        "daily_max_transaction_amount": NUMBER_IN,
    },
}
OVER_DRAFT: S = {"type": "object", "properties": {"status": {"const": "DEACTIVE"}}}
MANDATE_STATUS: S = {
    "type": "string",
    "enum": ["INITIALIZING", "WAITING_FOR_CONFIRM", "ACTIVE", "DEACTIVE", "CANCELLED", "EXPIRED"],
}
TXN_STATUS: S = {
    "type": "string",
    "enum": ["IN_PROGRESS", "FAILED", "SUCCEED", "REVERSED", "TIMEOUT", "BALANCE_FAILED"],
}


def obj(required: list[str], props: S) -> S:
    return {"type": "object", "required": required, "properties": props}


COMPONENTS: S = {
    "Error": ERROR,
    "Contract": CONTRACT_OUT,
    "Token": obj(
        ["access_token", "token_type", "scope", "expires_in"],
        {"access_token": STR, "token_type": {"const": "bearer"}, "scope": STR, "expires_in": INT},
    ),
    "TokenRequest": obj(
        ["client_id", "client_secret", "grant_type"],
        {"client_id": STR, "client_secret": STR, "grant_type": {"const": "client_credentials"}},
    ),
    "CreateRequest": obj(
        ["payman", "redirect_url", "trace_id"],
        {
            "payman": obj(
                ["bank_code", "user_id", "permission_ids", "contract"],
                {
                    "bank_code": STR,
                    "user_id": STR,
                    "permission_ids": {"type": "array", "items": INT},
                    "contract": CONTRACT_IN,
                },
            ),
            "redirect_url": STR,
            "trace_id": {"type": "string", "maxLength": 35},
        },
    ),
    "UpdateRequest": obj(
        ["payman_id"],
        {
            "payman_id": STR,
            "expiration_date": DATETIME_IN,
            "max_daily_transaction_count": NUMBER_IN,
            "max_monthly_transaction_count": NUMBER_IN,
            "max_transaction_amount": NUMBER_IN,
            "daily_max_transaction_amount": NUMBER_IN,
            "redirect_url": STR,
        },
    ),
    "GetIdResult": obj(
        ["payman_id", "status", "deposit_number"],
        {"payman_id": STR, "status": MANDATE_STATUS, "deposit_number": STR},
    ),
    "CreateTrace": obj(
        [
            "bank_code",
            "user_id",
            "payman_id",
            "status",
            "internal_status",
            "permission_ids",
            "contract",
        ],
        {
            "bank_code": STR,
            "user_id": STR,
            "payman_id": {"type": ["string", "null"]},
            "payman_code": STR,
            "status": MANDATE_STATUS,
            "internal_status": STR,
            "permission_ids": {"type": "array", "items": INT},
            "contract": ref("Contract"),
            "card_number": STR,
            "over_draft": OVER_DRAFT,
        },
    ),
    "StatusChangeRequest": obj(
        ["new_status", "payman_id"],
        {
            "new_status": {
                "type": "string",
                "description": "ACTIVE, DEACTIVE or CANCELLED (any case)",
            },
            "payman_id": STR,
        },
    ),
    "StatusChangeResult": obj(
        ["payman_id", "status"], {"payman_id": STR, "status": MANDATE_STATUS}
    ),
    "SearchRequest": obj(
        ["offset", "length"],
        {"offset": NUMBER_IN, "length": NUMBER_IN, "filter": {"type": ["object", "array", "null"]}},
    ),
    "SearchResult": obj(
        ["results", "total_records"],
        {
            "results": {
                "type": "array",
                "items": obj(
                    [
                        "payman_id",
                        "bank_code",
                        "user_id",
                        "status",
                        "trace_id",
                        "registration_date",
                        "contract",
                    ],
                    {
                        "payman_id": {"type": ["string", "null"]},
                        "bank_code": STR,
                        "user_id": STR,
                        "status": MANDATE_STATUS,
                        "creditor_title": STR,
                        "trace_id": STR,
                        "creditor_id": STR,
                        "permission_ids": {"type": "array", "items": INT},
                        "registration_date": EPOCH_MS,
                        "contract": ref("Contract"),
                        "over_draft": OVER_DRAFT,
                    },
                ),
            },
            "total_records": INT,
        },
    ),
    "Report": obj(
        [
            "payman_id",
            "expiration_date",
            "start_date",
            "remaining_daily_transactions_count",
            "end_of_current_month",
            "max_daily_transactions_count",
            "remaining_days",
            "remaining_daily_transaction_amount",
            "daily_transaction_max_amount",
            "status",
            "deposit_number",
        ],
        {
            "payman_id": STR,
            "expiration_date": EPOCH_MS,
            "start_date": EPOCH_MS,
            "remaining_daily_transactions_count": INT,
            "remaining_monthly_transactions_count": INT,
            "end_of_current_month": EPOCH_MS,
            "max_daily_transactions_count": INT,
            "max_monthly_transactions_count": INT,
            "remaining_days": INT,
            "remaining_daily_transaction_amount": INT,
            "daily_transaction_max_amount": INT,
            "status": MANDATE_STATUS,
            "deposit_number": STR,
        },
    ),
    "PayRequest": obj(
        ["trace_id", "payman_id", "amount"],
        {
            "trace_id": STR,
            "payman_id": STR,
            "amount": NUMBER_IN,
            "description": STR,
            "client_transaction_date": DATETIME_IN,
            "pay_id": STR,
            "commission_amount": NUMBER_IN,
        },
    ),
    "PayResult": obj(
        [
            "reference_id",
            "trace_id",
            "transaction_amount",
            "transaction_time",
            "batch_id",
            "commission_amount",
            "status",
            "details",
            "is_over_draft",
        ],
        {
            "reference_id": STR,
            "trace_id": STR,
            "transaction_amount": INT,
            "transaction_time": EPOCH_MS,
            "batch_id": INT,
            "commission_amount": INT,
            "status": TXN_STATUS,
            "details": {
                "type": "array",
                "items": obj(
                    [
                        "reference_id",
                        "trace_id",
                        "amount",
                        "transaction_time",
                        "transaction_detail_type",
                        "status",
                    ],
                    {
                        "reference_id": STR,
                        "trace_id": STR,
                        "amount": INT,
                        "transaction_time": EPOCH_MS,
                        "transaction_detail_type": {"enum": ["MAIN", "PAYMAN_COMMISSION"]},
                        "status": TXN_STATUS,
                    },
                ),
            },
            "is_over_draft": {"type": "boolean"},
        },
    ),
    "PayTrace": obj(
        [
            "currency",
            "description",
            "destination_bank",
            "destination_deposit",
            "source_bank",
            "source_deposit",
            "transaction_type",
            "error_type",
            "reference_id",
            "trace_id",
            "transaction_amount",
            "transaction_time",
            "batch_id",
            "commission_amount",
            "status",
            "is_over_draft",
        ],
        {
            "currency": STR,
            "description": STR,
            "destination_bank": STR,
            "destination_deposit": STR,
            "source_bank": STR,
            "source_deposit": STR,
            "transaction_type": STR,
            "card_number": STR,
            "error_type": STR,
            "reference_id": STR,
            "trace_id": STR,
            "transaction_amount": INT,
            "transaction_time": EPOCH_MS,
            "batch_id": INT,
            "commission_amount": INT,
            "status": TXN_STATUS,
            "is_over_draft": {"type": "boolean"},
            "reconcile_status": INT,
            "pay_id": STR,
        },
    ),
    "TransactionsRequest": obj(
        ["offset", "length"],
        {"offset": NUMBER_IN, "length": NUMBER_IN, "filter": {"type": ["object", "array", "null"]}},
    ),
    "TransactionsResult": obj(
        ["results", "total_records"],
        {
            "results": {
                "type": "array",
                "items": obj(
                    [
                        "commission_amount",
                        "currency",
                        "description",
                        "destination_bank_code",
                        "reference_id",
                        "source_bank_code",
                        "status",
                        "trace_id",
                        "transaction_amount",
                        "transaction_time",
                        "payman_id",
                        "transaction_type",
                    ],
                    {
                        "commission_amount": INT,
                        "currency": STR,
                        "description": STR,
                        "destination_bank_code": STR,
                        "reference_id": STR,
                        "source_bank_code": STR,
                        "status": TXN_STATUS,
                        "trace_id": STR,
                        "transaction_amount": INT,
                        "transaction_time": EPOCH_MS,
                        "payman_id": STR,
                        "transaction_type": STR,
                    },
                ),
            },
            "total_records": INT,
        },
    ),
    "MerchantTransactionsRequest": obj(
        ["offset", "length", "start_date", "end_date", "bank_code"],
        {
            "offset": NUMBER_IN,
            "length": NUMBER_IN,
            "start_date": DATETIME_IN,
            "end_date": DATETIME_IN,
            "bank_code": STR,
            "reconciled_after": DATETIME_IN,
            "reconcile_status": NUMBER_IN,
        },
    ),
    "MerchantTransaction": obj(
        ["reference_id", "trace_id", "transaction_amount", "status", "server_date", "client_date"],
        {
            "commission_amount": INT,
            "currency": STR,
            "description": STR,
            "destination_bank": STR,
            "reference_id": STR,
            "source_bank": STR,
            "status": TXN_STATUS,
            "trace_id": STR,
            "transaction_amount": INT,
            "payman_id": STR,
            "error_type": STR,
            "transaction_type": STR,
            "server_date": {"type": "string", "description": "zone-less Tehran time"},
            "client_date": {"type": "string", "description": "zone-less Tehran time"},
            "reconcile_status": INT,
        },
    ),
    "StatisticsRequest": obj(
        ["start_date", "end_date"], {"start_date": DATETIME_IN, "end_date": DATETIME_IN}
    ),
    "Statistics": obj(
        ["total_amount", "total_records", "results"],
        {
            "total_amount": INT,
            "total_records": INT,
            "results": {
                "type": "array",
                "items": obj(
                    ["bank_code", "transaction_type", "total_amount", "total_count"],
                    {
                        "bank_code": STR,
                        "transaction_type": STR,
                        "total_amount": INT,
                        "total_count": INT,
                        "count_of_over_draft_payment": INT,
                    },
                ),
            },
        },
    ),
    "Health": {
        "type": "array",
        "items": obj(
            ["bank", "service", "status", "last_updated"],
            {
                "bank": STR,
                "service": {"enum": ["pay", "create"]},
                "status": {"enum": ["stable", "unstable", "Inaccessible"]},
                "last_updated": EPOCH_MS,
            },
        ),
    },
    "Permissions": {
        "type": "array",
        "items": obj(["id", "name", "display_name"], {"id": INT, "name": STR, "display_name": STR}),
    },
}


def hdr(names: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[tuple[str, S, bool, str]]:
    out = [(n, STR, True, "required (2066/2067/2068 when missing)") for n in names]
    out += [(n, STR, False, "optional") for n in optional]
    return out


CLIENT = ("Client-Device-Id", "Client-Ip-Address", "Client-User-Agent", "Client-Platform-Type")
BASE = ("App-Key", "Authorization")
REPORT = ("App-Key", *CLIENT, "Client-User-Id")
ERRS = {
    400: ("documented error", ref("Error")),
    401: ("token missing or invalid (2009, 2067, 2069)", ref("Error")),
    403: ("access error (2026, 2034, 2053)", ref("Error")),
    423: ("service closed (2500)", ref("Error")),
    500: ("internal error (2001)", ref("Error")),
    503: ("bank side unavailable (2000, 60000)", ref("Error")),
}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def op(
    summary: str,
    body: str | None,
    ok: tuple[int, str, S | None],
    headers: list[Any],
    query: list[Any] | None = None,
    media: str = "application/json",
    security: Any = BEARER,
) -> Op:
    return Op(
        summary,
        body=ref(body) if body else None,
        body_media=media,
        query=query or [],
        headers=headers,
        responses={ok[0]: (ok[1], ok[2]), **ERRS},
        tags=["payman"],
        security=security,
        operation_id=summary.split(":")[0].replace(" ", "_"),
    )


PERSON = ("Mobile-no",)
OPS: dict[str, tuple[str, str, Op]] = {
    "token": (
        "/oauth/token",
        "POST",
        op(
            "token: client credentials (form-encoded; keys any case)",
            "TokenRequest",
            (200, "token", ref("Token")),
            [
                (
                    "Authorization",
                    STR,
                    False,
                    "optional `Basic base64(client_id:client_secret)` instead of the body's",
                )
            ],
            media="application/x-www-form-urlencoded",
            security=[],
        ),
    ),
    "create": (
        "/v1/payman/create",
        "POST",
        op(
            "create: 302 to the bank consent page",
            "CreateRequest",
            (302, "Location: the consent page; empty body", None),
            hdr((*BASE, *CLIENT, *PERSON), ("National-code", "Client-User-Id")),
        ),
    ),
    "get_id": (
        "/v1/payman/getId",
        "GET",
        op(
            "getId: activate a confirmed mandate",
            None,
            (200, "activated", ref("GetIdResult")),
            hdr(BASE),
            [("payman_code", STR, True, "from the redirect")],
        ),
    ),
    "create_trace": (
        "/v1/payman/create/trace",
        "GET",
        op(
            "create_trace: a mandate by its creation trace id",
            None,
            (200, "the mandate", ref("CreateTrace")),
            hdr((*BASE, *CLIENT)),
            [("trace-id", STR, True, "trace_id of create")],
        ),
    ),
    "status_change": (
        "/v1/payman/status/change",
        "POST",
        op(
            "status_change: ACTIVE, DEACTIVE, CANCELLED",
            "StatusChangeRequest",
            (200, "changed", ref("StatusChangeResult")),
            hdr((*BASE, *CLIENT)),
        ),
    ),
    "update": (
        "/v1/payman/update",
        "POST",
        op(
            "update: 302 to the consent page",
            "UpdateRequest",
            (302, "Location: the consent page; empty body", None),
            hdr((*BASE, *CLIENT, *PERSON), ("National-code",)),
        ),
    ),
    "search": (
        "/v1/payman/search",
        "POST",
        op(
            "search: the merchant's mandates",
            "SearchRequest",
            (200, "a page", ref("SearchResult")),
            hdr(REPORT, ("Authorization", "Device-Id")),
        ),
    ),
    "report": (
        "/v1/payman/report/{payman_id}",
        "GET",
        op(
            "report: a mandate's remaining limits",
            None,
            (200, "the report", ref("Report")),
            hdr(REPORT, ("Authorization", "Device-Id")),
        ),
    ),
    "report_query": (
        "/v1/payman/report",
        "GET",
        op(
            "report_query: a mandate's remaining limits (the document's Payman-id query form)",
            None,
            (200, "the report", ref("Report")),
            hdr(REPORT, ("Authorization", "Device-Id")),
            [("payman-id", STR, True, "payman_id (also payman_id)")],
        ),
    ),
    "pay": (
        "/v1/payman/pay",
        "POST",
        op("pay: direct debit", "PayRequest", (200, "the payment", ref("PayResult")), hdr(BASE)),
    ),
    "pay_trace": (
        "/v1/payman/pay/trace",
        "GET",
        op(
            "pay_trace: a payment by trace id",
            None,
            (200, "the payment", ref("PayTrace")),
            hdr((*BASE, *CLIENT)),
            [("trace-id", STR, True, "trace_id of pay"), ("date", STR, False, "transaction date")],
        ),
    ),
    "transactions": (
        "/v1/payman/transactions",
        "POST",
        op(
            "transactions: filtered payments",
            "TransactionsRequest",
            (200, "a page", ref("TransactionsResult")),
            hdr(REPORT, ("Authorization", "Device-Id")),
        ),
    ),
    "merchant_transactions": (
        "/v1/reports/transactions",
        "POST",
        op(
            "reports_transactions: payments in a period (top-level array)",
            "MerchantTransactionsRequest",
            (200, "payments", {"type": "array", "items": ref("MerchantTransaction")}),
            hdr(REPORT, ("Authorization", "Device-Id")),
        ),
    ),
    "statistics": (
        "/v1/reports/transactions/statistics",
        "POST",
        op(
            "statistics: totals per bank",
            "StatisticsRequest",
            (200, "totals", ref("Statistics")),
            hdr(REPORT, ("Authorization", "Device-Id")),
        ),
    ),
    "health": (
        "/v1/health/service",
        "GET",
        op(
            "health: each bank's pay and create service",
            None,
            (200, "states", ref("Health")),
            hdr((*BASE, *CLIENT, "Client-User-Id")),
        ),
    ),
    "permissions": (
        "/v1/payman/creditor/permissions",
        "GET",
        op(
            "permissions: the creditor's permissions",
            None,
            (200, "permissions", ref("Permissions")),
            hdr(BASE),
        ),
    ),
}
HTML: S = {"type": "string", "description": "text/html"}
PAGE_OPS: dict[str, tuple[str, str, Op]] = {
    "authorize": (
        "/payman-bank/oauth/authorize",
        "GET",
        Op(
            "consent page (HTML)",
            query=[
                ("boom_token", STR, True, "from Location"),
                ("bank_id", STR, False, "bank code"),
            ],
            responses={
                200: ("the page (sign in, or approve once signed in)", HTML),
                302: ("back to the merchant (the page has expired)", None),
                404: ("unknown or missing boom_token", HTML),
                410: ("already used", HTML),
            },
            response_media="text/html",
            tags=["consent"],
            security=[],
            operation_id="consent_page",
        ),
    ),
    "login": (
        "/payman-bank/oauth/login",
        "POST",
        Op(
            "consent page: sign in",
            body={
                "type": "object",
                "properties": {"boom_token": STR, "national_code": STR, "mobile": STR},
            },
            body_media="application/x-www-form-urlencoded",
            responses={
                200: ("the sign-in page again, with the error (e.g. 2112)", HTML),
                303: ("to the approval page or back to the merchant", None),
                404: ("unknown or missing boom_token", HTML),
                410: ("already used", HTML),
            },
            response_media="text/html",
            tags=["consent"],
            security=[],
            operation_id="consent_login",
        ),
    ),
    "decide": (
        "/payman-bank/oauth/decide",
        "POST",
        Op(
            "consent page: approve or cancel",
            body={
                "type": "object",
                "properties": {
                    "boom_token": STR,
                    "action": {"enum": ["approve", "cancel"]},
                    "deposit": STR,
                },
            },
            body_media="application/x-www-form-urlencoded",
            responses={
                200: ("the approval page again: pick a deposit", HTML),
                303: ("back to the merchant", None),
                400: ("neither approve nor cancel", HTML),
                403: ("not signed in", HTML),
                404: ("unknown or missing boom_token", HTML),
                410: ("already used", HTML),
            },
            response_media="text/html",
            tags=["consent"],
            security=[],
            operation_id="consent_decide",
        ),
    ),
}
