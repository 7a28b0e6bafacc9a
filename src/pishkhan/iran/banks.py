"""The bank table: one owned data file (``banks.json``) joining the banks' vocabularies.

Jibit names banks by upper-case ids, Payman by six-letter codes, IBANs carry a three-digit
Sheba bank code and card numbers start with the bank's BIN. ``banks.json`` holds one row
per bank; it is read once at import into dicts, so every lookup is one dict access.

Policies (see also the notes inside ``banks.json``):

* **Blu Bank** (row ``BLU``, Payman ``BLUBIR``) is a Saman Bank product. It shares Saman's
  Sheba code ``056`` (inferred) and BIN ``621986``, so a Blu card or IBAN resolves to
  ``SAMAN`` by :func:`by_bin` / :func:`by_sheba_code`, and Jibit shows it as ``SAMAN``
  (its ``jibit_id``). Only Payman distinguishes it (:func:`by_payman_code`).
* **Banks merged into Sepah** (Ansar 063, Ghavamin 052, Hekmat 065, Kosar 073, Mehr
  Eqtesad 079) keep their own rows, Sheba codes and BINs (old cards and IBANs still
  resolve to them), but Jibit has no id for them: their ``jibit_id`` is ``SEPAH`` and
  ``merged_into`` is ``"SEPAH"``.
* A card or IBAN whose bank is not in the table has no :class:`Bank`; Jibit calls it
  ``UNKNOWN`` (:data:`JIBIT_UNKNOWN`, :func:`jibit_id_of`).
* Mehr Iran has two Sheba codes (``060`` primary, ``090``), as both ``persian-tools``
  editions list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import time
from importlib import resources
from typing import Any, Final

JIBIT_UNKNOWN: Final = "UNKNOWN"
DATA_FILE: Final = "banks.json"

_SHEBA_RE: Final = re.compile(r"\d{3}", re.ASCII)
_BIN_RE: Final = re.compile(r"\d{6}", re.ASCII)
_PAYMAN_RE: Final = re.compile(r"[A-Z]{6}", re.ASCII)
_KEY_RE: Final = re.compile(r"[A-Z][A-Z_]*", re.ASCII)


class BankTableError(ValueError):
    """``banks.json`` is inconsistent (raised at import, never at lookup time)."""


@dataclass(frozen=True, slots=True)
class PayCutoff:
    """Payman's daily pay cut-off window ``[start, end)`` in Tehran time; may wrap midnight."""

    start: time
    end: time

    def contains(self, at: time) -> bool:
        """True if the wall-clock time ``at`` (Tehran, naive) falls inside the window."""
        at = at.replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end


@dataclass(frozen=True, slots=True)
class Bank:
    """One row of the bank table."""

    key: str
    jibit_id: str
    payman_code: str | None
    sheba_codes: tuple[str, ...]
    bins: tuple[str, ...]
    name_fa: str
    name_en: str
    pay_cutoff: PayCutoff | None
    merged_into: str | None

    @property
    def sheba_code(self) -> str:
        """The primary Sheba code (used when building IBANs)."""
        return self.sheba_codes[0]

    @property
    def is_payman(self) -> bool:
        return self.payman_code is not None


def _parse_time(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def _row(raw: dict[str, Any]) -> Bank:
    cutoff = raw["pay_cutoff"]
    return Bank(
        key=str(raw["key"]),
        jibit_id=str(raw["jibit_id"]),
        payman_code=None if raw["payman_code"] is None else str(raw["payman_code"]),
        sheba_codes=tuple(str(s) for s in raw["sheba_codes"]),
        bins=tuple(str(b) for b in raw["bins"]),
        name_fa=str(raw["name_fa"]),
        name_en=str(raw["name_en"]),
        pay_cutoff=None
        if cutoff is None
        else PayCutoff(_parse_time(cutoff["start"]), _parse_time(cutoff["end"])),
        merged_into=None if raw["merged_into"] is None else str(raw["merged_into"]),
    )


@dataclass(frozen=True, slots=True)
class BankTable:
    """The loaded table and its indexes."""

    banks: tuple[Bank, ...]
    by_key: dict[str, Bank]
    by_payman_code: dict[str, Bank]
    by_sheba_code: dict[str, Bank]
    by_bin: dict[str, Bank]
    aliases: dict[str, tuple[Bank, ...]]

    @classmethod
    def from_json(cls, text: str) -> BankTable:
        """Parse and check a bank table; raises :class:`BankTableError` when inconsistent."""
        try:
            banks = tuple(_row(r) for r in json.loads(text)["banks"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BankTableError(f"malformed bank table: {exc!r}") from exc
        by_key: dict[str, Bank] = {}
        for b in banks:
            if not _KEY_RE.fullmatch(b.key) or b.key in by_key:
                raise BankTableError(f"bad or duplicate key {b.key!r}")
            by_key[b.key] = b
        by_payman: dict[str, Bank] = {}
        by_sheba: dict[str, Bank] = {}
        by_bin: dict[str, Bank] = {}
        aliases: dict[str, list[Bank]] = {}
        for b in banks:
            owner = by_key.get(b.jibit_id)
            if owner is None or owner.jibit_id != owner.key:
                raise BankTableError(f"{b.key}: jibit_id {b.jibit_id!r} is not a primary row")
            aliases.setdefault(b.jibit_id, []).append(b)
            if b.merged_into is not None and b.merged_into not in by_key:
                raise BankTableError(f"{b.key}: merged_into {b.merged_into!r} unknown")
            if (b.payman_code is None) != (b.pay_cutoff is None):
                raise BankTableError(f"{b.key}: Payman banks (and only they) have a cut-off")
            if b.payman_code is not None:
                if not _PAYMAN_RE.fullmatch(b.payman_code) or b.payman_code in by_payman:
                    raise BankTableError(f"{b.key}: bad or duplicate Payman code")
                by_payman[b.payman_code] = b
            if not b.sheba_codes or not b.bins:
                raise BankTableError(f"{b.key}: needs at least one Sheba code and one BIN")
            for index, pattern, values in (
                (by_sheba, _SHEBA_RE, b.sheba_codes),
                (by_bin, _BIN_RE, b.bins),
            ):
                for value in values:
                    if not pattern.fullmatch(value):
                        raise BankTableError(f"{b.key}: malformed code {value!r}")
                    first = index.get(value)
                    if first is None:
                        index[value] = b
                    elif b.jibit_id != first.key:
                        # Only an alias row (Blu -> Saman) may share its owner's codes.
                        raise BankTableError(f"{b.key}: {value} already belongs to {first.key}")
        return cls(
            banks=banks,
            by_key=by_key,
            by_payman_code=by_payman,
            by_sheba_code=by_sheba,
            by_bin=by_bin,
            aliases={k: tuple(v) for k, v in aliases.items()},
        )


def _load() -> BankTable:
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return BankTable.from_json(text)


TABLE: Final = _load()
_PAYMAN_BANKS: Final = tuple(b for b in TABLE.banks if b.payman_code is not None)
_JIBIT_IDS: Final = frozenset(b.key for b in TABLE.banks if b.jibit_id == b.key)


def all_banks() -> tuple[Bank, ...]:
    """Every row of the table, in file order."""
    return TABLE.banks


def payman_banks() -> tuple[Bank, ...]:
    """The banks Payman lists (14), in file order."""
    return _PAYMAN_BANKS


def jibit_ids() -> frozenset[str]:
    """Every bank id Jibit uses (``UNKNOWN`` excluded)."""
    return _JIBIT_IDS


def by_key(key: str) -> Bank | None:
    """The row with this stable key (``"BLU"``, ``"ANSAR"``, ``"MELLAT"``...)."""
    return TABLE.by_key.get(key)


def by_jibit_id(jibit_id: str) -> Bank | None:
    """The bank Jibit names ``jibit_id`` (its primary row: ``SAMAN`` for ``"SAMAN"``)."""
    bank = TABLE.by_key.get(jibit_id)
    return bank if bank is not None and bank.jibit_id == bank.key else None


def banks_for_jibit_id(jibit_id: str) -> tuple[Bank, ...]:
    """Every row Jibit shows as ``jibit_id`` (``SEPAH``: Sepah and the banks merged into it)."""
    return TABLE.aliases.get(jibit_id, ())


def by_payman_code(code: str) -> Bank | None:
    """The bank with this Payman code (``"BKMTIR"``)."""
    return TABLE.by_payman_code.get(code)


def by_sheba_code(code: str) -> Bank | None:
    """The bank owning this three-digit Sheba code (``"012"``)."""
    return TABLE.by_sheba_code.get(code)


def by_bin(card_number_or_bin: str) -> Bank | None:
    """The bank of a card number (or its first six digits); ``None`` if unknown/too short."""
    return TABLE.by_bin.get(card_number_or_bin[:6])


def jibit_id_of(bank: Bank | None) -> str:
    """The id Jibit shows for ``bank``: its ``jibit_id``, or ``UNKNOWN`` for ``None``."""
    return JIBIT_UNKNOWN if bank is None else bank.jibit_id
