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
        )
        return settings.validated()

    def validated(self) -> Settings:
        if not 0 < self.port < 65536:
            raise SettingsError(f"port {self.port} is out of range")
        if self.workers < 1:
            raise SettingsError("workers must be at least 1")
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
