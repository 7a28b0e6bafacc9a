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


def new_request_id() -> str:
    """32 random hex digits, like ``uuid4().hex`` but without a system call: every request that
    brings no ``X-Request-ID`` gets one, and it is an id, not a secret."""
    return f"{random.getrandbits(128):032x}"
