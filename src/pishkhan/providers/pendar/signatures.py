"""Request signatures (RSA PKCS#1 v1.5 with SHA-1) and approvers' CMS detached signatures.

:data:`RULES` is the one place that says, per method, which field carries the signature, what
text is signed and how it is encoded. Where the document writes ``Unicode(...)`` (.NET
``Encoding.Unicode``) only UTF-16LE of the text verifies. Where it drops "Unicode" (the ``csr``
of IssueCertificateByTrackingCode and the ``certificate`` of RevokeCertificate) the text is
verified over UTF-16LE, then its ASCII bytes, then the decoded DER, and the first that verifies
wins (what real clients send). The customer's public key is parsed once per process (keyed by
its PEM).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from . import errors


def b64decode(value: str) -> bytes | None:
    """Standard base64 with whitespace and newlines stripped; None when it is not base64."""
    cleaned = "".join(value.split())
    if not cleaned:
        return None
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


@functools.lru_cache(maxsize=1024)
def _public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("customer key is not RSA")
    return key


def _verify(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA1())
    except InvalidSignature:
        return False
    return True


def unicode(text: str) -> bytes:
    """The document's ``Unicode(text)``: .NET ``Encoding.Unicode``, UTF-16LE without a BOM."""
    return text.encode("utf-16-le")


def _verify_unicode(key: rsa.RSAPublicKey, sig: bytes, text: str) -> bool:
    return _verify(key, sig, unicode(text))


def _verify_blob(key: rsa.RSAPublicKey, sig: bytes, text: str) -> bool:
    # the common case (UTF-16LE, as the Unicode methods) first; the others only when it fails
    if _verify(key, sig, unicode(text)):
        return True
    if text.isascii() and _verify(key, sig, text.encode("ascii")):
        return True
    der = b64decode(text)
    return der is not None and _verify(key, sig, der)


Get = Callable[[str], str]  # a request field as text by its lower-case name ("a.b": nested)


@dataclass(frozen=True)
class Rule:
    """How one method's request is signed."""

    key: str  # the request field holding Base64(signature) (bound case-insensitively)
    formula: str  # the signed text as the document writes it
    text: Callable[[Get], str]  # the signed text of a request
    unicode: bool  # the document writes Unicode(...): UTF-16LE only (else also ASCII and DER)

    @property
    def description(self) -> str:
        """The rule as the OpenAPI document shows it."""
        if self.unicode:
            return f"Base64(RSA-SHA1(UTF-16LE({self.formula})))"
        return f"Base64(RSA-SHA1({self.formula})) over its UTF-16LE, its ASCII or its decoded DER"

    def verify(self, public_key_pem: str, get: Get) -> str | None:
        """The signed text when the request's signature verifies, else None."""
        text = self.text(get)
        sig = b64decode(get(self.key))
        if sig is None:
            return None
        check = _verify_unicode if self.unicode else _verify_blob
        return text if check(_public_key(public_key_pem), sig, text) else None


RULES: Final[dict[str, Rule]] = {
    "RegisterInfo": Rule(
        "signature",
        'customercode + "-" + NationalCode',
        lambda f: f"{f('customercode')}-{f('persondata.nationalcode')}",
        unicode=True,  # "UnicodeByte" in the document
    ),
    "GetTrackingCodeInfo": Rule(
        "sign",
        "nationalCode + trackingCode",
        lambda f: f("nationalcode") + f("trackingcode"),
        unicode=True,
    ),
    "IssueCertificateByTrackingCode": Rule("signature", "csr", lambda f: f("csr"), unicode=False),
    "RevokeCertificate": Rule(
        "signature", "certificate", lambda f: f("certificate"), unicode=False
    ),
    "RequestApprove": Rule(
        "sign",
        "nationalCode + trackingCode + approver",
        lambda f: f("nationalcode") + f("trackingcode") + f("approver"),
        unicode=True,
    ),
    "RecievedCertConfirmation": Rule(
        "signature", "certificate", lambda f: f("certificate"), unicode=True
    ),
    "GetUserCertHistory": Rule(
        "signature",
        "SerialNumber + rnd",
        lambda f: f("serialnumber") + f("rnd"),
        unicode=True,
    ),
}


# -- CMS detached signatures (RequestApprove approverSign) --------------------------------------

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


@dataclass(frozen=True)
class CmsSignature:
    signer: x509.Certificate | None
    issuer_serial: tuple[bytes, int] | None  # (issuer DER, serial) from the SignerIdentifier
    key_id: bytes | None
    verify: object  # callable(cert) -> bool


def parse_cms(approver_sign: str, content: bytes) -> CmsSignature:
    """Parse a base64 CMS SignedData; raises PendarError(1106) when it is not one."""
    raw = b64decode(approver_sign)
    if raw is None:
        raise errors.PendarError(errors.APPROVER_SIGNATURE_INVALID)
    try:
        info = cms.ContentInfo.load(raw)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed = info["content"]
        signer_info = signed["signer_infos"][0]
        sid = signer_info["sid"]
        embedded = [
            c.chosen.dump() for c in (signed["certificates"] or []) if c.name == "certificate"
        ]
        issuer_serial: tuple[bytes, int] | None = None
        key_id: bytes | None = None
        if sid.name == "issuer_and_serial_number":
            issuer_serial = (sid.chosen["issuer"].dump(), int(sid.chosen["serial_number"].native))
        else:
            key_id = bytes(sid.chosen.native)
        digest_name = signer_info["digest_algorithm"]["algorithm"].native
        signed_attrs = signer_info["signed_attrs"]
        signature = bytes(signer_info["signature"].native)
        sig_algo = signer_info["signature_algorithm"].signature_algo
    except errors.PendarError:
        raise
    except Exception as exc:  # asn1crypto raises a variety of errors on malformed input
        raise errors.PendarError(errors.APPROVER_SIGNATURE_INVALID) from exc

    hash_obj = _HASHES.get(digest_name)
    if hash_obj is None:
        raise errors.PendarError(errors.APPROVER_SIGNATURE_INVALID)
    if signed_attrs and len(signed_attrs):
        digest = None
        for attr in signed_attrs:
            if attr["type"].native == "message_digest":
                digest = bytes(attr["values"][0].native)
        if digest is None or digest != hashlib.new(digest_name, content).digest():
            to_verify = None
        else:
            to_verify = b"\x31" + signed_attrs.dump()[1:]
    else:
        to_verify = content

    def verify(cert: x509.Certificate) -> bool:
        if to_verify is None:
            return False
        key = cert.public_key()
        try:
            if isinstance(key, rsa.RSAPublicKey) and sig_algo == "rsassa_pkcs1v15":
                key.verify(signature, to_verify, padding.PKCS1v15(), hash_obj)
            elif isinstance(key, ec.EllipticCurvePublicKey) and sig_algo == "ecdsa":
                key.verify(signature, to_verify, ec.ECDSA(hash_obj))
            else:
                return False
        except InvalidSignature:
            return False
        return True

    signer_cert: x509.Certificate | None = None
    for der in embedded:
        cert = x509.load_der_x509_certificate(der)
        if matches(cert, issuer_serial, key_id):
            signer_cert = cert
            break
    return CmsSignature(signer_cert, issuer_serial, key_id, verify)


def matches(
    cert: x509.Certificate, issuer_serial: tuple[bytes, int] | None, key_id: bytes | None
) -> bool:
    if issuer_serial is not None:
        return (
            cert.issuer.public_bytes() == issuer_serial[0]
            and cert.serial_number == issuer_serial[1]
        )
    if key_id is not None:
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        except x509.ExtensionNotFound:
            return False
        return ski.digest == key_id
    return False
