"""The deterministic world generator.

``WorldGenerator(people, seed, reference)`` draws households of people (with consistent
family names and fathers' names), their SIMs, deposits across many banks, the cards on those
deposits, home addresses, military-service and Sana records, guild licenses, legal entities
and foreign nationals, every identifier valid and unique, from one ``random.Random(seed)``.
The same ``(people, seed, reference)`` always yields the same rows, whatever the batch size.

Rows come out in batches (:meth:`WorldGenerator.batches`) so that seeding a large world
streams into the database with bounded memory; :func:`seed_world` writes fixtures plus a
generated world in one transaction.

Shares (per generated person; see ``docs/world.md``): adults ~80%; dead ~2%; adults hold
0-3 SIMs (mostly 1), 1-3 deposits at distinct banks (~3% none), a debit card on ~85% of
their deposits plus occasional credit/gift/other cards; ~4% of deposits are joint; a few
percent of cards and deposits sit in each non-active status.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from datetime import date
from itertools import accumulate
from operator import itemgetter
from typing import Any, Final, TypeVar

import orjson
from sqlalchemy import JSON, delete
from sqlalchemy.engine import Connection

from pishkhan.core.errors import InvalidInput
from pishkhan.core.ints import fits_int64
from pishkhan.iran import (
    JDate,
    Operator,
    all_banks,
    by_key,
    days_in_month,
    generate_legal_id,
    generate_mobile,
)

from . import names_data as nd
from .fixtures import fixture_rows, reserved_keys
from .layouts import deposit_number_maker, luhn_complete, national_code_from_body
from .records import birth_certificate_number, person_row
from .tables import WORLD_TABLES, world_banks

Row = dict[str, Any]
Rows = dict[str, list[Row]]
T = TypeVar("T")

DEFAULT_REFERENCE: Final = date(2025, 1, 1)
DEFAULT_SEED: Final = 1
DEFAULT_PEOPLE: Final = 3000
DEFAULT_BATCH: Final = 5000

TABLE_NAMES: Final = tuple(str(t.name) for t in WORLD_TABLES)

# Bank keys and weights for generated deposits and cards (MARKAZI and IRAN_VENEZUELA are
# fixture-only: their cards trigger the "bank/provider not active" errors).
BANK_WEIGHTS: Final[tuple[tuple[str, float], ...]] = (
    ("MELLI", 18),
    ("MELLAT", 14),
    ("SEPAH", 9),
    ("TEJARAT", 8),
    ("SADERAT", 8),
    ("KESHAVARZI", 6),
    ("REFAH", 5),
    ("PASARGAD", 5),
    ("SAMAN", 5),
    ("MASKAN", 4),
    ("PARSIAN", 4),
    ("POST", 3),
    ("BLU", 3),
    ("MEHR_IRAN", 3),
    ("EGHTESAD_NOVIN", 2),
    ("AYANDEH", 2),
    ("SHAHR", 2),
    ("RESALAT", 2),
    ("SINA", 1),
    ("DAY", 1),
    ("SARMAYEH", 1),
    ("IRANZAMIN", 1),
    ("KARAFARIN", 1),
    ("GARDESHGARI", 1),
    ("TOSEAH_TAAVON", 1),
    ("SANAT_VA_MADAN", 0.5),
    ("KHAVARMIANEH", 0.5),
    ("MELAL", 0.5),
    ("TOSEAH_SADERAT", 0.3),
    ("NOOR", 0.2),
    ("ANSAR", 0.2),
    ("GHAVAMIN", 0.2),
    ("HEKMAT", 0.2),
    ("KOSAR", 0.2),
    ("MEHR_EQTESAD", 0.2),
)

DEPOSIT_STATUS_WEIGHTS: Final = (
    ("ACTIVE", 91.0),
    ("BLOCK_WITH_DEPOSIT", 2.5),
    ("BLOCK_WITHOUT_DEPOSIT", 2.5),
    ("IDLE", 3.0),
    ("UNKNOWN", 1.0),
)
ACCOUNT_TYPE_WEIGHTS: Final = (
    ("SHORT_TERM", 35.0),
    ("SAVINGS", 25.0),
    ("GHARZOLHASANEH", 20.0),
    ("CURRENT", 12.0),
    ("LONG_TERM", 8.0),
)
CARD_STATUS_WEIGHTS: Final = (
    ("ACTIVE", 90.0),
    ("LOST", 2.0),
    ("STOLEN", 1.5),
    ("EXPIRED", 3.5),
    ("INACTIVE", 2.0),
    ("BLACKLISTED", 1.0),
)
OPERATOR_WEIGHTS: Final = (
    (Operator.MCI, 55.0),
    (Operator.MTN_IRANCELL, 38.0),
    (Operator.RIGHTEL, 5.0),
    (Operator.OTHER, 2.0),
)
MILITARY: Final[dict[str, tuple[bool, tuple[str, ...]]]] = {
    "COMPLETED": (True, ("دارای کارت پایان خدمت",)),
    "EXEMPT": (True, ("دارای معافیت دائم", "معافیت پزشکی", "معافیت کفالت")),
    "EDUCATIONAL_DEFERMENT": (True, ("دارای معافیت تحصیلی",)),
    "SERVING": (True, ("در حال خدمت",)),
    "ABSENT": (False, ("مشمول غایب",)),
}
MILITARY_BY_AGE: Final = (
    (20, (("EDUCATIONAL_DEFERMENT", 55.0), ("SERVING", 20.0), ("EXEMPT", 10.0), ("ABSENT", 15.0))),
    (
        30,
        (
            ("COMPLETED", 40.0),
            ("EDUCATIONAL_DEFERMENT", 25.0),
            ("SERVING", 10.0),
            ("EXEMPT", 12.0),
            ("ABSENT", 13.0),
        ),
    ),
    (200, (("COMPLETED", 75.0), ("EXEMPT", 20.0), ("ABSENT", 5.0))),
)
HOUSEHOLD_SIZES: Final = ((1, 22.0), (2, 20.0), (3, 24.0), (4, 24.0), (5, 10.0))
OTHER_CARD_TYPES: Final = ("SPECIAL", "ONLINE_PREPAID", "E_MONEY", "INSTALLMENT_CARD")

_PERSIAN_DIGITS: Final = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


class FastRandom(random.Random):
    """``random.Random`` whose integer draws use one ``random()`` call (about 3x faster).

    Still fully determined by the seed; only ranges up to 2**53 take the fast path.
    """

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        n = stop - start
        if step == 1 and 0 < n <= _FAST_LIMIT:
            return start + int(self.random() * n)
        return super().randrange(start, stop, step)

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: Any) -> Any:
        return seq[int(self.random() * len(seq))]


_FAST_LIMIT: Final = 1 << 53


class Picker:
    """Weighted choice with precomputed cumulative weights (``rng.random()`` + bisect)."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, items: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _ in items]
        self.cum = list(accumulate(w for _, w in items))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cum, rng.random() * self.total)]


def _weighted_names(items: Sequence[tuple[str, str, int]]) -> Picker:
    return Picker([((fa, en), w) for fa, en, w in items])


class WorldGenerator:
    """Draws a consistent synthetic world; see the module docstring."""

    def __init__(
        self,
        people: int,
        seed: int,
        reference: date = DEFAULT_REFERENCE,
        *,
        reserved: dict[str, set[str]] | None = None,
    ) -> None:
        if people < 0:
            raise ValueError("people must be >= 0")
        self.people = people
        self.seed = seed
        self.reference = reference
        self.rng: random.Random = FastRandom(seed)
        ref = JDate.from_gregorian(reference)
        self.ref = ref
        self.ref_compact = ref.compact()
        self.ref_yyyymm = ref.compact()[:6]
        reserved = reserved if reserved is not None else reserved_keys()
        # Sets of used identifiers (fixtures and "unknown" values included).
        self.used_nc: set[str] = set(reserved.get("national_code", ()))
        self.used_mobile: set[str] = set(reserved.get("mobile", ()))
        self.used_card: set[str] = set(reserved.get("card", ()))
        self.used_iban: set[str] = set(reserved.get("iban", ()))
        self.used_postal: set[str] = set(reserved.get("postal_code", ()))
        self.used_fida: set[str] = set(reserved.get("fida", ()))
        self.used_guild: set[str] = set(reserved.get("guild", ()))
        self.used_legal: set[str] = set(reserved.get("legal_id", ()))

        self.male = _weighted_names(nd.MALE_FIRST_NAMES)
        self.female = _weighted_names(nd.FEMALE_FIRST_NAMES)
        self.last = _weighted_names(nd.LAST_NAMES)
        self.province = Picker([(p, float(p[5])) for p in nd.PROVINCES])
        self.bank = Picker(list(BANK_WEIGHTS))
        self.deposit_status = Picker(DEPOSIT_STATUS_WEIGHTS)
        self.account_type = Picker(ACCOUNT_TYPE_WEIGHTS)
        self.card_status = Picker(CARD_STATUS_WEIGHTS)
        self.operator = Picker(OPERATOR_WEIGHTS)
        self.household_size = Picker(HOUSEHOLD_SIZES)
        self.military_by_age = [(limit, Picker(w)) for limit, w in MILITARY_BY_AGE]
        self.nationality = Picker([(n, float(n[3])) for n in nd.FOREIGN_NATIONALITIES])
        self.deposit_makers = {key: deposit_number_maker(key) for key, _ in BANK_WEIGHTS}
        self.sheba: dict[str, str] = {}
        self.bins: dict[str, tuple[str, ...]] = {}
        for key, _ in BANK_WEIGHTS:
            bank = by_key(key)
            assert bank is not None, key
            self.sheba[key] = bank.sheba_code
            self.bins[key] = bank.bins
        self.month_days = {
            (y, m): days_in_month(y, m) for y in range(1280, ref.year + 40) for m in range(1, 13)
        }
        self._year_days: dict[int, list[str]] = {}
        # Adults generated so far (for joint deposits and company managers).
        self.adults: list[str] = []

    # -- small draws -------------------------------------------------------------------------

    def _national_code(self) -> str:
        rng = self.rng
        while True:
            code = national_code_from_body(f"{rng.randrange(1, 10**9):09d}")
            if code[3:9] != "000000" and code not in self.used_nc:
                self.used_nc.add(code)
                return code

    def _date_in_year(self, year: int) -> str:
        days = self._year_days.get(year)
        if days is None:
            days = [
                f"{year:04d}{m:02d}{d:02d}"
                for m in range(1, 13)
                for d in range(1, self.month_days[(year, m)] + 1)
            ]
            self._year_days[year] = days
        return days[int(self.rng.random() * len(days))]

    def _date_between(self, start_year: int, end_compact: str) -> str:
        """A Jalali date from ``start_year`` up to ``end_compact`` (inclusive)."""
        end_year = int(end_compact[:4])
        if start_year > end_year:
            start_year = end_year
        while True:
            d = self._date_in_year(self.rng.randint(start_year, end_year))
            if d <= end_compact:
                return d

    def _birth_date(self, age: int) -> str:
        year = self.ref.year - age
        d = self._date_in_year(year)
        if d > self.ref_compact:
            d = self._date_in_year(year - 1)
            if d > self.ref_compact:  # pragma: no cover - year - 1 is always in the past
                d = f"{year - 1:04d}0101"
        return d

    def _postal_code(self) -> str:
        rng = self.rng
        while True:
            head = "".join([rng.choice("1346789") for _ in range(4)])
            if head.count(head[0]) == 4:
                continue
            tail = f"{rng.randrange(10**5):05d}".translate(_NO_TWO)
            code = head + rng.choice("134679") + tail
            if code not in self.used_postal:
                self.used_postal.add(code)
                return code

    def _mobile(self) -> tuple[str, str]:
        operator: Operator = self.operator(self.rng)
        while True:
            mobile = generate_mobile(self.rng, operator)
            if mobile not in self.used_mobile:
                self.used_mobile.add(mobile)
                return mobile, operator.value

    def _card_number(self, bank_key: str) -> str:
        rng = self.rng
        bins = self.bins[bank_key]
        while True:
            bin6 = bins[0] if len(bins) == 1 else rng.choice(bins)
            number = luhn_complete(f"{bin6}{rng.randrange(10**9):09d}")
            if number not in self.used_card:
                self.used_card.add(number)
                return number

    def _deposit_ids(self, bank_key: str) -> tuple[str, str]:
        maker = self.deposit_makers[bank_key]
        sheba = self.sheba[bank_key]
        while True:
            number = maker(self.rng)
            digits = number.translate(_DROP_SEPARATORS)
            bban = sheba + digits.zfill(19)
            check = 98 - int(bban + "182700") % 97
            iban = f"IR{check:02d}{bban}"
            if iban not in self.used_iban:
                self.used_iban.add(iban)
                return number, iban

    def _balance(self) -> int:
        rng = self.rng
        if rng.random() < 0.03:
            return 0
        return int(10 ** rng.uniform(5.0, 10.5)) // 1000 * 1000

    # -- records ------------------------------------------------------------------------------

    def _address(self, out: Rows) -> str:
        rng = self.rng
        province = self.province(rng)
        county, cities = rng.choice(province[4])
        city = rng.choice(cities)
        lat0, lon0 = province[2]
        half = province[3]
        lat = round(lat0 + rng.uniform(-half, half), 6)
        lon = round(lon0 + rng.uniform(-half, half), 6)
        street = rng.choice(nd.STREETS)
        alley = rng.choice(nd.ALLEYS)
        locality = rng.choice(nd.LOCALITIES) if province[1] == "Tehran" else "محله مرکزی"
        number = str(rng.randint(1, 250))
        floor_n = rng.choice((0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10))
        floor = "همکف" if floor_n == 0 else str(floor_n)
        unit = str(rng.randint(1, 4 * max(floor_n, 1))) if floor_n else None
        postal = self._postal_code()
        parts = [province[0], city, locality, f"{street}، {alley}", f"پلاک {number}"]
        parts.append("همکف" if floor_n == 0 else f"طبقه {floor}")
        if unit:
            parts.append(f"واحد {unit}")
        out["world_addresses"].append(
            {
                "postal_code": postal,
                "province": province[0],
                "district": county,
                "city": city,
                "locality": locality,
                "street": f"{street}، {alley}",
                "number": number,
                "floor": floor,
                "unit": unit,
                "address": "، ".join(parts).translate(_PERSIAN_DIGITS),
                "latitude": lat,
                "longitude": lon,
            }
        )
        return postal

    def _person(
        self,
        out: Rows,
        *,
        age: int,
        gender: str,
        last: tuple[str, str],
        father: tuple[str, str],
        postal: str,
        birth_place: str,
    ) -> Row:
        rng = self.rng
        nc = self._national_code()
        first = self.male(rng) if gender == "MALE" else self.female(rng)
        birth = self._birth_date(age)
        death = None
        p_death = 0.004 if age < 50 else 0.03 if age < 70 else 0.15
        if rng.random() < p_death:
            death = self._date_between(
                max(int(birth[:4]) + 1, self.ref.year - 15), self.ref_compact
            )
            if death <= birth:
                death = None
        # drawn before the birth place and blacklisting, as a seed's world has always been
        certificate = birth_certificate_number(
            nc, birth, lambda: str(rng.randint(1, 9999 if rng.random() < 0.8 else 999999))
        )
        row = person_row(
            nc,
            first,
            last,
            father,
            birth,
            gender,
            certificate=certificate,
            death_date=death,
            birth_place=birth_place if rng.random() < 0.7 else rng.choice(nd.BIRTH_PLACES),
            postal_code=postal,
            blacklisted=rng.random() < 0.0005,
        )
        out["world_people"].append(row)
        return row

    def _household(self, out: Rows, size: int) -> list[tuple[Row, int]]:
        rng = self.rng
        postal = self._address(out)
        city = out["world_addresses"][-1]["city"]
        members: list[tuple[Row, int]] = []
        last = self.last(rng)
        if size == 1:
            age = rng.randint(18, 90)
            gender = "MALE" if rng.random() < 0.55 else "FEMALE"
            head = self._person(
                out,
                age=age,
                gender=gender,
                last=last,
                father=self.male(rng),
                postal=postal,
                birth_place=city,
            )
            return [(head, age)]
        head_age = rng.randint(24, 85)
        head_gender = "MALE" if rng.random() < 0.85 else "FEMALE"
        head = self._person(
            out,
            age=head_age,
            gender=head_gender,
            last=last,
            father=self.male(rng),
            postal=postal,
            birth_place=city,
        )
        members.append((head, head_age))
        has_spouse = rng.random() < 0.85
        if has_spouse:
            spouse_age = max(
                18, head_age + rng.randint(-3, 8) * (1 if head_gender == "FEMALE" else -1)
            )
            spouse_gender = "FEMALE" if head_gender == "MALE" else "MALE"
            spouse = self._person(
                out,
                age=spouse_age,
                gender=spouse_gender,
                last=self.last(rng),
                father=self.male(rng),
                postal=postal,
                birth_place=city,
            )
            members.append((spouse, spouse_age))
            youngest_parent = min(head_age, spouse_age)
        else:
            youngest_parent = head_age
        if head_gender == "MALE":
            father = (head["first_name"], head["first_name_en"])
        elif has_spouse:
            spouse_row = members[1][0]
            father = (spouse_row["first_name"], spouse_row["first_name_en"])
            last = (spouse_row["last_name"], spouse_row["last_name_en"])
        else:
            father = self.male(rng)
        for _ in range(size - len(members)):
            child_age = rng.randint(0, max(0, youngest_parent - 20))
            child = self._person(
                out,
                age=child_age,
                gender="MALE" if rng.random() < 0.51 else "FEMALE",
                last=last,
                father=father,
                postal=postal,
                birth_place=city,
            )
            members.append((child, child_age))
        return members

    def _deposit(
        self,
        out: Rows,
        owner: str,
        bank_key: str,
        *,
        owner_type: str = "PERSON",
        account_type: str | None = None,
        birth: str | None = None,
    ) -> Row:
        rng = self.rng
        number, iban = self._deposit_ids(bank_key)
        start = max(1380, int(birth[:4]) + 18) if birth else 1380
        row = {
            "iban": iban,
            "bank": bank_key,
            "deposit_number": number,
            "status": self.deposit_status(rng),
            "account_type": account_type or self.account_type(rng),
            "joint": False,
            "balance": self._balance(),
            "opened_on": self._date_between(start, self.ref_compact),
        }
        out["world_deposits"].append(row)
        out["world_deposit_owners"].append(
            {"iban": iban, "position": 1, "national_code": owner, "owner_type": owner_type}
        )
        return row

    def _card(
        self, out: Rows, bank_key: str, card_type: str, holder: str, deposit: str | None
    ) -> None:
        rng = self.rng
        status = self.card_status(rng)
        if status == "EXPIRED":
            year = self.ref.year - rng.randint(1, 4)
            expiry = f"{year:04d}{rng.randint(1, 12):02d}"
        else:
            year = self.ref.year + rng.randint(1, 5)
            expiry = f"{year:04d}{rng.randint(1, 12):02d}"
        out["world_cards"].append(
            {
                "number": self._card_number(bank_key),
                "bank": bank_key,
                "type": card_type,
                "status": status,
                "expiry": expiry,
                "holder_national_code": holder,
                "deposit_iban": deposit,
            }
        )

    def _finance(self, out: Rows, person: Row, age: int, spouse: str | None) -> None:
        rng = self.rng
        nc = person["national_code"]
        alive = person["alive"]
        adult = age >= 18
        if adult:
            r = rng.random()
            count = 0 if r < 0.03 else 1 if r < 0.55 else 2 if r < 0.90 else 3
        else:
            count = 1 if rng.random() < 0.3 else 0
        banks: list[str] = []
        while len(banks) < count:
            key = self.bank(rng)
            if key not in banks:
                banks.append(key)
        deposits = []
        for key in banks:
            account_type = (
                None if adult else ("GHARZOLHASANEH" if rng.random() < 0.5 else "SAVINGS")
            )
            dep = self._deposit(out, nc, key, account_type=account_type, birth=person["birth_date"])
            deposits.append(dep)
            if adult and rng.random() < 0.04:
                co_owner = spouse if spouse and rng.random() < 0.7 else None
                if co_owner is None and self.adults:
                    co_owner = self.adults[rng.randrange(len(self.adults))]
                if co_owner and co_owner != nc:
                    dep["joint"] = True
                    out["world_deposit_owners"].append(
                        {
                            "iban": dep["iban"],
                            "position": 2,
                            "national_code": co_owner,
                            "owner_type": "PERSON",
                        }
                    )
            if (adult or age >= 12) and rng.random() < 0.85:
                self._card(out, key, "DEBIT", nc, dep["iban"])
        if adult and alive:
            if deposits and rng.random() < 0.06:
                dep = deposits[0]
                self._card(out, dep["bank"], "CREDIT", nc, dep["iban"])
            if rng.random() < 0.02:
                self._card(out, self.bank(rng), "GIFT_CARD", nc, None)
            if deposits and rng.random() < 0.01:
                dep = deposits[-1]
                self._card(out, dep["bank"], rng.choice(OTHER_CARD_TYPES), nc, dep["iban"])

    def _sims(self, out: Rows, nc: str, age: int) -> None:
        rng = self.rng
        if age >= 18:
            r = rng.random()
            count = 0 if r < 0.08 else 1 if r < 0.80 else 2 if r < 0.97 else 3
        elif age >= 12:
            count = 1 if rng.random() < 0.4 else 0
        else:
            count = 0
        for _ in range(count):
            mobile, operator = self._mobile()
            out["world_sims"].append(
                {
                    "mobile": mobile,
                    "national_code": nc,
                    "operator": operator,
                    "blacklisted": rng.random() < 0.002,
                }
            )

    def _civic(self, out: Rows, person: Row, age: int) -> None:
        rng = self.rng
        nc = person["national_code"]
        if person["gender"] == "MALE":
            picker = next(p for limit, p in self.military_by_age if age < limit)
            status = picker(rng)
            qualified, descriptions = MILITARY[status]
            out["world_military"].append(
                {
                    "national_code": nc,
                    "qualified": qualified,
                    "status": status,
                    "description": descriptions[0]
                    if len(descriptions) == 1
                    else rng.choice(descriptions),
                }
            )
        registered = rng.random() < 0.88
        out["world_sana"].append(
            {
                "national_code": nc,
                "registered": registered,
                "registered_on": self._date_between(1396, self.ref_compact) if registered else None,
            }
        )

    def _guild(self, out: Rows, person: Row, mobile: str | None) -> None:
        rng = self.rng
        while True:
            code = f"{rng.randrange(10**9, 10**10)}"
            if code not in self.used_guild:
                self.used_guild.add(code)
                break
        union, isic, isic_name, stem, guild_id = rng.choice(nd.GUILD_KINDS)
        postal = self._address(out)
        address = out["world_addresses"][-1]
        issue_year = rng.randint(self.ref.year - 12, self.ref.year - 1)
        issue = self._date_in_year(issue_year)
        years = rng.choice((1, 3, 5, 5, 10))
        expire = f"{issue_year + years:04d}{issue[4:]}"
        if expire[4:] == "1230":
            expire = expire[:6] + "29"
        expired = expire < self.ref_compact
        birth = person["birth_date"]
        out["world_guilds"].append(
            {
                "code": code,
                "lic_issue_date": f"{issue[:4]}/{issue[4:6]}/{issue[6:]}",
                "lic_expire_date": f"{expire[:4]}/{expire[4:6]}/{expire[6:]}",
                "lic_type": "پروانه کسب دائم" if years >= 5 else "پروانه کسب موقت",
                "lic_time": f"{years} ساله",
                "address": address["address"],
                "blue_plaque": address["number"],
                "registered_plaque": f"{rng.randint(100, 9999)}/{rng.randint(1, 99)}",
                "postal_code": postal,
                "area": rng.randint(12, 400),
                "union_name": union,
                "union_id": guild_id,
                "guild_id": guild_id,
                "convent_id": rng.randint(1, 31),
                "convent_name": f"مجمع امور صنفی {address['city']}",
                "city_id": rng.randint(1, 450),
                "board_title": f"{stem} {rng.choice(nd.BOARD_WORDS)}",
                "corporate_identity": "حقیقی",
                "lic_state": "منقضی" if expired else "فعال",
                "tel": f"0{rng.randint(11, 87)}{rng.randrange(10**7, 10**8)}",
                "isic": isic,
                "company_national_code": None,
                "isic_name": isic_name,
                "hc_license_request_type_name": rng.choice(("صدور", "تمدید", "تمدید", "انتقال")),
                "has_expire_letter": "true" if expired else "false",
                "expire_letter_date": f"{expire[:4]}/{expire[4:6]}/{expire[6:]}"
                if expired
                else None,
                "first_name": person["first_name"],
                "last_name": person["last_name"],
                "father_name": person["father_name"],
                "national_code": person["national_code"],
                "is_male": "true" if person["gender"] == "MALE" else "false",
                "mobile": mobile,
                "type_name": "حقیقی",
                "type_code": "1",
                "birth_date": f"{birth[:4]}/{birth[4:6]}/{birth[6:]}",
                "identity_no": person["birth_certificate_number"],
                "country": "ایران",
                "religion": "اسلام",
                "military_state": "پایان خدمت" if person["gender"] == "MALE" else None,
                "education_level": rng.choice(nd.EDUCATION_LEVELS),
            }
        )

    def _legal_entity(self, out: Rows) -> None:
        rng = self.rng
        while True:
            national_id = generate_legal_id(rng)
            if national_id not in self.used_legal:
                self.used_legal.add(national_id)
                break
        w1, w2 = rng.sample(nd.COMPANY_WORDS, 2)
        entity_type = rng.choice(nd.LEGAL_TYPES)
        prefix = "موسسه" if entity_type == "موسسه غیرتجاری" else "شرکت"
        postal = self._address(out)
        manager = self.adults[rng.randrange(len(self.adults))] if self.adults else None
        dissolved = rng.random() < 0.03
        out["world_legal_entities"].append(
            {
                "national_id": national_id,
                "name": f"{prefix} {w1[0]} {w2[0]} {entity_type}",
                "name_en": f"{w1[1]} {w2[1]} Co.",
                "registration_number": str(rng.randint(1000, 650000)),
                "registration_date": self._date_between(1370, self.ref_compact),
                "entity_type": entity_type,
                "status": "DISSOLVED" if dissolved else "ACTIVE",
                "postal_code": postal,
                "manager_national_code": manager,
            }
        )
        for _ in range(1 if rng.random() < 0.7 else 2):
            self._deposit(
                out, national_id, self.bank(rng), owner_type="LEGAL", account_type="CURRENT"
            )

    def _foreigner(self, out: Rows) -> None:
        rng = self.rng
        while True:
            fida = f"{rng.randrange(10**11, 10**12)}"
            if fida not in self.used_fida:
                self.used_fida.add(fida)
                break
        nationality, country, cities, _w = self.nationality(rng)
        gender = "MALE" if rng.random() < 0.6 else "FEMALE"
        first = rng.choice(nd.FOREIGN_MALE_NAMES if gender == "MALE" else nd.FOREIGN_FEMALE_NAMES)
        birth = self._birth_date(rng.randint(1, 75))
        documents = []
        for doc_type in rng.sample(nd.FOREIGN_DOCUMENT_TYPES, rng.choice((1, 1, 2))):
            issue = self._date_between(self.ref.year - 6, self.ref_compact)
            expire_year = int(issue[:4]) + rng.choice((1, 2, 5))
            documents.append(
                {
                    "type": doc_type,
                    "code": f"{rng.randrange(10**8, 10**9)}",
                    "issue_date": issue,
                    "expiration_date": f"{expire_year:04d}{issue[4:6]}"
                    f"{min(int(issue[6:]), 29):02d}",
                }
            )
        out["world_foreigners"].append(
            {
                "fida": fida,
                "first_name": first,
                "last_name": rng.choice(nd.FOREIGN_LAST_NAMES),
                "father_name": rng.choice(nd.FOREIGN_MALE_NAMES),
                "ancestor_name": rng.choice(nd.FOREIGN_MALE_NAMES) if rng.random() < 0.8 else None,
                "birth_date": birth,
                "gender": gender,
                "birth_place_country": country,
                "birth_place_city": rng.choice(cities),
                "nationality": nationality,
                "documents": documents,
                "blacklisted": rng.random() < 0.005,
            }
        )

    # -- driving --------------------------------------------------------------------------

    def batches(self, batch_people: int = DEFAULT_BATCH) -> Iterator[Rows]:
        """Yield rows per table in batches of about ``batch_people`` people.

        Rows of one batch only reference rows of the same or an earlier batch, so inserting
        batch after batch (tables in :data:`TABLE_NAMES` order) satisfies every foreign key.
        """
        rng = self.rng
        produced = 0
        out = _empty()
        in_batch = 0
        while produced < self.people:
            size = min(self.household_size(rng), self.people - produced)
            members = self._household(out, size)
            spouse_of: dict[str, str] = {}
            if len(members) >= 2 and members[1][1] >= 18 and members[0][1] >= 18:
                a, b = members[0][0]["national_code"], members[1][0]["national_code"]
                spouse_of = {a: b, b: a}
            for person, age in members:
                nc = person["national_code"]
                alive = person["alive"]
                if alive:
                    self._sims(out, nc, age)
                self._finance(out, person, age, spouse_of.get(nc))
                if alive and age >= 18:
                    self._civic(out, person, age)
                    if rng.random() < 0.03:
                        sims = out["world_sims"]
                        mobile = (
                            sims[-1]["mobile"] if sims and sims[-1]["national_code"] == nc else None
                        )
                        self._guild(out, person, mobile)
            for person, age in members:
                if age >= 18 and person["alive"]:
                    self.adults.append(person["national_code"])
            produced += size
            in_batch += size
            if in_batch >= batch_people:
                yield out
                out = _empty()
                in_batch = 0
        # Legal entities and foreign nationals, after everyone they may refer to.
        for _ in range(math.ceil(self.people * 0.005)):
            self._legal_entity(out)
        for _ in range(math.ceil(self.people * 0.02)):
            self._foreigner(out)
        out["world_banks"].extend(_bank_rows())
        yield out

    def generate(self) -> Rows:
        """Every generated row at once (small worlds and tests)."""
        merged = _empty()
        for batch in self.batches():
            for name, rows in batch.items():
                merged[name].extend(rows)
        return merged


_NO_TWO: Final = str.maketrans("2", "8")
_DROP_SEPARATORS: Final = str.maketrans("", "", "-./")


def _empty() -> Rows:
    return {name: [] for name in TABLE_NAMES}


def _bank_rows() -> list[Row]:
    """One world_banks row per bank of the table that no fixture already defines."""
    fixture_banks = {r["bank"] for r in fixture_rows()["world_banks"]}
    return [
        {"bank": b.key, "active": True, "provider_active": True, "card_to_iban_available": True}
        for b in all_banks()
        if b.key not in fixture_banks
    ]


def generate_world(people: int, seed: int, reference: date = DEFAULT_REFERENCE) -> Rows:
    """Fixtures plus a generated world, as rows per table (no database)."""
    rows = fixture_rows()
    for name, generated in WorldGenerator(people, seed, reference).generate().items():
        rows[name].extend(generated)
    return rows


def _tables_by_name() -> dict[str, Any]:
    return {str(t.name): t for t in WORLD_TABLES}


def clear_world(conn: Connection) -> None:
    """Delete every world record."""
    for table in reversed(WORLD_TABLES):
        conn.execute(delete(table))


def insert_rows(conn: Connection, rows: Rows, chunk: int = 20000) -> dict[str, int]:
    """Bulk-insert rows per table (executemany in chunks), in foreign-key order.

    On SQLite the rows go straight to the driver as tuples (SQLAlchemy's per-row parameter
    processing costs more than the insert itself); elsewhere through ``table.insert()``.
    """
    tables = _tables_by_name()
    counts: dict[str, int] = {}
    raw = conn.dialect.name == "sqlite"
    for name in TABLE_NAMES:
        batch = rows.get(name) or []
        if not batch:
            continue
        table = tables[name]
        if raw:
            _insert_sqlite(conn, table, batch, chunk)
        else:
            stmt = table.insert()
            for i in range(0, len(batch), chunk):
                conn.execute(stmt, batch[i : i + chunk])
        counts[name] = counts.get(name, 0) + len(batch)
    return counts


def _insert_sqlite(conn: Connection, table: Any, batch: list[Row], chunk: int) -> None:
    columns = [c.name for c in table.c]
    json_columns = {c.name for c in table.c if isinstance(c.type, JSON)}
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    getter = itemgetter(*columns)
    if json_columns:
        dumps = orjson.dumps

        def values(row: Row) -> tuple[Any, ...]:
            return tuple(dumps(row[c]).decode() if c in json_columns else row[c] for c in columns)

    else:

        def values(row: Row) -> tuple[Any, ...]:
            return getter(row)  # type: ignore[no-any-return]

    for i in range(0, len(batch), chunk):
        conn.exec_driver_sql(sql, [values(r) for r in batch[i : i + chunk]])


#: The most people one seeding generates.
MAX_PEOPLE = 1_000_000


def check_seed_args(people: int, seed: int) -> None:
    """InvalidInput unless ``people`` is 0..MAX_PEOPLE and ``seed`` fits 64 bits (it is
    recorded in the audit log)."""
    if not 0 <= people <= MAX_PEOPLE:
        raise InvalidInput(f"people must be 0..{MAX_PEOPLE}", {"people": people})
    if not fits_int64(seed):
        raise InvalidInput("seed must fit 64 bits", {"seed": str(seed)})


def seed_world(
    conn: Connection,
    people: int,
    seed: int,
    reference: date = DEFAULT_REFERENCE,
    *,
    replace: bool = True,
    batch_people: int = DEFAULT_BATCH,
) -> dict[str, int]:
    """Write fixtures plus a generated world of ``people`` people inside ``conn``'s transaction.

    ``replace`` first deletes every world record. Returns the number of rows per table.
    """
    check_seed_args(people, seed)
    if replace:
        clear_world(conn)
    # On SQLite, building the secondary indexes once after the inserts is cheaper than
    # maintaining them row by row (DDL is transactional there, so a failure restores them).
    rebuild = conn.dialect.name == "sqlite" and replace and people >= 1000
    indexes = [idx for table in WORLD_TABLES for idx in table.indexes] if rebuild else []
    for idx in indexes:
        idx.drop(conn)
    counts = insert_rows(conn, fixture_rows())
    for batch in WorldGenerator(people, seed, reference).batches(batch_people):
        for name, n in insert_rows(conn, batch).items():
            counts[name] = counts.get(name, 0) + n
    for idx in indexes:
        idx.create(conn)
    return counts


def bank_state_rows() -> list[Row]:
    """Every bank's state row (fixture overrides plus defaults)."""
    return fixture_rows()["world_banks"] + _bank_rows()


__all__ = [
    "DEFAULT_PEOPLE",
    "DEFAULT_REFERENCE",
    "DEFAULT_SEED",
    "TABLE_NAMES",
    "WorldGenerator",
    "bank_state_rows",
    "clear_world",
    "generate_world",
    "insert_rows",
    "seed_world",
    "world_banks",
]
