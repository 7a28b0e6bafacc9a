"""Appendix 1 of the Pendar document: error codes and their messages, exactly as written."""

from __future__ import annotations

from typing import Final

SUCCESS: Final = 0
PROGRAM_ERROR: Final = 1
FAILED: Final = 2
UNSUPPORTED: Final = 3
ACTIVE_CERT_EXISTS: Final = 1001
UPDATE_FAILED: Final = 1002
FIRST_NAME_MISMATCH: Final = 1003
LAST_NAME_MISMATCH: Final = 1004
CA_DOWN: Final = 1005
CA_OR_PROFILE_INVALID: Final = 1100
CA_INVALID: Final = 1101
CA_NOT_GRANTED: Final = 1102
NATIONAL_CODE_REQUIRED: Final = 1103
MOBILE_REQUIRED: Final = 1104
APPROVER_NOT_ALLOWED: Final = 1105
APPROVER_SIGNATURE_INVALID: Final = 1106
APPROVER_REVOKED: Final = 1107
APPROVER_UNKNOWN: Final = 1108
APPROVER_VALIDATION_ERROR: Final = 1109
NOT_APPROVED: Final = 1110
TRACKING_CODE_INVALID: Final = 1111
CERT_NOT_FOUND: Final = 1112
NOT_YOUR_CERT: Final = 1113
ALREADY_REVOKED: Final = 1114
SIGNATURE_INVALID: Final = 1200
PAYMENT_INVALID: Final = 1201
PAYMENT_MISMATCH: Final = 1202
CUSTOMER_INVALID: Final = 1203

# The document's wording, character for character (including its spacing and the stray
# quotation mark of 1111).
MESSAGES: Final[dict[int, str]] = {
    0: "اجرای موفق",
    1: "خطا در اجرای برنامه",
    2: "عملیات ناموفق",
    3: "عدم پشتیبانی از دستور",
    1001: "شما با این اطلاعات گواهینامه فعال دارید برای دریافت گواهی ابتدا باید آن را باطل کنید",
    1002: "خطای ناشناخته در مرحله بروزرسانی اطلاعات",
    1003: "نام وارد شده با کد ملی انطباق ندارد",
    1004: "نام خانوادگی وارد شده با کد ملی انطباق ندارد",
    1005: "مرکز میانی نماد قطع است",
    1100: "مرکز صدور یا پروفایل انتخاب شده نا معتبر است",
    1101: "مرکز صدور گواهینامه نا معتبر است",
    1102: "شما به این مرکز صدور دسترسی ندارید",
    1103: "درج کد ملی الزامی است",
    1104: "درج شماره تلفن همراه الزامی است",
    1105: "امضا کننده نامه درخواست گواهینامه مجاز به امضای این نامه نمی باشد",
    1106: "امضای نامه درخواست گواهینامه نامعتبر است",
    1107: "گواهی امضا کننده نامه درخواست باطل شده است",
    1108: "گواهی امضا کننده نامه درخواست ناشناخته است",
    1109: "در اعتبارسنجی گواهی امضا کننده نامه درخواست خطا رخ داد",
    1110: "کد رهگیری احراز هویت نشده است",
    1111: 'کد رهگیری نا معتبر است"',
    1112: "گواهی برای ابطال یافت نشد",
    1113: "این گواهی توسط شما صادر نشده و حق ابطال آن را ندارید",
    1114: "این گواهی قبلا باطل شده است",
    1200: "امضای بسته نامعتبر است",
    1201: "کد پرداخت نا معتبر است",
    1202: "مبلغ پرداختی با هزینه گواهی انطباق ندارد",
    1203: "کد مشتری نا معتبر است",
}


class PendarError(Exception):
    """A failed RA operation: answered with ``ErrorCode``/``ErrorMessage`` (HTTP 200 unless
    ``status`` says otherwise); ``detail`` goes to ``Description`` where the method has one."""

    def __init__(self, code: int, detail: str = "", *, status: int = 200) -> None:
        super().__init__(f"{code} {MESSAGES[code]}{': ' + detail if detail else ''}")
        self.code = code
        self.message = MESSAGES[code]
        self.detail = detail
        self.status = status
