"""Paystar API keys: issuing them (refresh-api-key) and checking a presented one.

Keys are stateless, signed, bound to one application and its current secrets.

An API key is ``<payload>.<signature>`` (both base64url without padding). The payload names the
application, a *generation* (a digest of the application's stored secret hashes, so rotating the
access password / refresh token through the control plane invalidates every outstanding key),
the expiry (Unix seconds, 24 h after issue) and a random nonce; the signature is HMAC-SHA256
with a key derived from ``settings.token_secret``. Checking a key needs no table: a key that does
not verify, names another application or an older generation is *wrong* (status 4); a key that
verifies but whose expiry has passed is *expired* (status 5).

Refreshing does not revoke earlier keys (the document does not say it does): each key lives out
its 24 hours, so several workers of one integrator may refresh independently.

refresh-api-key checks, in this order (the first that fails decides the status):
10 malformed body or a missing field -> 2 unknown ``application_id`` -> 3 application or
customer disabled -> 6 wrong ``access_password`` -> 7 caller's IP not allowed ->
13 wrong ``refresh_token`` -> 1 (a new key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from pishkhan.core.clock import TEHRAN
from pishkhan.core.ids import verify_secret
from pishkhan.runtime import Runtime

from . import applications, sandbox
from .applications import Application
from .errors import PaystarFailure, Status
from .wire import ApiKeyData, Fields, Outcome

LIFETIME: Final = timedelta(hours=24)
EXPIRE_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
_VERSION: Final = "p1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generation(app: Application) -> str:
    """A short digest of the application's current secrets."""
    secrets_ = f"{app.access_password_hash}|{app.refresh_token_hash}"
    return hashlib.sha256(secrets_.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IssuedKey:
    api_key: str
    expires_at: datetime  # aware, UTC, whole seconds

    @property
    def expire_date(self) -> str:
        """``YYYY-MM-DD HH:MM:SS`` in Tehran time (the wire form of ``api_key_expire_date``)."""
        return format_expire_date(self.expires_at)


def format_expire_date(instant: datetime) -> str:
    return instant.astimezone(TEHRAN).strftime(EXPIRE_FORMAT)


class KeyCheck:
    """The outcome of checking a presented key."""

    VALID: Final = "valid"
    WRONG: Final = "wrong"
    EXPIRED: Final = "expired"


class ApiKeySigner:
    def __init__(self, token_secret: str) -> None:
        if not token_secret:
            raise ValueError("token_secret must be set to sign Paystar API keys")
        self._key = hmac.new(
            token_secret.encode("utf-8"), b"pishkhan.paystar.api_key", hashlib.sha256
        ).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def issue(self, application_id: str, generation: str, now: datetime) -> IssuedKey:
        expires = now.astimezone(UTC).replace(microsecond=0) + LIFETIME
        payload = "|".join(
            (
                _VERSION,
                application_id,
                generation,
                str(int(expires.timestamp())),
                secrets.token_hex(8),
            )
        ).encode("utf-8")
        return IssuedKey(f"{_b64(payload)}.{_b64(self._sign(payload))}", expires)

    def check(self, api_key: str, application_id: str, generation: str, now: datetime) -> str:
        """:data:`KeyCheck.VALID`, ``WRONG`` or ``EXPIRED`` for this application."""
        body, dot, sig = api_key.partition(".")
        if not dot or not body or not sig or len(api_key) > 512:
            return KeyCheck.WRONG
        try:
            payload = _unb64(body)
            signature = _unb64(sig)
        except (binascii.Error, ValueError):
            return KeyCheck.WRONG
        if not hmac.compare_digest(signature, self._sign(payload)):
            return KeyCheck.WRONG
        parts = payload.decode("utf-8", "replace").split("|")
        if len(parts) != 5 or parts[0] != _VERSION:
            return KeyCheck.WRONG
        _, app, gen, exp, _nonce = parts
        if app != application_id or not hmac.compare_digest(gen, generation):
            return KeyCheck.WRONG
        try:
            expires = int(exp)
        except ValueError:
            return KeyCheck.WRONG
        if now.timestamp() >= expires:
            return KeyCheck.EXPIRED
        return KeyCheck.VALID


def refresh(
    runtime: Runtime, signer: ApiKeySigner, fields: Fields | None, client_ip: str
) -> Outcome:
    """refresh-api-key: a new key for the application, valid 24 hours."""
    sandbox.suffered(runtime.state, sandbox.REFRESH)
    try:
        application_id, access_password, refresh_token = applications.required(
            fields, "application_id", "access_password", "refresh_token"
        )
        with runtime.db.read() as conn:
            app = applications.load(conn, application_id)
        applications.require_active(app)
        applications.admit(app, access_password, client_ip)
        if not verify_secret(refresh_token, app.refresh_token_hash):
            raise PaystarFailure(Status.WRONG_REFRESH_TOKEN)
    except PaystarFailure as failure:
        return Outcome(failure.status)
    issued = signer.issue(app.application_id, generation(app), runtime.clock.now_utc())
    return Outcome(
        Status.SUCCESS, ApiKeyData(api_key=issued.api_key, api_key_expire_date=issued.expire_date)
    )


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    # A bare key (no scheme) is accepted too.
    return authorization.strip() if not rest else None


def require_key(
    signer: ApiKeySigner, authorization: str | None, app: Application, now: datetime
) -> None:
    """Status 4 for a missing, forged or foreign ``Authorization: Bearer`` key, 5 for an
    expired one."""
    api_key = _bearer(authorization)
    if api_key is None:
        raise PaystarFailure(Status.WRONG_TOKEN)
    checked = signer.check(api_key, app.application_id, generation(app), now)
    if checked == KeyCheck.WRONG:
        raise PaystarFailure(Status.WRONG_TOKEN)
    if checked == KeyCheck.EXPIRED:
        raise PaystarFailure(Status.EXPIRED_TOKEN)
