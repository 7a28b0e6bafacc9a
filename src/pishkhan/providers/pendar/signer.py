"""CA signing keys behind a signer interface.

:class:`Signer` is all the CA code needs from a key: ``key_ref``, its public key and
``sign(data)`` (SHA-256 with RSA PKCS#1 v1.5 or ECDSA, DER-encoded ECDSA signatures: what a
PKCS#11 ``C_Sign`` with ``CKM_SHA256_RSA_PKCS`` or ``CKM_ECDSA_SHA256`` gives, after encoding the
raw ECDSA r||s). Certificates, CRLs and OCSP responses are encoded by :mod:`.der` and signed
through ``sign`` alone, so an HSM-backed signer replaces :class:`SoftwareSigner` without
touching the CA code; nothing outside this module sees a private key.

The software signer keeps its PKCS#8 key in the database encrypted with AES-256-GCM under a key
derived (HKDF-SHA256) from the server's ``token_secret``: every worker that shares the secret
can load the key, and a copy of the database alone reveals nothing.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CAKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KEY_ALGORITHMS = ("rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384")
_KEK_INFO = b"pishkhan pendar ca key encryption v1"
_AAD = b"pishkhan-pendar-ca-key"


class Signer(Protocol):
    """A CA signing key: ``sign(data)`` returns the signature over ``data`` with SHA-256."""

    key_ref: str

    def public_key(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


def generate_key(algorithm: str) -> CAKey:
    if algorithm.startswith("rsa-"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[4:]))
    if algorithm == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(f"unknown CA key algorithm {algorithm!r}; known: {KEY_ALGORITHMS}")


class KeyEncryptor:
    """AES-256-GCM with a key derived from the server secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the Pendar CA needs a token_secret to protect its keys")
        kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEK_INFO).derive(
            secret.encode("utf-8")
        )
        self._aead = AESGCM(kek)

    def seal(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return b"v1" + nonce + self._aead.encrypt(nonce, plaintext, _AAD)

    def open(self, blob: bytes) -> bytes:
        if blob[:2] != b"v1":
            raise ValueError("unknown key blob version")
        return self._aead.decrypt(blob[2:14], blob[14:], _AAD)


class SoftwareSigner:
    """A key held in this process (loaded from its encrypted blob)."""

    def __init__(self, key: CAKey, key_ref: str) -> None:
        self._key = key
        self.key_ref = key_ref

    def public_key(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
        return self._key.public_key()

    def sign(self, data: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))

    def seal(self, encryptor: KeyEncryptor) -> bytes:
        der = self._key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return encryptor.seal(der)

    @classmethod
    def unseal(cls, blob: bytes, encryptor: KeyEncryptor, key_ref: str) -> SoftwareSigner:
        key = serialization.load_der_private_key(encryptor.open(blob), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("CA key must be RSA or EC")
        return cls(key, key_ref)


class SignerCache:
    """Signers are unsealed once per process (key_ref -> signer)."""

    def __init__(self) -> None:
        self._signers: dict[str, Signer] = {}
        self._lock = threading.Lock()

    def get(self, key_ref: str) -> Signer | None:
        return self._signers.get(key_ref)

    def put(self, signer: Signer) -> None:
        with self._lock:
            self._signers[signer.key_ref] = signer
