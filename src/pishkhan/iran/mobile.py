"""Iranian mobile numbers: every common form -> canonical ``09XXXXXXXXX`` and operator.

Accepted forms (after digit folding and removal of spaces, dashes, dots, parentheses and
bidi marks): ``09121234567``, ``9121234567``, ``+989121234567``, ``989121234567``,
``00989121234567``, and ``+98``/``0098`` followed by the trunk ``0`` (``+9809121234567``),
as ``phonenumbers`` accepts it.

Validity and operator come from ``phonenumbers`` (region ``IR``): the number must match its
MOBILE pattern, and the operator is its carrier name (``IR-MCI``, ``Irancell``,
``Rightel``, ``MTCE``, ``TeleKish``, ``Aptel``, ...) normalised to a stable
:class:`Operator`: ``MCI``, ``MTN_IRANCELL``, ``RIGHTEL`` or ``OTHER`` (the smaller
operators and MVNOs; their carrier names stay on :class:`Mobile`). For speed the pattern
and the IR carrier prefixes are read from ``phonenumbers``' metadata once at import, so
a parse is one regex match and a few dict look-ups instead of a full
``phonenumbers.parse`` (the tests check the two agree).

Policy for ``0941``: ``phonenumbers`` classifies ``+98 94x`` as fixed line and rejects it
as a mobile, but ``0941`` numbers are issued to MTN Irancell's TD-LTE (data) SIM cards and
do reach identity inquiries. We accept exactly ``0941`` + 7 digits as a valid mobile with
operator ``MTN_IRANCELL`` (carrier names ``Irancell``/``ایرانسل``). Other ``094x`` prefixes
stay invalid. (``0932``, once Taliya's, is MCI today per ``phonenumbers``.)
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import phonenumbers
from phonenumbers.carrierdata import CARRIER_DATA

from .canonical import canonicalize, is_ascii_digits
from .errors import InvalidIdentifier


class Operator(StrEnum):
    """Stable operator ids."""

    MCI = "MCI"
    MTN_IRANCELL = "MTN_IRANCELL"
    RIGHTEL = "RIGHTEL"
    OTHER = "OTHER"

    @property
    def name_en(self) -> str:
        return _OPERATOR_NAMES[self][0]

    @property
    def name_fa(self) -> str:
        return _OPERATOR_NAMES[self][1]


_OPERATOR_NAMES: Final[dict[Operator, tuple[str, str]]] = {
    Operator.MCI: ("MCI", "همراه اول"),
    Operator.MTN_IRANCELL: ("Irancell", "ایرانسل"),
    Operator.RIGHTEL: ("RighTel", "رایتل"),
    Operator.OTHER: ("Other", "سایر"),
}

#: ``phonenumbers`` English carrier name -> operator.
CARRIER_OPERATORS: Final[dict[str, Operator]] = {
    "IR-MCI": Operator.MCI,
    "Irancell": Operator.MTN_IRANCELL,
    "Rightel": Operator.RIGHTEL,
}

_COUNTRY_CODE: Final = "98"


def _mobile_pattern() -> str:
    meta = phonenumbers.PhoneMetadata.metadata_for_region("IR")
    desc = None if meta is None else meta.mobile
    if desc is None or desc.national_number_pattern is None:
        raise RuntimeError("phonenumbers has no IR mobile metadata (lite edition?)")
    return desc.national_number_pattern


_MOBILE_RE: Final = re.compile(_mobile_pattern())
#: National numbers (without trunk 0) accepted by the 0941 policy.
_POLICY_RE: Final = re.compile(r"941\d{7}", re.ASCII)
_POLICY_CARRIER: Final = ("Irancell", "ایرانسل")

# IR carrier prefixes, keyed by the national number prefix (country code removed).
_CARRIERS: Final[dict[str, tuple[str, str]]] = {
    key[len(_COUNTRY_CODE) :]: (names.get("en", ""), names.get("fa", names.get("en", "")))
    for key, names in CARRIER_DATA.items()
    if key.startswith(_COUNTRY_CODE + "9")
}
_CARRIER_LENGTHS: Final = sorted({len(k) for k in _CARRIERS}, reverse=True)

_EXTRA_STRIP: Final = str.maketrans("", "", "().")


@dataclass(frozen=True, slots=True)
class Mobile:
    """A parsed mobile number."""

    number: str
    """Canonical ``09XXXXXXXXX``."""
    operator: Operator
    carrier_en: str
    """``phonenumbers``' English carrier name (``"IR-MCI"``, ``"MTCE"``...)."""
    carrier_fa: str

    @property
    def e164(self) -> str:
        return "+98" + self.number[1:]

    @property
    def national(self) -> str:
        """The ten digits after the trunk ``0``."""
        return self.number[1:]


def _national(raw: str) -> str | None:
    s = canonicalize(raw).translate(_EXTRA_STRIP)
    if s.startswith("+"):
        if not s.startswith("+98"):
            return None
        s = s[3:]
    elif s.startswith("0098"):
        s = s[4:]
    elif s.startswith("98") and len(s) in (12, 13):
        s = s[2:]
    if len(s) == 11 and s.startswith("0"):
        s = s[1:]
    if len(s) != 10 or not is_ascii_digits(s) or s[0] != "9":
        return None
    return s


def _carrier(national: str) -> tuple[str, str]:
    for n in _CARRIER_LENGTHS:
        found = _CARRIERS.get(national[:n])
        if found is not None:
            return found
    return ("", "")


def _classify(national: str) -> Mobile | None:
    if _MOBILE_RE.fullmatch(national):
        en, fa = _carrier(national)
        operator = CARRIER_OPERATORS.get(en, Operator.OTHER)
    elif _POLICY_RE.fullmatch(national):
        en, fa = _POLICY_CARRIER
        operator = Operator.MTN_IRANCELL
    else:
        return None
    return Mobile(number="0" + national, operator=operator, carrier_en=en, carrier_fa=fa)


def parse_mobile(raw: str) -> Mobile:
    """The canonical mobile and its operator, or :class:`InvalidIdentifier`."""
    if not isinstance(raw, str):
        raise InvalidIdentifier("mobile", raw, "not a string")
    national = _national(raw)
    if national is None:
        raise InvalidIdentifier("mobile", raw, "not an Iranian mobile number form")
    mobile = _classify(national)
    if mobile is None:
        raise InvalidIdentifier("mobile", raw, "not a mobile range")
    return mobile


def is_valid_mobile(raw: str) -> bool:
    """True if ``raw`` is an Iranian mobile number in any accepted form."""
    if not isinstance(raw, str):
        return False
    national = _national(raw)
    return national is not None and _classify(national) is not None


def normalize_mobile(raw: str) -> str:
    """Shortcut: the canonical ``09XXXXXXXXX`` form, or :class:`InvalidIdentifier`."""
    return parse_mobile(raw).number


#: National prefixes the generator draws from, per operator (every draw is re-checked).
_GENERATOR_PREFIXES: Final[dict[Operator, tuple[str, ...]]] = {
    Operator.MCI: ("910", "911", "912", "913", "914", "915", "916", "917", "918", "919", "990"),
    Operator.MTN_IRANCELL: ("901", "902", "903", "930", "933", "935", "936", "937", "938", "939"),
    Operator.RIGHTEL: ("920", "921", "922"),
    Operator.OTHER: ("931", "934"),
}


def generate_mobile(rng: random.Random, operator: Operator = Operator.MCI) -> str:
    """A random valid mobile number ``09XXXXXXXXX`` of ``operator``."""
    prefixes = _GENERATOR_PREFIXES[operator]
    while True:
        national = rng.choice(prefixes) + f"{rng.randrange(10**7):07d}"
        mobile = _classify(national)
        if mobile is not None and mobile.operator is operator:
            return mobile.number
