import json
import random
from datetime import time
from importlib import resources

import pytest
from persian_tools.bank.banks_code import data as oracle_rows

from pishkhan.iran import (
    BankTableError,
    all_banks,
    banks_for_jibit_id,
    by_bin,
    by_jibit_id,
    by_key,
    by_payman_code,
    by_sheba_code,
    generate_card_number,
    generate_iban,
    jibit_id_of,
    jibit_ids,
    normalize_name,
    parse_card_number,
    parse_iban,
    payman_banks,
)
from pishkhan.iran.banks import BankTable

# banks.md: Jibit id -> (Payman code, Sheba code, BINs)
BANKS_MD = {
    "MARKAZI": (None, "010", {"636797", "636795"}),
    "SANAT_VA_MADAN": (None, "011", {"627961"}),
    "MELLAT": ("BKMTIR", "012", {"610433", "991975"}),
    "REFAH": (None, "013", {"589463"}),
    "MASKAN": (None, "014", {"628023"}),
    "SEPAH": ("SEPBIR", "015", {"589210"}),
    "KESHAVARZI": ("KESHIR", "016", {"603770", "639217"}),
    "MELLI": ("MELIIR", "017", {"603799", "170019"}),
    "TEJARAT": ("BTEJIR", "018", {"627353", "585983"}),
    "SADERAT": (None, "019", {"603769", "903769"}),
    "TOSEAH_SADERAT": (None, "020", {"627648", "207177"}),
    "POST": ("PBIRIR", "021", {"627760"}),
    "TOSEAH_TAAVON": (None, "022", {"502908"}),
    "KARAFARIN": (None, "053", {"627488", "502910"}),
    "PARSIAN": (None, "054", {"622106", "627884", "639194"}),
    "EGHTESAD_NOVIN": ("BEGNIR", "055", {"627412"}),
    "SAMAN": ("SABCIR", "056", {"621986"}),
    "PASARGAD": (None, "057", {"502229", "639347"}),
    "SARMAYEH": ("SRMBIR", "058", {"639607"}),
    "SINA": ("SINAIR", "059", {"639346"}),
    "MEHR_IRAN": ("MEHRIR", "060", {"606373"}),
    "SHAHR": (None, "061", {"502806", "504706"}),
    "AYANDEH": (None, "062", {"636214"}),
    "GARDESHGARI": (None, "064", {"505416", "505426"}),
    "DAY": ("DAYBIR", "066", {"502938"}),
    "IRANZAMIN": ("IRZAIR", "069", {"505785"}),
    "RESALAT": (None, "070", {"504172"}),
    "MELAL": (None, "075", {"606256"}),
    "KHAVARMIANEH": (None, "078", {"585947"}),
    "NOOR": (None, "080", {"507677"}),
    "IRAN_VENEZUELA": (None, "095", {"581874"}),
}
MERGED_INTO_SEPAH = {
    "GHAVAMIN": ("052", "639599"),
    "ANSAR": ("063", "627381"),
    "HEKMAT": ("065", "636949"),
    "KOSAR": ("073", "505801"),
    "MEHR_EQTESAD": ("079", "639370"),
}


def test_data_file_is_package_data() -> None:
    assert resources.files("pishkhan.iran").joinpath("banks.json").is_file()


@pytest.mark.parametrize("jibit_id", sorted(BANKS_MD))
def test_rows_match_banks_md(jibit_id: str) -> None:
    payman, sheba, bins = BANKS_MD[jibit_id]
    bank = by_jibit_id(jibit_id)
    assert bank is not None
    assert bank.key == bank.jibit_id == jibit_id
    assert bank.payman_code == payman
    assert bank.sheba_code == sheba
    assert set(bank.bins) == bins
    assert by_sheba_code(sheba) is bank
    for b in bins:
        assert by_bin(b + "1234567890") is bank
    if payman is not None:
        assert by_payman_code(payman) is bank


def test_jibit_ids_are_exactly_banks_md() -> None:
    assert jibit_ids() == set(BANKS_MD)
    assert by_jibit_id("UNKNOWN") is None
    assert by_jibit_id("GHAVAMIN") is None  # a row, but not a Jibit id
    assert by_jibit_id("BLU") is None


def test_every_row_has_names() -> None:
    for bank in all_banks():
        assert bank.name_fa and not bank.name_fa.isascii()
        assert bank.name_en and bank.name_en.isascii()
    assert by_jibit_id("MELLAT").name_en == "Bank Mellat"  # type: ignore[union-attr]


def test_payman_banks_are_exactly_14() -> None:
    banks = payman_banks()
    assert len(banks) == 14
    assert {b.payman_code for b in banks} == {
        "BKMTIR",
        "SEPBIR",
        "KESHIR",
        "MELIIR",
        "BTEJIR",
        "PBIRIR",
        "BEGNIR",
        "SABCIR",
        "BLUBIR",
        "SRMBIR",
        "SINAIR",
        "MEHRIR",
        "DAYBIR",
        "IRZAIR",
    }
    assert all(b.is_payman and b.pay_cutoff is not None for b in banks)
    assert all(b.pay_cutoff is None for b in all_banks() if not b.is_payman)


def test_pay_cutoff_windows() -> None:
    starts = {b.payman_code: b.pay_cutoff.start for b in payman_banks() if b.pay_cutoff}
    assert starts.pop("MELIIR") == time(23, 30)
    assert starts.pop("KESHIR") == time(23, 45)
    assert starts.pop("BTEJIR") == time(23, 45)
    assert set(starts.values()) == {time(23, 55)}
    assert {b.pay_cutoff.end for b in payman_banks() if b.pay_cutoff} == {time(0, 5)}

    melli = by_payman_code("MELIIR")
    mellat = by_payman_code("BKMTIR")
    assert melli is not None and melli.pay_cutoff is not None
    assert mellat is not None and mellat.pay_cutoff is not None
    assert melli.pay_cutoff.contains(time(23, 40))
    assert not mellat.pay_cutoff.contains(time(23, 40))
    assert mellat.pay_cutoff.contains(time(23, 55))
    assert mellat.pay_cutoff.contains(time(0, 0))
    assert mellat.pay_cutoff.contains(time(0, 4, 59))
    assert not mellat.pay_cutoff.contains(time(0, 5))
    assert not mellat.pay_cutoff.contains(time(12, 0))


def test_blu_bank_policy() -> None:
    blu = by_payman_code("BLUBIR")
    saman = by_jibit_id("SAMAN")
    assert blu is not None and saman is not None
    assert blu.key == "BLU" and blu is by_key("BLU")
    assert blu.jibit_id == "SAMAN"
    assert blu.sheba_code == "056" and blu.bins == ("621986",)
    # Blu cards and IBANs are indistinguishable from Saman's and show as SAMAN.
    rng = random.Random(1)
    card = parse_card_number(generate_card_number(rng, blu))
    iban = parse_iban(generate_iban(rng, blu))
    assert card.bank is saman and iban.bank is saman
    assert jibit_id_of(card.bank) == "SAMAN"
    assert banks_for_jibit_id("SAMAN") == (saman, blu)


@pytest.mark.parametrize("key", sorted(MERGED_INTO_SEPAH))
def test_merged_banks_map_to_sepah(key: str) -> None:
    sheba, bin_ = MERGED_INTO_SEPAH[key]
    bank = by_key(key)
    assert bank is not None
    assert bank.jibit_id == "SEPAH" and bank.merged_into == "SEPAH"
    assert bank.payman_code is None
    assert by_sheba_code(sheba) is bank
    assert by_bin(bin_) is bank
    rng = random.Random(2)
    assert jibit_id_of(parse_card_number(generate_card_number(rng, bank)).bank) == "SEPAH"
    assert jibit_id_of(parse_iban(generate_iban(rng, bank)).bank) == "SEPAH"
    assert bank in banks_for_jibit_id("SEPAH")


def test_sepah_aliases() -> None:
    assert {b.key for b in banks_for_jibit_id("SEPAH")} == {"SEPAH", *MERGED_INTO_SEPAH}
    assert banks_for_jibit_id("MELLAT") == (by_key("MELLAT"),)
    assert banks_for_jibit_id("UNKNOWN") == ()


def test_unknown_lookups() -> None:
    assert by_sheba_code("999") is None
    assert by_bin("123456") is None
    assert by_bin("61043") is None  # too short
    assert by_payman_code("bkmtir") is None  # exact codes only
    assert jibit_id_of(None) == "UNKNOWN"


def test_mehr_iran_second_sheba_code() -> None:
    assert by_sheba_code("090") is by_jibit_id("MEHR_IRAN")


def _table_json(rows: list[dict[str, object]]) -> str:
    return json.dumps({"banks": rows})


def _row(key: str, jibit_id: str, sheba: str, bin_: str) -> dict[str, object]:
    return {
        "key": key,
        "jibit_id": jibit_id,
        "payman_code": None,
        "sheba_codes": [sheba],
        "bins": [bin_],
        "name_fa": "بانک",
        "name_en": "Bank",
        "pay_cutoff": None,
        "merged_into": None,
    }


def test_table_checks_reject_inconsistent_data() -> None:
    ok = BankTable.from_json(
        _table_json([_row("A", "A", "001", "111111"), _row("B", "A", "001", "111111")])
    )
    assert ok.by_bin["111111"].key == "A"
    with pytest.raises(BankTableError, match="already belongs"):
        BankTable.from_json(
            _table_json([_row("A", "A", "001", "111111"), _row("B", "B", "002", "111111")])
        )
    with pytest.raises(BankTableError, match="duplicate key"):
        BankTable.from_json(
            _table_json([_row("A", "A", "001", "111111"), _row("A", "A", "002", "222222")])
        )
    with pytest.raises(BankTableError, match="not a primary row"):
        BankTable.from_json(_table_json([_row("A", "Z", "001", "111111")]))
    with pytest.raises(BankTableError, match="malformed code"):
        BankTable.from_json(_table_json([_row("A", "A", "1", "111111")]))
    with pytest.raises(BankTableError, match="malformed bank table"):
        BankTable.from_json("{}")


# Every known difference between our table and the persian-tools (PyPI 0.0.11) oracle.
# Anything else that differs fails the test, so drift on either side shows.
KNOWN_DIFFERENCES = {
    ("missing", "051"),  # Tosee credit institution: not in Jibit's table (banks.md)
    ("bins", "010", "ours-only", "636795"),  # npm-only BIN
    ("bins", "053", "ours-only", "502910"),  # npm-only BIN
    ("bins", "054", "ours-only", "639194"),  # npm-only BIN
    ("bins", "080", "ours-only", "507677"),  # npm-only BIN
    ("bins", "095", "ours-only", "581874"),
    ("bins", "078", "oracle-only", "585949"),  # the oracle's typo ...
    ("bins", "078", "ours-only", "585947"),  # ... for Khavarmianeh's real BIN
    ("name", "010"),  # بانک مرکزی ایران vs بانک مرکزی جمهوری اسلامی ایران
    ("name", "060"),  # بانک مهر ایران vs بانک قرض‌الحسنه مهر ایران
    ("name", "070"),  # بانک رسالت vs بانک قرض‌الحسنه رسالت
    ("name", "073"),  # موسسه کوثر vs موسسه اعتباری کوثر
    ("name", "079"),  # بانک قرض الحسنه مهر vs بانک مهر اقتصاد
}


def test_table_against_persian_tools_oracle() -> None:
    differences: set[tuple[str, ...]] = set()
    for row in oracle_rows:
        raw_codes = row["sheba_code"]
        codes = [raw_codes] if isinstance(raw_codes, str) else list(raw_codes)
        primary = sorted(codes)[0]
        banks = {by_sheba_code(c) for c in codes}
        if banks == {None}:
            differences.add(("missing", primary))
            continue
        assert len(banks) == 1, row
        bank = banks.pop()
        assert bank is not None
        if set(codes) != set(bank.sheba_codes):
            differences.add(("sheba", primary))
        theirs, ours = set(row.get("card_prefix", [])), set(bank.bins)
        differences |= {("bins", primary, "oracle-only", b) for b in theirs - ours}
        differences |= {("bins", primary, "ours-only", b) for b in ours - theirs}
        if normalize_name(row["persian_name"]) != normalize_name(bank.name_fa):
            differences.add(("name", primary))
    oracle_codes = {
        c
        for row in oracle_rows
        for c in ([row["sheba_code"]] if isinstance(row["sheba_code"], str) else row["sheba_code"])
    }
    for bank in all_banks():
        for code in bank.sheba_codes:
            if code not in oracle_codes:
                differences.add(("extra", code))
    assert differences == KNOWN_DIFFERENCES
