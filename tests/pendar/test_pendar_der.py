"""The DER encoder the CA signs through (signer interface): byte-for-byte what cryptography's
builders produce, and signers that never hand out a private key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pishkhan.providers.pendar import ca as ca_mod
from pishkhan.providers.pendar import der
from pishkhan.providers.pendar.profiles import BY_NAME
from pishkhan.providers.pendar.signer import SoftwareSigner

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("dotted", "hexed"),
    [
        ("2.5.29.19", "0603551d13"),
        ("1.2.840.113549.1.1.11", "06092a864886f70d01010b"),
        ("1.3.6.1.5.5.7.48.1.1", "06092b0601050507300101"),
        ("2.16.840.1.101.3.4.2.1", "0609608648016503040201"),
    ],
)
def test_oid(dotted: str, hexed: str) -> None:
    assert der.oid(dotted).hex() == hexed


@pytest.mark.parametrize(
    ("value", "hexed"), [(0, "020100"), (127, "02017f"), (128, "02020080"), (256, "02020100")]
)
def test_integer(value: int, hexed: str) -> None:
    assert der.integer(value).hex() == hexed


def test_long_lengths() -> None:
    assert der.tlv(0x04, b"x" * 200)[:3].hex() == "0481c8"
    assert der.tlv(0x04, b"x" * 70000)[:5].hex() == "0483011170"


def test_time_switches_to_generalized_in_2050() -> None:
    assert der.utc_time(datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC))[0] == 0x17
    assert der.utc_time(datetime(2050, 1, 1, tzinfo=UTC))[0] == 0x18


def _subject() -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "تهران"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "0012345679"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Ali Rezaei [Sign]"),
        ]
    )


def test_certificate_is_byte_identical_to_cryptography_builder() -> None:
    """RSA PKCS#1 v1.5 is deterministic: the whole certificate must match, signature included."""
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Issuer")])
    leaf = ec.generate_private_key(ec.SECP256R1()).public_key()
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    end = datetime(2051, 1, 2, tzinfo=UTC)  # GeneralizedTime after 2049
    exts: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        (x509.SubjectKeyIdentifier.from_public_key(leaf), False),
        (
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier("http://x/crl")], None, None, None
                    )
                ]
            ),
            False,
        ),
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_subject())
        .issuer_name(issuer)
        .public_key(leaf)
        .serial_number(0x7F_1234_5678_9ABC_DEF0)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for value, critical in exts:
        builder = builder.add_extension(value, critical)
    expected = builder.sign(RSA_KEY, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    tbs = der.tbs_certificate(
        serial=0x7F_1234_5678_9ABC_DEF0,
        algorithm=der.SHA256_RSA,
        issuer=issuer.public_bytes(),
        not_before=start,
        not_after=end,
        subject=_subject().public_bytes(),
        spki=leaf.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        extensions=[der.extension(v, c) for v, c in exts],
    )
    signer = SoftwareSigner(RSA_KEY, "software:test")
    assert der.signed(tbs, der.SHA256_RSA, signer.sign(tbs)) == expected


class RecordingSigner:
    """A signer as an HSM would be: a public key and sign(bytes), no private key object."""

    def __init__(self, key: Any) -> None:
        self._inner = SoftwareSigner(key, "pkcs11:test")
        self.key_ref = "pkcs11:test"
        self.signed: list[bytes] = []

    def public_key(self) -> Any:
        return self._inner.public_key()

    def sign(self, data: bytes) -> bytes:
        self.signed.append(data)
        return self._inner.sign(data)


@pytest.mark.parametrize("key", [RSA_KEY, ec.generate_private_key(ec.SECP256R1())])
def test_issue_goes_through_the_signer(key: Any) -> None:
    signer = RecordingSigner(key)
    now = datetime.now(UTC)
    root_cert = ca_mod._ca_certificate(BY_NAME["01"], signer, None, now)
    root_cert.verify_directly_issued_by(root_cert)
    loaded = ca_mod.LoadedCA(
        1, "01", BY_NAME["01"], root_cert, b"", signer, None, "http://127.0.0.1:1"
    )
    profile = BY_NAME["01"].profiles[0]
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issued = ca_mod.issue(loaded, profile, _subject(), leaf_key.public_key(), now)
    issued.certificate.verify_directly_issued_by(root_cert)
    assert issued.certificate.tbs_certificate_bytes == signer.signed[-1]
    assert issued.certificate.subject == _subject()
    assert issued.not_after - issued.not_before == timedelta(days=profile.validity_days)
    ku = issued.certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.content_commitment and ku.value.digital_signature
    # the software signer produces verifiable PKCS#1 v1.5 / ECDSA signatures
    if isinstance(key, rsa.RSAPrivateKey):
        key.public_key().verify(
            issued.certificate.signature,
            issued.certificate.tbs_certificate_bytes,
            padding.PKCS1v15(),
            hashes.SHA256(),
        )


_PEOPLE: list[dict[str, Any]] = [
    {
        "NationalCode": "0012345679",
        "Name": "علی",
        "LastName": "رضایی",
        "EnName": "Ali",
        "EnLastName": "Rezaei",
        "City": "تهران",
        "ProvinceName": "تهران",
    },
    # RFC 4514 escapes, commas in values, collapsed whitespace, missing fields
    {
        "NationalCode": "0012345679",
        "Name": '#a+b;c<d>e"f\\g',
        "LastName": "  x,  y ",
        "EnName": "",
        "EnLastName": "",
        "City": "",
    },
    # a CN over 64 characters (cut), a long non-ASCII surname
    {
        "NationalCode": "0012345679",
        "Name": "ن" * 80,
        "LastName": "ی" * 70,
        "EnName": "A" * 40,
        "EnLastName": "B" * 40,
        "City": "Shiraz",
        "ProvinceName": "فارس",
    },
    # a non-ASCII CN over 64 bytes: cryptography refuses it, and so does subject_of
    {"NationalCode": "0012345679", "EnName": "ن" * 40, "EnLastName": "ی" * 40},
    # not PrintableString: build_subject's path
    {"NationalCode": "۰۰۱۲۳۴۵۶۷۹", "Name": "x", "EnName": "y", "EnLastName": "z"},
    {"NationalCode": "0012_345", "Name": "x", "EnName": "y", "EnLastName": "z"},
    {"NationalCode": "0012345679", "Name": "\ud800", "EnName": " ", "EnLastName": "#"},
    {},
]


@pytest.mark.parametrize("person", _PEOPLE)
def test_subject_of_equals_build_subject(person: dict[str, Any]) -> None:
    """Same DER, RFC 4514 string and CN as through ``x509.Name``, or the same error."""
    profile = BY_NAME["01"].profiles[0]

    def expected() -> tuple[bytes, str, str]:
        name = ca_mod.build_subject(profile, person)
        cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return name.public_bytes(), name.rfc4514_string(), str(cns[0].value) if cns else ""

    def actual() -> tuple[bytes, str, str]:
        subject = ca_mod.subject_of(profile, person)
        return subject.der, subject.dn, subject.cn

    def outcome(make: Any) -> Any:
        try:
            return make()
        except ValueError as exc:
            return type(exc)

    assert outcome(actual) == outcome(expected)


@pytest.mark.parametrize(
    "public_key",
    [
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        ec.generate_private_key(ec.SECP384R1()).public_key(),
    ],
)
def test_issued_certificate_matches_cryptography_builder(public_key: Any) -> None:
    """``issue`` (prepared extensions, key identifier from the SPKI) signs exactly what
    ``CertificateBuilder`` would for the same subject, key, serial, times and extensions."""
    now = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    root_cert = ca_mod._ca_certificate(BY_NAME["01"], SoftwareSigner(RSA_KEY, "s"), None, now)
    loaded = ca_mod.LoadedCA(
        1, "01", BY_NAME["01"], root_cert, b"", SoftwareSigner(RSA_KEY, "s"), None, "http://h:1"
    )
    profile = BY_NAME["01"].profiles[0]
    subject = ca_mod.subject_of(profile, _PEOPLE[0])
    issued = ca_mod.issue(loaded, profile, subject, public_key, now)
    cert = issued.certificate
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string(subject.dn))
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(cert.serial_number)
        .not_valid_before(issued.not_before)
        .not_valid_after(issued.not_after)
    )
    for ext in [
        x509.Extension(x509.BasicConstraints.oid, True, x509.BasicConstraints(False, None)),
        cert.extensions.get_extension_for_class(x509.KeyUsage),
        x509.Extension(
            x509.ExtendedKeyUsage.oid,
            False,
            x509.ExtendedKeyUsage(list(profile.extended_key_usage)),
        ),
        x509.Extension(
            x509.SubjectKeyIdentifier.oid,
            False,
            x509.SubjectKeyIdentifier.from_public_key(public_key),
        ),
        x509.Extension(x509.AuthorityKeyIdentifier.oid, False, loaded.aki),
        x509.Extension(x509.CRLDistributionPoints.oid, False, loaded.cdp),
        x509.Extension(x509.AuthorityInformationAccess.oid, False, loaded.aia),
    ]:
        builder = builder.add_extension(ext.value, ext.critical)
    expected = builder.sign(RSA_KEY, hashes.SHA256())
    assert cert.subject.public_bytes() == subject.der
    assert issued.der == expected.public_bytes(serialization.Encoding.DER)
    assert issued.cn == "Ali Rezaei [Sign]"
