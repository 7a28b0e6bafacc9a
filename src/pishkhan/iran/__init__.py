"""Iranian identifier primitives: pure Python, no HTTP, no database.

Every parser canonicalizes first (Persian/Arabic digits, spaces, dashes, bidi marks; see
:mod:`.canonical`) and raises :class:`InvalidIdentifier` (with ``kind``) on bad input;
every ``is_valid_*`` returns a bool; every ``generate_*`` takes a :class:`random.Random`
so synthetic data is reproducible.
"""

from .banks import (
    JIBIT_UNKNOWN,
    Bank,
    BankTableError,
    PayCutoff,
    all_banks,
    banks_for_jibit_id,
    by_bin,
    by_jibit_id,
    by_key,
    by_payman_code,
    by_sheba_code,
    jibit_id_of,
    jibit_ids,
    payman_banks,
)
from .canonical import (
    canonical_digits,
    canonicalize,
    digits_only,
    fold_arabic_letters,
    fold_digits,
    is_ascii_digits,
)
from .card import (
    Card,
    generate_card_number,
    is_valid_card_number,
    luhn_check_digit,
    luhn_ok,
    parse_card_number,
)
from .errors import IdentifierKind, InvalidIdentifier
from .iban import Iban, build_iban, generate_iban, iban_check_digits, is_valid_iban, parse_iban
from .jalali import (
    JalaliFormat,
    JDate,
    days_in_month,
    format_jalali,
    is_leap_year,
    parse_gregorian,
    parse_jalali,
    parse_jalali_yymmdd,
    resolve_two_digit_year,
    to_gregorian,
    to_jalali,
)
from .legal_id import generate_legal_id, is_valid_legal_id, legal_id_check_digit, parse_legal_id
from .mobile import (
    Mobile,
    Operator,
    generate_mobile,
    is_valid_mobile,
    normalize_mobile,
    parse_mobile,
)
from .names import name_key, names_equal, normalize_name, similarity
from .national_code import (
    generate_national_code,
    is_valid_national_code,
    national_code_check_digit,
    parse_national_code,
)
from .postal import generate_postal_code, is_valid_postal_code, parse_postal_code

__all__ = [
    "JIBIT_UNKNOWN",
    "Bank",
    "BankTableError",
    "Card",
    "Iban",
    "IdentifierKind",
    "InvalidIdentifier",
    "JDate",
    "JalaliFormat",
    "Mobile",
    "Operator",
    "PayCutoff",
    "all_banks",
    "banks_for_jibit_id",
    "build_iban",
    "by_bin",
    "by_jibit_id",
    "by_key",
    "by_payman_code",
    "by_sheba_code",
    "canonical_digits",
    "canonicalize",
    "days_in_month",
    "digits_only",
    "fold_arabic_letters",
    "fold_digits",
    "format_jalali",
    "generate_card_number",
    "generate_iban",
    "generate_legal_id",
    "generate_mobile",
    "generate_national_code",
    "generate_postal_code",
    "iban_check_digits",
    "is_ascii_digits",
    "is_leap_year",
    "is_valid_card_number",
    "is_valid_iban",
    "is_valid_legal_id",
    "is_valid_mobile",
    "is_valid_national_code",
    "is_valid_postal_code",
    "jibit_id_of",
    "jibit_ids",
    "legal_id_check_digit",
    "luhn_check_digit",
    "luhn_ok",
    "name_key",
    "names_equal",
    "national_code_check_digit",
    "normalize_mobile",
    "normalize_name",
    "parse_card_number",
    "parse_gregorian",
    "parse_iban",
    "parse_jalali",
    "parse_jalali_yymmdd",
    "parse_legal_id",
    "parse_mobile",
    "parse_national_code",
    "parse_postal_code",
    "payman_banks",
    "resolve_two_digit_year",
    "similarity",
    "to_gregorian",
    "to_jalali",
]
