"""RSA keys for Pendar customers: load a PEM public key, or generate a pair and export it."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pishkhan.core.errors import InvalidInput


def _b64_int(value: int) -> str:
    length = max(1, (value.bit_length() + 7) // 8)
    return base64.b64encode(value.to_bytes(length, "big")).decode("ascii")


def private_key_to_dotnet_xml(key: rsa.RSAPrivateKey) -> str:
    """The key as .NET's ``RSA.ToXmlString(true)`` writes it."""
    priv = key.private_numbers()
    pub = priv.public_numbers
    size = (pub.n.bit_length() + 7) // 8
    half = (size + 1) // 2

    def fixed(value: int, length: int) -> str:
        return base64.b64encode(value.to_bytes(length, "big")).decode("ascii")

    return (
        "<RSAKeyValue>"
        f"<Modulus>{fixed(pub.n, size)}</Modulus>"
        f"<Exponent>{_b64_int(pub.e)}</Exponent>"
        f"<P>{fixed(priv.p, half)}</P>"
        f"<Q>{fixed(priv.q, half)}</Q>"
        f"<DP>{fixed(priv.dmp1, half)}</DP>"
        f"<DQ>{fixed(priv.dmq1, half)}</DQ>"
        f"<InverseQ>{fixed(priv.iqmp, half)}</InverseQ>"
        f"<D>{fixed(priv.d, size)}</D>"
        "</RSAKeyValue>"
    )


def generate_key_pair(bits: int = 2048) -> tuple[str, str, str]:
    """Returns (public PEM, private PEM (PKCS#8), private .NET XML)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return public_pem, private_pem, private_key_to_dotnet_xml(key)


def normalize_public_pem(pem: str) -> str:
    """Validate an uploaded RSA public key (SubjectPublicKeyInfo or PKCS#1 PEM)."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidInput(
            "public key is not a PEM-encoded public key", {"public_key_pem": str(exc)}
        ) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidInput("public key must be RSA", {"public_key_pem": type(key).__name__})
    if key.key_size < 1024:
        raise InvalidInput("RSA public key must be at least 1024 bits")
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
