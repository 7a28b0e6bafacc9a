"""Jibit access and refresh tokens: HS256 JWTs checked in memory, without a database round trip,
and the rules of the token endpoints and of every authenticated call.

An access token is valid 24 hours, a refresh token 48 hours (the document). Both carry the
customer id (``sub``), the pair id (``pid``, shared by the two tokens of one pair, which is what
``/v1/tokens/refresh`` checks), the credential version (``cv``: a digest of the customer's
stored Jibit secret, so rotating it revokes every token issued before) and ``iat``/``exp``
in seconds of the sandbox clock (so advancing the clock expires tokens). Clients that decode the
token as a JWT and read ``exp`` work unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import orjson

from pishkhan.core.caches import remember
from pishkhan.core.ids import verify_secret
from pishkhan.providers.jibit.errors import JibitError
from pishkhan.providers.jibit.tenancy import CustomerInfo

ACCESS_TTL: Final = 24 * 3600
REFRESH_TTL: Final = 48 * 3600
_HEADER: Final = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


@dataclass(frozen=True, slots=True)
class Claims:
    customer_id: int
    kind: str  # "access" or "refresh"
    pair_id: str
    credential_version: int
    issued_at: int
    expires_at: int


class TokenSigner:
    """Issues and verifies tokens with a key derived from the settings' token secret."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"pishkhan/jibit/tokens", hashlib.sha256).digest()

    def _sign(self, signing_input: bytes) -> bytes:
        return _b64(hmac.new(self._key, signing_input, hashlib.sha256).digest())

    def encode(self, claims: Claims) -> str:
        payload = orjson.dumps(
            {
                "sub": str(claims.customer_id),
                "typ": claims.kind,
                "pid": claims.pair_id,
                "cv": claims.credential_version,
                "iat": claims.issued_at,
                "exp": claims.expires_at,
            }
        )
        signing_input = _HEADER + b"." + _b64(payload)
        return (signing_input + b"." + self._sign(signing_input)).decode()

    def issue_pair(self, customer_id: int, credential_version: int, now: float) -> tuple[str, str]:
        iat = int(now)
        pid = secrets.token_urlsafe(12)
        access = Claims(customer_id, "access", pid, credential_version, iat, iat + ACCESS_TTL)
        refresh = Claims(customer_id, "refresh", pid, credential_version, iat, iat + REFRESH_TTL)
        return self.encode(access), self.encode(refresh)

    def decode(self, token: str) -> Claims | None:
        """The claims of a well-signed token (expired or not), or None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        head, body, sig = parts
        try:
            expected = self._sign(f"{head}.{body}".encode("ascii"))
        except UnicodeEncodeError:
            return None
        if not hmac.compare_digest(expected, sig.encode("ascii", "replace")):
            return None
        try:
            data = orjson.loads(_unb64(body))
            return Claims(
                customer_id=int(data["sub"]),
                kind=str(data["typ"]),
                pair_id=str(data["pid"]),
                credential_version=int(data["cv"]),
                issued_at=int(data["iat"]),
                expires_at=int(data["exp"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
            return None


class AccessTokenCache:
    """Verified access tokens, so a token's HMAC is computed once per process (bounded)."""

    def __init__(self, signer: TokenSigner, max_size: int = 4096) -> None:
        self._signer = signer
        self._cache: dict[str, Claims] = {}
        self._max = max_size

    def claims(self, token: str) -> Claims | None:
        hit = self._cache.get(token)
        if hit is not None:
            return hit
        claims = self._signer.decode(token)
        if claims is None or claims.kind != "access":
            return None
        return remember(self._cache, token, claims, self._max)


# -- the rules of the token endpoints and of every authenticated call -------------------------

#: The services whose tables document ``token.is_required`` (the others answer ``forbidden``).
TOKEN_REQUIRED_SERVICES: Final = frozenset({"CORPORATION_IDENTITY", "MILITARY_SERVICE", "SANA"})

Lookup = Callable[[int], CustomerInfo | None]


def authenticate(
    authorization: str | None,
    host: str | None,
    svc: str | None,
    tokens: AccessTokenCache,
    customers: Lookup,
    now: float,
) -> CustomerInfo:
    """The customer of ``Authorization: Bearer <accessToken>``: a well-signed access token, not
    expired on the sandbox clock, of an active customer whose credential version it carries,
    from an allowed address (``forbidden``; ``token.is_required`` without a token on the
    services that document it)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if not token or scheme.lower() != "bearer":
        if svc in TOKEN_REQUIRED_SERVICES:
            raise JibitError("token.is_required")
        raise JibitError("forbidden")
    claims = tokens.claims(token)
    if claims is None or claims.expires_at <= now:
        raise JibitError("forbidden")
    customer = customers(claims.customer_id)
    if (
        customer is None
        or not customer.active
        or customer.credential_version != claims.credential_version
        or not customer.allows(host)
    ):
        raise JibitError("forbidden")
    return customer


def check_credentials(customer: CustomerInfo | None, secret: str, host: str | None) -> CustomerInfo:
    """The customer of ``/v1/tokens/generate``'s API key, if the secret is its and the address
    allowed (``invalid.credentials``)."""
    if (
        customer is None
        or not customer.active
        or not verify_secret(secret, customer.secret_hash)
        or not customer.allows(host)
    ):
        raise JibitError("invalid.credentials")
    return customer


def refresh_claims(signer: TokenSigner, access_raw: str, refresh_raw: str, now: float) -> Claims:
    """The refresh token's claims, if it is a live refresh token and the access token (expired
    or not) is of the same pair."""
    claims = signer.decode(refresh_raw)
    if claims is None or claims.kind != "refresh" or claims.expires_at <= now:
        raise JibitError("refreshToken.not_valid")
    access = signer.decode(access_raw)
    if (
        access is None
        or access.kind != "access"
        or access.pair_id != claims.pair_id
        or access.customer_id != claims.customer_id
    ):
        raise JibitError("invalid.tokens_pair")
    return claims


def check_refresh(customer: CustomerInfo | None, claims: Claims, host: str | None) -> CustomerInfo:
    """The customer a refresh is for: active, from an allowed address (``client.not_found``),
    with the credential version of the pair (``refreshToken.not_valid`` after a rotation)."""
    if customer is None or not customer.active or not customer.allows(host):
        raise JibitError("client.not_found")
    if customer.credential_version != claims.credential_version:
        raise JibitError("refreshToken.not_valid")
    return customer
