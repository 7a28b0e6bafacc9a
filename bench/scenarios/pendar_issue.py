"""Pendar IssueCertificateByTrackingCode end to end (SQLite, one worker, RSA-2048 CA keys),
against ``cryptography`` alone building and signing the same certificate from the same kind of
CSR on the same CPU, measured in the same run (issue 6: >= 60 %).

Every issuance consumes its tracking code (a second one for the same subject answers 1001), so
``build`` registers one distinct applicant per request beforehand and signs every request body
with the customer's key there: client signing is excluded from the server's time. Pendar
answers its errors with HTTP 200, so the status check alone cannot catch a refused issuance:
``verify`` (run by the harness after the measurement, before the server stops) reads the
customer's usage and fails the run if any issuance was refused or more certificates were issued
than requests were prepared. Every request is sent at most once (``once=True``): with ``--rounds N``
``build`` prepares N rounds' worth in one list and the harness gives round *i* the *i*-th of N
equal slices. pishkhan gets no warm-up (it would consume tracking codes) and the baseline, timed
in-process, has none either, so ``--warmup`` is accepted but changes nothing here.
"""

from __future__ import annotations

import base64
import math
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from bench.baselines import callable_baseline
from bench.scenario import (
    BaselineContext,
    Request,
    Scenario,
    ScenarioContext,
    ScenarioError,
    Target,
)
from pishkhan.iran.national_code import generate_national_code

CA = "01"
PROFILE = "گواهی آزمایشی شخص حقیقی"
METHOD = "IssueCertificateByTrackingCode"
SUBJECT_KEYS = 16  # distinct applicant RSA-2048 keys (CSRs differ by subject anyway)
DURATION = 10.0
# Requests prepared per second of measurement: more than one core can sign with RSA-2048
# (the server never issues faster than cryptography alone signs on its one CPU).
SAFETY = 1.25


# -- applicants and CSRs (shared by the scenario and the baseline) --------------------------------


def subject_keys(count: int = SUBJECT_KEYS) -> list[rsa.RSAPrivateKey]:
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(count)]


def csr_der(key: rsa.RSAPrivateKey, cn: str) -> bytes:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.DER)


def person(index: int, national_code: str) -> dict[str, Any]:
    return {
        "NationalCode": national_code,
        "Name": "علی",
        "LastName": f"رضایی {index}",
        "EnName": "Ali",
        "EnLastName": f"Rezaei {index}",
        "FatherName": "محمد",
        "IsMan": True,
        "PostalCode": "",
        "Telephone": "09120000001",
        "IsForeign": False,
        "BirthCertificateID": "1234",
        "BirthDate": "1360/03/31",
        "City": "تهران",
        "ProvinceName": "تهران",
        "TokenType": "USERGENERATED",
        "password": "",
        "AgencySN": "",
        "Email": "",
    }


def customer_sign(key: rsa.RSAPrivateKey, text: str) -> str:
    """Pendar's request signature: RSA PKCS#1 v1.5 SHA-1 over UTF-16LE text."""
    return base64.b64encode(
        key.sign(text.encode("utf-16-le"), padding.PKCS1v15(), hashes.SHA1())
    ).decode()


# -- the baseline: cryptography alone --------------------------------------------------------------


def _baseline_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pishkhan"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Pendar Koushk sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Baseline CA"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _baseline_subject(index: int, national_code: str) -> x509.Name:
    """The subject pishkhan builds from the test profile's template (same attributes)."""
    p = person(index, national_code)
    attrs = [
        (NameOID.COMMON_NAME, f"{p['EnName']} {p['EnLastName']} [Sign]"),
        (NameOID.SERIAL_NUMBER, national_code),
        (NameOID.GIVEN_NAME, p["Name"]),
        (NameOID.SURNAME, p["LastName"]),
        (NameOID.ORGANIZATION_NAME, "Individual"),
        (NameOID.LOCALITY_NAME, p["City"]),
        (NameOID.STATE_OR_PROVINCE_NAME, p["ProvinceName"]),
        (NameOID.COUNTRY_NAME, "IR"),
    ]
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in reversed(attrs)])


def baseline_setup(_ctx: BaselineContext) -> Callable[[], object]:
    """Untimed: a CA key and certificate, CSRs and subjects. Timed: load the CSR and check its
    proof of possession, build the same certificate (same subject attributes and extensions as
    the test profile), sign it with the RSA-2048 CA key and encode it."""
    ca_key, ca_cert = _baseline_ca()
    keys = subject_keys(4)
    rng = random.Random(6)
    items = [
        (
            csr_der(keys[i % len(keys)], f"applicant {i}"),
            _baseline_subject(i, generate_national_code(rng)),
        )
        for i in range(256)
    ]
    ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    base = "http://127.0.0.1:8000/pki/01"
    cdp = x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(f"{base}/crl")], None, None, None)]
    )
    aia = x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(f"{base}/ocsp")
            ),
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(f"{base}/ca.crt"),
            ),
        ]
    )
    eku = x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION]
    )
    key_usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    state = {"i": 0}

    def issue_one() -> bytes:
        i = state["i"] = (state["i"] + 1) % len(items)
        der, subject = items[i]
        csr = x509.load_der_x509_csr(der)
        if not csr.is_signature_valid:
            raise ValueError("bad CSR")
        public_key = csr.public_key()
        now = datetime.now(UTC).replace(microsecond=0)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(key_usage, True)
            .add_extension(eku, False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(aki, False)
            .add_extension(cdp, False)
            .add_extension(aia, False)
            .sign(ca_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.DER)

    return issue_one


def _signing_rate() -> float:
    """A quick estimate of this machine's RSA-2048 certificate signing rate (one CPU)."""
    issue_one = baseline_setup(None)  # type: ignore[arg-type]
    for _ in range(20):
        issue_one()
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < 0.5:
        issue_one()
        n += 1
    return n / (time.perf_counter() - start)


# -- the scenario ----------------------------------------------------------------------------------


def build(ctx: ScenarioContext) -> Sequence[Request]:
    """Register one applicant per request for every round (``per_round * rounds``; the
    harness sends round *i* the *i*-th slice) and sign the issuance requests."""
    options = ctx.options
    rounds = int(options.get("rounds") or 1)
    duration = float(options.get("duration") or DURATION)
    per_round = math.ceil(_signing_rate() * SAFETY * duration) + 64
    bound = options.get("max_requests")
    if bound:
        per_round = min(per_round, int(bound) + 1)
    count = per_round * rounds

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    created = ctx.create_customer("pendar-bench", pendar_public_key_pem=public_pem)
    customercode = str(created["secrets"]["pendar"]["customercode"])
    slug = str(created["slug"])
    ctx.admin("PUT", f"pendar/customers/{slug}/grants", {"cas": {CA: [PROFILE]}})
    # enough credit for every certificate (the test profile costs 50,000 rials)
    ctx.admin(
        "POST", f"customers/{slug}/topup", {"wallet": "pendar.credit", "amount": 50_000 * count}
    )

    rng = random.Random(606)
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < count:
        nc = generate_national_code(rng)
        if nc not in seen:
            seen.add(nc)
            codes.append(nc)

    def register(index: int) -> str:
        body = {
            "caName": CA,
            "customercode": customercode,
            "profileName": PROFILE,
            "signature": customer_sign(key, f"{customercode}-{codes[index]}"),
            "personData": person(index, codes[index]),
        }
        answer = ctx.request("POST", "/api/RegisterInfo", json=body).json()
        if answer.get("IsSuccess") is not True:
            raise ScenarioError(f"RegisterInfo refused applicant {index}: {answer}")
        return str(answer["TrackingCode"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        tracking = list(pool.map(register, range(count)))
    if len(set(tracking)) != count:
        raise ScenarioError("RegisterInfo returned a tracking code twice")

    keys = subject_keys()
    requests = []
    for index, code in enumerate(tracking):
        csr = base64.b64encode(csr_der(keys[index % len(keys)], f"applicant {index}")).decode()
        body = {
            "caName": CA,
            "profileName": PROFILE,
            "trackingCode": code,
            "csr": csr,
            "paymentId": "",
            "signature": customer_sign(key, csr),
            "customercode": customercode,
            "password": "",
        }
        requests.append(Request.json("POST", f"/api/{METHOD}", body))

    ctx.state["slug"] = slug
    ctx.state["prepared"] = count
    return requests


def verify(ctx: ScenarioContext) -> None:
    """After the last measurement (the server still runs): fail the run when the server
    refused any issuance (Pendar answers errors with HTTP 200) or issued more certificates
    than requests were prepared (over all rounds)."""
    slug = str(ctx.state["slug"])
    prepared = int(ctx.state["prepared"])
    answer = ctx.client.get(
        f"/_pishkhan/v1/customers/{slug}/usage?surface=pendar",
        headers={"Authorization": f"Bearer {ctx.admin_token}"},
    )
    answer.raise_for_status()
    usage = answer.json()["usage"]
    refused = sum(int(row["count"]) for row in usage if row["service"] == METHOD)
    issued = sum(
        int(row["count"]) for row in usage if str(row["service"]).startswith("certificate.")
    )
    if refused:
        raise ScenarioError(
            f"{refused} issuances were refused (Pendar answers errors with HTTP 200), "
            f"{issued} certificates issued: {usage}"
        )
    if issued > prepared:
        raise ScenarioError(f"{issued} certificates issued from {prepared} requests")


SCENARIO = Scenario(
    name="pendar_issue",
    description="POST /api/IssueCertificateByTrackingCode (customer signature, registration, "
    "CSR proof of possession and key policy, credit charge, RSA-2048 CA signature, "
    "certificate row and audit in one transaction) vs cryptography building and signing "
    "the same certificate from a CSR",
    build=build,
    baseline=callable_baseline(
        "cryptography: sign the same certificate from a CSR", baseline_setup
    ),
    target=Target(min_ratio=0.6),
    connections=16,
    duration=DURATION,
    warmup=0.0,
    once=True,  # each request consumes its tracking code: send it at most once (no probe)
    startup_timeout=180.0,
    verify=verify,
    env={"PISHKHAN_PENDAR_CA_KEY": "rsa-2048"},
)
