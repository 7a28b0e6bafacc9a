"""Errors shared by the core and the control plane (providers have their own catalogues)."""

from __future__ import annotations

from typing import Any


class PishkhanError(Exception):
    """Base of errors raised by services; the HTTP layer maps them to responses."""


class NotFound(PishkhanError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key


class Conflict(PishkhanError):
    pass


class InvalidInput(PishkhanError):
    """Input that cannot be used; ``errors`` maps field names to messages."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}
