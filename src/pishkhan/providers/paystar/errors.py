"""Paystar's status table (document section «جدول نوع داده status»).

Every answer carries an integer ``status``; 1 is success. Business outcomes (2..13) are answered
with HTTP 200, a server error (0) with HTTP 500. The messages are the document's, verbatim
(including its spelling «استباه»); the success body uses the sample's «درخواست با موفقیت انجام شد».
"""

from __future__ import annotations

import enum
from typing import Final

import orjson


class Status(enum.IntEnum):
    SERVER_ERROR = 0
    SUCCESS = 1
    APPLICATION_NOT_FOUND = 2
    APPLICATION_NOT_ACTIVE = 3
    WRONG_TOKEN = 4
    EXPIRED_TOKEN = 5
    WRONG_PASSWORD = 6
    IP_NOT_ALLOWED = 7
    SERVICE_NOT_ENABLED = 8
    INSUFFICIENT_CREDIT = 9
    INVALID_INPUT = 10
    PROVIDER_ERROR = 11
    SETTINGS_NOT_FOUND = 12
    WRONG_REFRESH_TOKEN = 13


#: The «شرح» column of the status table.
TABLE_MESSAGES: Final[dict[Status, str]] = {
    Status.SERVER_ERROR: "خطای سرور",
    Status.SUCCESS: "درخواست موفق",
    Status.APPLICATION_NOT_FOUND: "برنامه یافت نشد",
    Status.APPLICATION_NOT_ACTIVE: "برنامه فعال نیست",
    Status.WRONG_TOKEN: "توکن احراز هویت اشتباه است",
    Status.EXPIRED_TOKEN: "توکن احراز هویت منقضی شده است",
    Status.WRONG_PASSWORD: "رمز دسترسی برنامه استباه است",
    Status.IP_NOT_ALLOWED: "آی پی مجاز نمی باشد",
    Status.SERVICE_NOT_ENABLED: "سرویس مورد نظر برای شما فعال نمی باشد",
    Status.INSUFFICIENT_CREDIT: "اعتبار کیف بانکداری باز کافی نمی باشد",
    Status.INVALID_INPUT: "اطلاعات ارسال شده صحیح نمی باشد",
    Status.PROVIDER_ERROR: "خطای سرویس دهنده",
    Status.SETTINGS_NOT_FOUND: "تنظیمات بانکداری باز یافت نشد",
    Status.WRONG_REFRESH_TOKEN: "توکن بازیابی API key اشتباه است",
}

#: The message of a successful answer (the document's response samples).
SUCCESS_MESSAGE: Final = "درخواست با موفقیت انجام شد"


def message_of(status: Status) -> str:
    return SUCCESS_MESSAGE if status is Status.SUCCESS else TABLE_MESSAGES[status]


def http_status_of(status: Status) -> int:
    """HTTP 500 for a server error, 200 for everything else (clients check ``status``)."""
    return 500 if status is Status.SERVER_ERROR else 200


class PaystarFailure(Exception):
    """A call ends with a non-success status (raised inside a rule, answered by the route)."""

    def __init__(self, status: Status, *, recorded: bool = False) -> None:
        super().__init__(f"paystar status {int(status)}")
        self.status = status
        # True when the usage record of this failure has already been written.
        self.recorded = recorded


def envelope(status: Status) -> bytes:
    """The answer body of a call that ends with ``status`` and no data."""
    return orjson.dumps({"status": int(status), "data": None, "message": message_of(status)})


def body_refusal(_scope: object, _status: int, _detail: str) -> tuple[bytes, bytes]:
    """The answer to a body too large (413) or too slow (408), see ``pishkhan.web.limits``: the
    status table has no entry for either; status 10 ("the data sent is not correct") is its
    entry for input that cannot be taken."""
    return b"application/json", _INVALID_INPUT


def unrouted(_status: int, _detail: str) -> bytes:
    """The body of a 404 (no such path under ``/api/open-banking/``) or a 405 (a path served
    with other methods), see :mod:`pishkhan.web.unrouted`: the status table has no entry for
    either; status 10, as for a body that cannot be taken (the HTTP status tells them apart)."""
    return _INVALID_INPUT


_INVALID_INPUT: Final = envelope(Status.INVALID_INPUT)
