"""Admin-token protection for everything under ``/_pishkhan/v1``."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from pishkhan.control.http import ApiError


class AdminAuth:
    """Requires ``Authorization: Bearer <admin token>`` (or ``X-Admin-Token``)."""

    def __init__(self, app: ASGIApp, admin_token: str) -> None:
        self.app = app
        self.expected = admin_token.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._allowed(scope):
            response = ApiError(401, "unauthorized", "a valid admin token is required").response()
            response.headers["WWW-Authenticate"] = 'Bearer realm="pishkhan-admin"'
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        presented = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                presented = value[7:].strip()
            elif name == b"x-admin-token":
                presented = value.strip()
        return bool(self.expected) and hmac.compare_digest(presented, self.expected)
