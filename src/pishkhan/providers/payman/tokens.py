"""OAuth access tokens (client credentials): HMAC-signed, verified without a database trip.

A token is ``<payload>.<signature>`` in base64url: the payload names the customer, the
client id, the client's credential generation (its ``rotated_at``, so rotating the secret
revokes old tokens) and the expiry; the signature is HMAC-SHA256 under a key derived from
``settings.token_secret``. The lifetime is the document's sample ``expires_in`` (24428731 s).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import orjson

from pishkhan.core.caches import remember

TOKEN_LIFETIME_SECONDS = 24_428_731
TOKEN_TYPE = "bearer"
SCOPE = "all"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    customer_id: int
    client_id: str
    generation: int
    expires_at: int


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode("utf-8"), b"payman-oauth-token", hashlib.sha256).digest()
        # Tokens whose signature checked out, with their claims: a merchant sends the same token
        # on every call, and the HMAC cost as much as the rest of authentication.
        self._verified: dict[str, TokenClaims] = {}

    def issue(self, customer_id: int, client_id: str, generation: int, now: float) -> str:
        payload = _b64(
            orjson.dumps(
                {
                    "c": customer_id,
                    "k": client_id,
                    "g": generation,
                    "e": int(now) + TOKEN_LIFETIME_SECONDS,
                }
            )
        )
        sig = _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()[:24])
        return f"{payload}.{sig}"

    def verify(self, token: str, now: float) -> TokenClaims | None:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if claims is None:
                return None
            remember(self._verified, token, claims, 4096)
        if claims.expires_at <= now:
            return None
        return claims

    def _verify(self, token: str) -> TokenClaims | None:
        """The claims of a well-signed token (expired or not)."""
        payload, dot, sig = token.strip().partition(".")
        if not dot or not payload or not sig:
            return None
        expected = _b64(
            hmac.new(self._key, payload.encode("ascii", "replace"), hashlib.sha256).digest()[:24]
        )
        if not hmac.compare_digest(expected, sig):
            return None
        try:
            data = orjson.loads(_unb64(payload))
            claims = TokenClaims(int(data["c"]), str(data["k"]), int(data["g"]), int(data["e"]))
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            return None
        return claims
