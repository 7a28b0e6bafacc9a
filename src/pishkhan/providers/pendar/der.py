"""A small DER encoder for what the CA signs: certificates, CRLs and OCSP responses.

``cryptography``'s builders sign with a private key object in this process; a PKCS#11 token
only offers "sign these bytes". So the CA writes every to-be-signed structure here (the fixed
parts — issuer name, CA extensions, algorithm identifiers — are encoded once per CA), has the
:class:`~.signer.Signer` sign its bytes, and wraps the result with :func:`signed`:

    Certificate / CertificateList / BasicOCSPResponse ::= SEQUENCE {
        tbs, signatureAlgorithm AlgorithmIdentifier, signature BIT STRING, ... }

Names, public keys and extension values come DER-encoded from ``cryptography``
(``Name.public_bytes``, ``public_bytes(SubjectPublicKeyInfo)``, ``ExtensionType.public_bytes``),
so the output is byte-for-byte what ``CertificateBuilder`` produces for the same input (a test
checks exactly that). On the issuance hot path the subject name and the SubjectKeyIdentifier
are encoded here too (see ``ca.subject_of`` and :func:`spki_key_bits`); tests compare them with
``cryptography``'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
ENUMERATED = 0x0A
BOOLEAN = 0x01

#: AlgorithmIdentifier DER: sha256WithRSAEncryption (NULL parameters), ecdsa-with-SHA256.
SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")


_BYTE = [bytes((n,)) for n in range(0x100)]  # one-octet tags and short-form lengths


def length(n: int) -> bytes:
    if n < 0x80:
        return _BYTE[n]
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return _BYTE[tag] + _BYTE[n] + content
    return _BYTE[tag] + length(n) + content


def seq(*parts: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(parts))


def explicit(number: int, content: bytes) -> bytes:
    """``[number] EXPLICIT`` (context-specific, constructed)."""
    return tlv(0xA0 | number, content)


def integer(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True) if value else b"\x00"
    return tlv(INTEGER, raw)


def octets(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def bits(value: bytes) -> bytes:
    """A BIT STRING of whole bytes (no unused bits)."""
    return tlv(BIT_STRING, b"\x00" + value)


@lru_cache(maxsize=256)
def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2:
        raise ValueError(f"not an OID: {dotted!r}")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(OID, bytes(body))


@lru_cache(maxsize=256)
def utc_time(at: datetime) -> bytes:
    """RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050 (whole seconds).
    Cached: the issuances of one second share their notBefore and notAfter."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    year = at.year
    if 1950 <= year < 2050:
        # what strftime("%y%m%d%H%M%SZ") gives, without its per-call setup
        text = f"{year % 100:02d}{at.month:02d}{at.day:02d}{at.hour:02d}{at.minute:02d}{at.second:02d}Z"
        return b"\x17\x0d" + text.encode("ascii")
    return generalized_time(at)


def generalized_time(at: datetime) -> bytes:
    return tlv(0x18, at.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def algorithm_for(public_key: object) -> bytes:
    """The AlgorithmIdentifier a CA key signs with (SHA-256 with its RSA or EC key)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return SHA256_RSA
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return ECDSA_SHA256
    raise TypeError("CA keys are RSA or EC")


def extension(value: x509.ExtensionType, critical: bool = False) -> bytes:
    """Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }."""
    crit = tlv(BOOLEAN, b"\xff") if critical else b""
    return seq(oid(value.oid.dotted_string), crit, octets(value.public_bytes()))


def tbs_certificate(
    *,
    serial: int,
    algorithm: bytes,
    issuer: bytes,
    not_before: datetime,
    not_after: datetime,
    subject: bytes,
    spki: bytes,
    extensions: Iterable[bytes],
) -> bytes:
    """TBSCertificate (v3). ``issuer``/``subject``: Name DER; ``spki``: SubjectPublicKeyInfo
    DER; ``extensions``: encoded :func:`extension` values in order."""
    exts = b"".join(extensions)
    return seq(
        explicit(0, integer(2)),
        integer(serial),
        algorithm,
        issuer,
        seq(utc_time(not_before), utc_time(not_after)),
        subject,
        spki,
        explicit(3, seq(exts)) if exts else b"",
    )


def signed(tbs: bytes, algorithm: bytes, signature: bytes, *trailer: bytes) -> bytes:
    """``SEQUENCE { tbs, algorithm, BIT STRING signature, trailer... }``."""
    return seq(tbs, algorithm, bits(signature), *trailer)


def _header(data: bytes, at: int) -> tuple[int, int]:
    """The content offset and length of the TLV at ``at`` (definite lengths only)."""
    first = data[at + 1]
    if first < 0x80:
        return at + 2, first
    count = first & 0x7F
    start = at + 2 + count
    return start, int.from_bytes(data[at + 2 : start], "big")


def spki_key_bits(spki: bytes) -> bytes:
    """The subjectPublicKey BIT STRING's bytes (unused-bits octet dropped) of a
    SubjectPublicKeyInfo DER: what RFC 5280's key identifier method 1 hashes."""
    inner, _ = _header(spki, 0)
    algorithm_start, algorithm_length = _header(spki, inner)
    bits_at = algorithm_start + algorithm_length
    if spki[bits_at] != BIT_STRING:
        raise ValueError("not a SubjectPublicKeyInfo")
    start, size = _header(spki, bits_at)
    return spki[start + 1 : start + size]
