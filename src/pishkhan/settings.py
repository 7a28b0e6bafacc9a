"""One settings object, read from environment variables prefixed ``PISHKHAN_``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

SURFACES: tuple[str, ...] = ("jibit", "paystar", "pendar", "payman")
_SECRET_FIELDS = frozenset({"admin_token", "token_secret", "database_url"})


class SettingsError(ValueError):
    """A setting has a value pishkhan cannot use."""


def _mask_url(url: str) -> str:
    # postgresql+psycopg://user:password@host/db -> postgresql+psycopg://user:***@host/db
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user, colon, _ = creds.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


_SIZE_UNITS: dict[str, int] = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(name: str, text: str) -> int:
    """Bytes from ``"1048576"``, ``"64K"``, ``"1M"`` or ``"1MiB"`` (binary units)."""
    raw = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = raw[-1:] if raw[-1:] in _SIZE_UNITS else ""
    number = raw[: len(raw) - len(unit)].strip()
    if not number.isdigit():
        raise SettingsError(
            f"PISHKHAN_{name} must be a size in bytes (e.g. 1048576, 64K, 1M): {text!r}"
        )
    return int(number) * _SIZE_UNITS[unit]


def parse_seconds(name: str, text: str, *, zero: bool = False) -> float:
    """Seconds, more than 0 (or 0 too where ``zero``) and at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"PISHKHAN_{name} must be a number of seconds: {text!r}") from None
    least = value >= 0 if zero else value > 0  # NaN fails both
    if not least or not value <= 86_400:
        bound = "at least 0" if zero else "more than 0"
        raise SettingsError(f"PISHKHAN_{name} must be {bound} and at most 86400 seconds")
    return value


def mask_secret(value: str) -> str:
    if len(value) <= 4:
        return "***"
    return value[:2] + "***" + value[-2:]


@dataclass(frozen=True)
class Settings:
    """Effective configuration. Build it with :meth:`from_env`; tests use :func:`replace`."""

    data_dir: Path = Path("./var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    admin_token: str = ""
    token_secret: str = ""
    surfaces: tuple[str, ...] = SURFACES
    log_level: str = "INFO"
    access_log: bool = True
    seed_world: bool = True
    world_people: int = 3000
    public_base_url: str = ""
    #: the largest request body a surface or the control plane reads (413 beyond it)
    max_body: int = 1024 * 1024
    #: the largest body of ``POST /_pishkhan/v1/world/import`` (JSON Lines of a whole world)
    max_import_body: int = 64 * 1024 * 1024
    #: the largest request head (request line and headers) uvicorn takes
    max_header: int = 64 * 1024
    #: seconds a client has to send a request's head (from connecting, or from its first byte)
    header_timeout: float = 10.0
    #: seconds a client has to send a request's body once its head is in (408 after)
    body_timeout: float = 60.0
    #: seconds between two reads of the credential epoch by one process (0: before every
    #: request, so a rotation or a disable is seen at once everywhere; ``tenants.cache``)
    credential_refresh: float = 0.0
    #: seconds a process serves the shared sandbox state (faults, latency, clock) from memory
    state_refresh: float = 1.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(f"PISHKHAN_{name}", default).strip()

        data_dir = Path(get("DATA_DIR", "./var")).expanduser()
        try:
            port = int(get("PORT", "8000"))
            workers = int(get("WORKERS", "1"))
            world_people = int(get("WORLD_PEOPLE", "3000"))
        except ValueError as exc:
            raise SettingsError(
                f"PISHKHAN_PORT/WORKERS/WORLD_PEOPLE must be integers: {exc}"
            ) from exc
        # Limits of what a client may send (docs/operations.md, "Limits and timeouts").
        max_body = parse_size("MAX_BODY", get("MAX_BODY") or str(cls.max_body))
        max_import_body = parse_size(
            "MAX_IMPORT_BODY", get("MAX_IMPORT_BODY") or str(cls.max_import_body)
        )
        max_header = parse_size("MAX_HEADER", get("MAX_HEADER") or str(cls.max_header))
        header_timeout = parse_seconds(
            "HEADER_TIMEOUT", get("HEADER_TIMEOUT") or str(cls.header_timeout)
        )
        body_timeout = parse_seconds("BODY_TIMEOUT", get("BODY_TIMEOUT") or str(cls.body_timeout))
        credential_refresh = parse_seconds(
            "CREDENTIAL_REFRESH",
            get("CREDENTIAL_REFRESH") or str(cls.credential_refresh),
            zero=True,
        )
        state_refresh = parse_seconds(
            "STATE_REFRESH", get("STATE_REFRESH") or str(cls.state_refresh), zero=True
        )
        raw_surfaces = get("SURFACES", ",".join(SURFACES))
        surfaces = tuple(s.strip().lower() for s in raw_surfaces.split(",") if s.strip())
        unknown = sorted(set(surfaces) - set(SURFACES))
        if unknown:
            raise SettingsError(
                f"PISHKHAN_SURFACES names unknown surfaces {unknown}; known: {list(SURFACES)}"
            )
        settings = cls(
            data_dir=data_dir,
            database_url=get("DATABASE_URL"),
            host=get("HOST", "127.0.0.1"),
            port=port,
            workers=workers,
            admin_token=get("ADMIN_TOKEN"),
            token_secret=get("TOKEN_SECRET"),
            surfaces=surfaces,
            log_level=get("LOG_LEVEL", "INFO").upper(),
            access_log=get("ACCESS_LOG", "1") not in ("0", "false", "no"),
            seed_world=get("SEED_WORLD", "1") not in ("0", "false", "no"),
            world_people=world_people,
            public_base_url=get("PUBLIC_BASE_URL").rstrip("/"),
            max_body=max_body,
            max_import_body=max_import_body,
            max_header=max_header,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            credential_refresh=credential_refresh,
            state_refresh=state_refresh,
        )
        return settings.validated()

    def validated(self) -> Settings:
        if not 0 < self.port < 65536:
            raise SettingsError(f"port {self.port} is out of range")
        if self.workers < 1:
            raise SettingsError("workers must be at least 1")
        if self.max_body < 1 or self.max_import_body < 1:
            raise SettingsError("PISHKHAN_MAX_BODY and PISHKHAN_MAX_IMPORT_BODY must be at least 1")
        if self.max_header < 8192:
            raise SettingsError("PISHKHAN_MAX_HEADER must be at least 8192 bytes (8K)")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pishkhan.sqlite3').resolve()}"

    @property
    def effective_base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"

    def describe(self) -> dict[str, Any]:
        """The effective settings with secrets masked (for ``pishkhan config``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name == "database_url":
                value = _mask_url(self.effective_database_url)
            elif f.name in _SECRET_FIELDS:
                value = (
                    mask_secret(value)
                    if value
                    else "(not set: generated into data_dir/secrets.json on a new database)"
                )
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out
