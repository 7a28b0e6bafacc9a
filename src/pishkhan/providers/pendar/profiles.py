"""The CA hierarchy and certificate profiles pishkhan's Pendar surface runs.

A root CA signs every intermediate; each intermediate has the profiles GetCAProfileInfo lists,
plus what issuance needs (validity, key usage, extended key usage, accepted key algorithms and
the subject template). Profiles are code, not data: the CA keys and certificates they belong to
are created in the database on first use (:mod:`.ca`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

ROOT: Final = "root"
TEST_CA: Final = "01"
GOVERNMENT_CA: Final = "08"

# Statistical Centre of Iran province codes (ProvinceId).
PROVINCES: Final[dict[str, int]] = {
    "مرکزی": 0,
    "گیلان": 1,
    "مازندران": 2,
    "آذربایجان شرقی": 3,
    "آذربایجان غربی": 4,
    "کرمانشاه": 5,
    "خوزستان": 6,
    "فارس": 7,
    "کرمان": 8,
    "خراسان رضوی": 9,
    "اصفهان": 10,
    "سیستان و بلوچستان": 11,
    "کردستان": 12,
    "همدان": 13,
    "چهارمحال و بختیاری": 14,
    "لرستان": 15,
    "ایلام": 16,
    "کهگیلویه و بویراحمد": 17,
    "بوشهر": 18,
    "زنجان": 19,
    "سمنان": 20,
    "یزد": 21,
    "هرمزگان": 22,
    "تهران": 23,
    "اردبیل": 24,
    "قم": 25,
    "قزوین": 26,
    "گلستان": 27,
    "خراسان شمالی": 28,
    "خراسان جنوبی": 29,
    "البرز": 30,
}

# Subject templates use the RegisterInfo personData names.
PERSON_DN: Final = (
    "CN={EnName} {EnLastName} [Sign],SERIALNUMBER={NationalCode},G={Name},SN={LastName},"
    "O=Individual,L={City},S={ProvinceName},C=IR"
)
DN_ATTRIBUTES: Final[dict[str, ObjectIdentifier]] = {
    "CN": NameOID.COMMON_NAME,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "G": NameOID.GIVEN_NAME,
    "SN": NameOID.SURNAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "L": NameOID.LOCALITY_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "C": NameOID.COUNTRY_NAME,
    "E": NameOID.EMAIL_ADDRESS,
}
SIGNING_EKU: Final = (ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION)


@dataclass(frozen=True)
class Profile:
    name: str
    product_id: int
    price: int
    face_auth: bool
    input_type: str  # manually / card / mobile
    approval: bool
    description: str
    validity_days: int = 365
    rsa_sizes: tuple[int, ...] = (2048, 3072, 4096)
    ec_curves: tuple[str, ...] = ("secp256r1", "secp384r1")
    subject_dn_config: str = PERSON_DN
    extended_key_usage: tuple[ObjectIdentifier, ...] = SIGNING_EKU

    def wire(self) -> dict[str, Any]:
        """The profile as GetCAProfileInfo answers it."""
        return {
            "SubjectDNConfig": self.subject_dn_config,
            "ProfileName": self.name,
            "Price": self.price,
            "FaceAuth": self.face_auth,
            "InputType": self.input_type,
            "Approval": self.approval,
            "ProductId": self.product_id,
            "Description": self.description,
        }


@dataclass(frozen=True)
class CADef:
    name: str
    title: str
    common_name: str
    government: bool = False
    test: bool = False
    validity_days: int = 3650
    profiles: tuple[Profile, ...] = field(default_factory=tuple)

    def profile(self, name: str) -> Profile | None:
        for p in self.profiles:
            if p.name == name:
                return p
        return None


ROOT_DEF: Final = CADef(ROOT, "ریشه آزمایشی پیشخوان", "Pishkhan Root CA", validity_days=7300)

INTERMEDIATES: Final[tuple[CADef, ...]] = (
    CADef(
        TEST_CA,
        "مرکز میانی آزمایشی",
        "Pishkhan Test CA 01",
        test=True,
        profiles=(
            Profile(
                "گواهی آزمایشی شخص حقیقی",
                101,
                50_000,
                False,
                "manually",
                False,
                "گواهی امضای آزمایشی بدون نیاز به احراز هویت حضوری",
            ),
            Profile(
                "گواهی آزمایشی با تایید",
                102,
                50_000,
                True,
                "mobile",
                True,
                "گواهی امضای آزمایشی با احراز هویت (RequestApprove)",
            ),
        ),
    ),
    CADef(
        GOVERNMENT_CA,
        "مرکز میانی دولتی عام",
        "Pishkhan Government Public CA 08",
        government=True,
        profiles=(
            Profile(
                "گواهی موبایل برنز شخص حقیقی مستقل",
                801,
                1_500_000,
                True,
                "mobile",
                True,
                "گواهی برنز شخص حقیقی مستقل روی تلفن همراه با احراز هویت چهره",
                validity_days=730,
            ),
            Profile(
                "گواهی برنز شخص حقیقی مستقل",
                802,
                1_200_000,
                False,
                "manually",
                True,
                "گواهی برنز شخص حقیقی مستقل با احراز هویت حضوری",
                validity_days=730,
            ),
        ),
    ),
    CADef(
        "05",
        "مرکز میانی تجاری",
        "Pishkhan Commercial CA 05",
        profiles=(
            Profile(
                "گواهی امضای شخص حقیقی",
                501,
                800_000,
                False,
                "card",
                False,
                "گواهی امضای شخص حقیقی بدون احراز هویت حضوری",
                rsa_sizes=(2048, 4096),
                ec_curves=(),
            ),
        ),
    ),
)
BY_NAME: Final[dict[str, CADef]] = {ca.name: ca for ca in INTERMEDIATES}

# What a customer is granted when its settings say nothing: the test CA, every profile.
DEFAULT_GRANTS: Final[dict[str, list[str]]] = {TEST_CA: ["*"]}


def grants(settings: dict[str, Any]) -> dict[str, list[str]]:
    raw = settings.get("cas")
    if not isinstance(raw, dict):
        return dict(DEFAULT_GRANTS)
    return {str(k): [str(p) for p in (v or [])] for k, v in raw.items()}


def granted_profiles(settings: dict[str, Any], ca: CADef) -> list[Profile]:
    allowed = grants(settings).get(ca.name)
    if allowed is None:
        return []
    if "*" in allowed:
        return list(ca.profiles)
    return [p for p in ca.profiles if p.name in allowed]
