"""Identifiers and secrets: random tokens, their hashes, request ids."""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import string

_ALNUM = string.ascii_letters + string.digits


def new_secret(nbytes: int = 32) -> str:
    """A high-entropy secret for API keys, passwords and client secrets."""
    return secrets.token_urlsafe(nbytes)


def new_code(length: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_digits(length: int) -> str:
    first = secrets.choice("123456789")
    return first + "".join(secrets.choice(string.digits) for _ in range(length - 1))


def hash_secret(secret: str) -> str:
    """Hash a generated secret for storage.

    Secrets issued by pishkhan are at least 128 bits of randomness, so a fast, unsalted-per-row
    SHA-256 is enough to make a leaked table useless while keeping token issuance cheap (a slow
    password hash would cap Jibit token generation far below its target). The prefix names the
    scheme so it can change later.
    """
    return "sha256$" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def verify_secret(secret: str, stored: str) -> bool:
    scheme, _, digest = stored.partition("$")
    if scheme != "sha256":
        return False
    candidate = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    return hmac.compare_digest(candidate, digest)


# scrypt cost of a secret verifier: ~0.1 s and 16 MiB per secret on a 2-core machine (checked once
# per process start), which makes guessing a weak configured secret from a stolen verifier slow.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
    )


def secret_verifier(secret: str) -> str:
    """A verifier of a configured secret (the token secret, the admin token) to keep in the
    database: salted scrypt, so whoever reads it can only check guesses, slowly, and can neither
    recover the secret nor sign with it."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(secret, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_secret_verifier(secret: str, verifier: str) -> bool:
    """Whether ``secret`` is the one :func:`secret_verifier` made ``verifier`` of."""
    try:
        scheme, n, r, p, salt, digest = verifier.split("$")
        if scheme != "scrypt":
            return False
        candidate = _scrypt(secret, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def new_request_id() -> str:
    """32 random hex digits, like ``uuid4().hex`` but without a system call: every request that
    brings no ``X-Request-ID`` gets one, and it is an id, not a secret."""
    return f"{random.getrandbits(128):032x}"
