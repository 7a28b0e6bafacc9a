"""Golden request/response pairs per endpoint, written from the Jibit document."""

from __future__ import annotations

from typing import Any

from jibit_support import PREFIX, Customer, daily_counts, usage, wallet_balances

from pishkhan import iran
from pishkhan.runtime import Runtime
from pishkhan.world import fixtures as F

OWNER_OK = {"firstName": "علی", "lastName": "رضایی"}
IBAN_INFO_OK = {
    "bank": "MELLI",
    "depositNumber": F.DEPOSIT_ACTIVE,
    "iban": F.IBAN_ACTIVE,
    "status": "ACTIVE",
    "owners": [OWNER_OK],
}


def get(client: Any, auth: dict[str, str], path: str) -> Any:
    r = client.get(PREFIX + path, headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return r.json()


def test_card_inquiry(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    assert get(client, auth, f"/cards?number={F.CARD_ACTIVE}") == {
        "number": F.CARD_ACTIVE,
        "cardInfo": {
            "bank": "MELLI",
            "type": "DEBIT",
            "ownerName": "علی رضایی",
            "depositNumber": F.DEPOSIT_ACTIVE,
        },
    }
    assert usage(runtime, customer) == [("CARD_INQUIRY", "success", 1500)]
    assert wallet_balances(runtime, customer)["jibit.PRF"] == 10_000_000_000 - 1500


def test_card_inquiry_credit_card(client: Any, auth: dict[str, str]) -> None:
    body = get(client, auth, f"/cards?number={F.CARD_CREDIT}")
    assert body["cardInfo"]["type"] == "CREDIT"
    assert body["cardInfo"]["bank"] == "MELLAT"


def test_card_to_deposit(client: Any, auth: dict[str, str]) -> None:
    assert get(client, auth, f"/cards?number={F.CARD_ACTIVE}&deposit=true") == {
        "number": F.CARD_ACTIVE,
        "type": "DEBIT",
        "depositInfo": {"bank": "MELLI", "depositNumber": F.DEPOSIT_ACTIVE},
    }


def test_card_to_iban(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    assert get(client, auth, f"/cards?number={F.CARD_ACTIVE}&iban=true") == {
        "number": F.CARD_ACTIVE,
        "type": "DEBIT",
        "ibanInfo": IBAN_INFO_OK,
    }
    assert usage(runtime, customer) == [("CARD_TO_IBAN", "success", 3000)]


def test_iban_inquiry_joint(client: Any, auth: dict[str, str]) -> None:
    assert get(client, auth, f"/ibans?value={F.IBAN_JOINT}") == {
        "value": F.IBAN_JOINT,
        "ibanInfo": {
            "bank": "MELLAT",
            "depositNumber": F.DEPOSIT_JOINT,
            "iban": F.IBAN_JOINT,
            "status": "ACTIVE",
            "owners": [OWNER_OK, {"firstName": "مریم", "lastName": "احمدی"}],
        },
    }


def test_iban_inquiry_statuses_and_legal_owner(client: Any, auth: dict[str, str]) -> None:
    for iban, status in [
        (F.IBAN_BLOCK_WITH, "BLOCK_WITH_DEPOSIT"),
        (F.IBAN_BLOCK_WITHOUT, "BLOCK_WITHOUT_DEPOSIT"),
        (F.IBAN_IDLE, "IDLE"),
        (F.IBAN_STATUS_UNKNOWN, "UNKNOWN"),
    ]:
        assert get(client, auth, f"/ibans?value={iban}")["ibanInfo"]["status"] == status
    legal = get(client, auth, f"/ibans?value={F.IBAN_LEGAL}")["ibanInfo"]
    assert legal["owners"] == [{"firstName": "شرکت پارس داده سهامی خاص", "lastName": ""}]


def test_deposit_to_iban(client: Any, auth: dict[str, str]) -> None:
    assert get(client, auth, f"/deposits?bank=MELLI&number={F.DEPOSIT_ACTIVE}&iban=true") == {
        "number": F.DEPOSIT_ACTIVE,
        "depositToIBANInfo": {"bank": "MELLI", "iban": F.IBAN_ACTIVE},
        "ibanInfo": IBAN_INFO_OK,
    }


def test_availability(client: Any, auth: dict[str, str]) -> None:
    report = get(client, auth, "/services/availability?cardToIBAN=true")["availabilityReport"]
    assert set(report) == iran.jibit_ids()
    assert report["MELLI"] == "AVAILABLE"
    assert report[F.BANK_CARD_TO_IBAN_UNAVAILABLE] == "NOT_AVAILABLE"
    assert report[F.BANK_INACTIVE] == "NOT_AVAILABLE"


MATCHING = [
    (
        f"cardNumber={F.CARD_ACTIVE}&nationalCode={F.NC_OK}&birthDate=13600331",
        True,
        "MATCHING_CARD_NATIONAL_CODE",
    ),
    (
        f"cardNumber={F.CARD_ACTIVE}&nationalCode={F.NC_FEMALE}&birthDate=13650715",
        False,
        "MATCHING_CARD_NATIONAL_CODE",
    ),
    (
        f"bank=MELLI&depositNumber={F.DEPOSIT_ACTIVE}&nationalCode={F.NC_OK}&birthDate=13600331",
        True,
        "MATCHING_DEPOSIT_NATIONAL_CODE",
    ),
    (
        f"iban={F.IBAN_JOINT}&nationalCode={F.NC_FEMALE}&birthDate=13650715",
        True,
        "MATCHING_IBAN_NATIONAL_CODE",
    ),
    (
        f"iban={F.IBAN_ACTIVE}&nationalCode={F.NC_FEMALE}&birthDate=13650715",
        False,
        "MATCHING_IBAN_NATIONAL_CODE",
    ),
    (f"cardNumber={F.CARD_ACTIVE}&name=علی رضایی", True, "MATCHING_CARD_NAME"),
    (f"cardNumber={F.CARD_ACTIVE}&name=علي رضائي", True, "MATCHING_CARD_NAME"),
    (f"cardNumber={F.CARD_ACTIVE}&name=مریم احمدی", False, "MATCHING_CARD_NAME"),
    (f"bank=MELLAT&depositNumber={F.DEPOSIT_JOINT}&name=مریم احمدی", True, "MATCHING_DEPOSIT_NAME"),
    (f"iban={F.IBAN_ACTIVE}&name=علی رضایی", True, "MATCHING_IBAN_NAME"),
    (f"iban={F.IBAN_ACTIVE}&name=حسین کریمی", False, "MATCHING_IBAN_NAME"),
    (f"nationalCode={F.NC_OK}&mobileNumber={F.MOBILE_OK}", True, "MATCHING_SHAHKAR"),
    (f"nationalCode={F.NC_FEMALE}&mobileNumber={F.MOBILE_OK}", False, "MATCHING_SHAHKAR"),
    (f"nationalCode={F.NC_OK}&mobileNumber={F.MOBILE_UNKNOWN}", False, "MATCHING_SHAHKAR"),
]


def test_matching(client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer) -> None:
    expected: dict[str, int] = {}
    for query, matched, svc in MATCHING:
        assert get(client, auth, f"/services/matching?{query}") == {"matched": matched}, query
        expected[svc] = expected.get(svc, 0) + 1
    assert daily_counts(runtime, customer) == expected


def test_postal(client: Any, auth: dict[str, str]) -> None:
    assert get(client, auth, f"/services/postal?code={F.POSTAL_OK}") == {
        "code": F.POSTAL_OK,
        "addressInfo": {
            "postalCode": F.POSTAL_OK,
            "address": "تهران، محله ونک، خیابان ملاصدرا، کوچه شیراز شمالی، پلاک ۱۲، طبقه ۳، واحد ۶",
            "Province": "تهران",
            "district": "تهران",
            "street": "خیابان ملاصدرا، کوچه شیراز شمالی",
            "no": "12",
            "floor": "3",
            "province": "تهران",
            "city": "تهران",
            "number": "12",
        },
    }


def test_postal_wgs(client: Any, auth: dict[str, str]) -> None:
    assert get(client, auth, f"/services/postal/wgs?code={F.POSTAL_OK}") == {
        "code": F.POSTAL_OK,
        "wgsInfo": {"postalCode": F.POSTAL_OK, "latitude": 35.758, "longitude": 51.4097},
    }


def test_similarity(client: Any, auth: dict[str, str]) -> None:
    q = (
        f"nationalCode={F.NC_OK}&birthDate=13600331&firstName=علی&lastName=رضائی"
        "&fullName=علی رضایی&fatherName=محمود"
    )
    assert get(client, auth, f"/services/identity/similarity?{q}") == {
        "firstNameSimilarityPercentage": 100,
        "lastNameSimilarityPercentage": 100,
        "fullNameSimilarityPercentage": 100,
        "fatherNameSimilarityPercentage": iran.similarity("محمود", "محمد"),
    }
    only_last = get(
        client,
        auth,
        f"/services/identity/similarity?nationalCode={F.NC_OK}&birthDate=13600331&lastName=کریمی",
    )
    assert list(only_last) == ["lastNameSimilarityPercentage"]
    assert isinstance(only_last["lastNameSimilarityPercentage"], int)


def test_foreigner(client: Any, auth: dict[str, str]) -> None:
    body = get(client, auth, f"/services/foreigners/identity?fida={F.FIDA_OK}")
    assert body["fida"] == F.FIDA_OK
    info = body["foreignerIdentityInfo"]
    assert info["fida"] == F.FIDA_OK
    assert (info["firstName"], info["lastName"], info["nationality"]) == (
        "احمد",
        "احمدزی",
        "Afghan",
    )
    assert info["gender"] == "MALE"
    assert len(info["identificationDocuments"]) == 2
    assert set(info["identificationDocuments"][0]) == {
        "type",
        "code",
        "issueDate",
        "expirationDate",
    }


def test_guild(client: Any, auth: dict[str, str]) -> None:
    body = get(client, auth, f"/services/corporation/identity?code={F.GUILD_OK}")
    assert body["code"] == F.GUILD_OK
    info = body["corporationIdentityInfo"]
    assert info["code"] == F.GUILD_OK
    assert info["nationalCode"] == F.NC_OK
    assert info["postalCode"] == F.POSTAL_SHOP
    assert isinstance(info["area"], int)
    assert len(info["providerTrackerId"]) == 32


def test_military(client: Any, auth: dict[str, str]) -> None:
    for nc, qualified in [
        (F.NC_OK, True),
        (F.NC_MILITARY_EXEMPT, True),
        (F.NC_MILITARY_ABSENT, False),
        (F.NC_FEMALE, True),
    ]:
        body = get(client, auth, f"/services/social/msq?nationalCode={nc}")
        info = body["militaryServiceQualificationInfo"]
        assert body["nationalCode"] == nc and info["nationalCode"] == nc
        assert info["qualified"] is qualified, nc
        assert set(info) == {"nationalCode", "qualified", "description", "providerTrackerId"}


def test_sana(client: Any, auth: dict[str, str]) -> None:
    assert get(
        client, auth, f"/services/social/sana?nationalCode={F.NC_OK}&mobileNumber={F.MOBILE_OK}"
    ) == {"nationalCode": F.NC_OK, "mobileNumber": F.MOBILE_OK, "registered": True, "matched": True}
    assert get(
        client,
        auth,
        f"/services/social/sana?nationalCode={F.NC_FEMALE}&mobileNumber={F.MOBILE_FEMALE}",
    ) == {
        "nationalCode": F.NC_FEMALE,
        "mobileNumber": F.MOBILE_FEMALE,
        "registered": False,
        "matched": True,
    }
    # a SIM that is not the person's: test_jibit_methods_and_encoding.py (error by default)


def test_balances_and_daily_report(client: Any, auth: dict[str, str], runtime: Runtime) -> None:
    get(client, auth, f"/cards?number={F.CARD_ACTIVE}")
    get(client, auth, f"/cards?number={F.CARD_ACTIVE}")
    get(client, auth, f"/ibans?value={F.IBAN_ACTIVE}")
    client.get(PREFIX + f"/cards?number={F.CARD_LOST}", headers=auth)  # failed: not counted
    assert get(client, auth, "/balances") == {
        "balances": [
            {"balanceType": "PRF", "currency": "IRR", "amount": 10_000_000_000 - 2 * 1500 - 2000},
            {"balanceType": "POF", "currency": "IRR", "amount": 0},
        ]
    }
    day = iran.to_jalali(runtime.clock.today()).yymmdd()
    assert get(client, auth, f"/reports/daily?yearMonthDay={day}") == {
        "report": [
            {
                "services": [
                    {"Service": "CARD_INQUIRY", "persianName": "استعلام کارت", "count": 2},
                    {"Service": "IBAN_INQUIRY", "persianName": "استعلام شبا", "count": 1},
                ]
            }
        ]
    }
    assert get(client, auth, "/reports/daily?yearMonthDay=000708") == {"report": [{"services": []}]}


def test_health_and_track_id(client: Any, auth: dict[str, str]) -> None:
    r = client.get("/ide/health")
    assert r.status_code == 200 and r.json() == {"outcome": "UP", "checks": []}
    r = client.get(
        f"{PREFIX}/cards?number={F.CARD_ACTIVE}", headers={**auth, "X-TRACK-ID": "track-123"}
    )
    assert r.headers["X-TRACK-ID"] == "track-123"
    r = client.get(f"{PREFIX}/cards?number=123", headers={**auth, "X-TRACK-ID": "t-err"})
    assert r.status_code == 400 and r.headers["X-TRACK-ID"] == "t-err"
