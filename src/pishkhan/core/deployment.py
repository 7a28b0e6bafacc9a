"""The deployment's secrets: every process on every host shares them, or refuses to start.

A deployment is one database and every pishkhan process that serves it, on any host. Its
secrets are the token secret (``PISHKHAN_TOKEN_SECRET``: it signs the surfaces' access tokens
and API keys, and the key that seals the Pendar CA keys is derived from it) and the admin token
(``PISHKHAN_ADMIN_TOKEN``). A process takes each from its environment, or else from its data
directory's ``secrets.json``.

The first process to start on a database records a verifier of each secret in
``deployment_secrets`` (salted scrypt, see :func:`pishkhan.core.ids.secret_verifier`: a
database reader can neither recover a secret nor sign with it), generating into
``secrets.json`` the ones it was not given. Every later start, of ``pishkhan serve``, of each
worker, of each command that uses the secrets, checks its secrets against those verifiers and
refuses, with one line naming the settings to share, when one differs or is missing: a process
never serves a database with other secrets (tokens from the other hosts refused, CA keys it
cannot unseal), and a new host never generates secrets for a database that already has them.

The secrets themselves are not kept in the database: whoever could read it could then sign
tokens and unseal the CA keys.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from pishkhan.core.files import private_dir, write_private
from pishkhan.core.ids import check_secret_verifier, new_secret, secret_verifier
from pishkhan.core.logging import log_event
from pishkhan.core.tables import deployment_secrets
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings, SettingsError

log = logging.getLogger("pishkhan.deployment")

SECRETS_FILE = "secrets.json"


@dataclass(frozen=True)
class Secret:
    name: str  # the Settings field, the key in secrets.json and in deployment_secrets
    setting: str  # the environment variable
    label: str  # in messages


SECRETS: tuple[Secret, ...] = (
    Secret("token_secret", "PISHKHAN_TOKEN_SECRET", "token secret"),
    Secret("admin_token", "PISHKHAN_ADMIN_TOKEN", "admin token"),
)

#: ``module:function`` of the modules that keep data sealed under the token secret: each
#: function ``(conn, token_secret) -> bool | None`` says whether the secret opens that data
#: (None: there is none). Asked before the token secret is recorded on a database that holds no
#: verifier of it yet (one made by an older version), so that the first host to start after the
#: upgrade cannot record a token secret the sealed data was not made with.
SEALED_WITH_TOKEN_SECRET: tuple[str, ...] = ("pishkhan.providers.pendar.ca:opens_sealed_keys",)


class SecretsMismatch(SettingsError):
    """This process's secrets are not the deployment's: it must not serve the database."""


def secrets_path(settings: Settings) -> Path:
    return settings.data_dir / SECRETS_FILE


def read_secrets_file(settings: Settings) -> dict[str, str]:
    """The secrets kept in the data directory ({} when it has none)."""
    path = secrets_path(settings)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"{path} is unreadable ({exc})") from exc
    try:
        stored = json.loads(text)
        if not isinstance(stored, dict) or not all(isinstance(v, str) for v in stored.values()):
            raise ValueError("not a JSON object of strings")
    except ValueError as exc:
        raise SettingsError(f"{path} is unreadable ({exc}); fix it or remove it") from exc
    return stored


def _local(settings: Settings, stored: Mapping[str, str]) -> dict[str, str]:
    """Each secret from the environment (the settings), else from secrets.json, else ''."""
    return {s.name: getattr(settings, s.name) or stored.get(s.name, "") for s in SECRETS}


def local_settings(settings: Settings) -> Settings:
    """The settings with the secrets this host has (environment, secrets.json); generates none
    and checks nothing (``pishkhan config``)."""
    return _with_secrets(settings, _local(settings, read_secrets_file(settings)))


def _with_secrets(settings: Settings, values: Mapping[str, str]) -> Settings:
    return replace(settings, token_secret=values["token_secret"], admin_token=values["admin_token"])


def _refusal(settings: Settings, wrong: list[Secret], local: Mapping[str, str]) -> str:
    one = len(wrong) == 1
    labels = " and ".join(s.label for s in wrong)
    names = " and ".join(s.setting for s in wrong)
    has_none = all(not local[s.name] for s in wrong)
    return (
        f"this database belongs to a deployment whose {labels} {'differs' if one else 'differ'}"
        f" from this host's{' (this host has none)' if has_none else ''}: set {names} to"
        f" {'the value' if one else 'the values'} the deployment's first host uses, or leave"
        f" {'it' if one else 'them'} unset and copy that host's data dir's {SECRETS_FILE} to"
        f" {secrets_path(settings)}"
    )


def _check_sealed(conn: Connection, settings: Settings, token_secret: str) -> None:
    for target in SEALED_WITH_TOKEN_SECRET:
        module, _, name = target.partition(":")
        try:
            check: Callable[[Connection, str], bool | None] = getattr(
                importlib.import_module(module), name
            )
        except ModuleNotFoundError:
            continue  # a surface not installed in this build
        if check(conn, token_secret) is False:
            raise SecretsMismatch(
                "this database belongs to a deployment whose token secret differs from this"
                " host's (its Pendar CA keys were sealed under another one): set"
                " PISHKHAN_TOKEN_SECRET to the value of the host that created them, or copy that"
                f" host's data dir's {SECRETS_FILE} to {secrets_path(settings)}"
            )


def establish(runtime: Runtime) -> None:
    """Give ``runtime`` the deployment's secrets, or raise :class:`SecretsMismatch`.

    On a database with no verifiers yet, records them (generating the secrets this host was
    not given, into secrets.json, in the same transaction); otherwise checks this host's
    secrets against them and never generates any.
    """
    settings = runtime.settings
    private_dir(settings.data_dir)
    stored = read_secrets_file(settings)
    local = _local(settings, stored)
    for _attempt in range(3):
        with runtime.db.read() as conn:
            recorded = {
                row.name: row.verifier
                for row in conn.execute(
                    select(deployment_secrets.c.name, deployment_secrets.c.verifier)
                )
            }
        wrong = [
            s
            for s in SECRETS
            if s.name in recorded
            and not (local[s.name] and check_secret_verifier(local[s.name], recorded[s.name]))
        ]
        if wrong:
            raise SecretsMismatch(_refusal(settings, wrong, local))
        unrecorded = [s for s in SECRETS if s.name not in recorded]
        if not unrecorded:
            break
        generated = {s.name: new_secret() for s in unrecorded if not local[s.name]}
        candidate = {**local, **generated}
        # The slow verifiers are made before the transaction, so it holds no lock for them.
        verifiers = {s.name: secret_verifier(candidate[s.name]) for s in unrecorded}
        try:
            with runtime.db.write() as conn:
                if "token_secret" in verifiers:
                    _check_sealed(conn, settings, candidate["token_secret"])
                # real time while a stored sandbox clock is unusable: the repair commands
                # (clock clear, sandbox reset) must still start
                now = runtime.clock.now_utc_or_real()
                conn.execute(
                    insert(deployment_secrets),
                    [
                        {"name": name, "verifier": verifier, "recorded_at": now}
                        for name, verifier in verifiers.items()
                    ],
                )
                runtime.audit.append(
                    conn,
                    actor="system",
                    action="deployment.secrets.record",
                    subject="deployment",
                    data={
                        "recorded": [s.name for s in unrecorded],
                        "generated": sorted(generated),
                    },
                    at=now,
                )
                if generated:  # written before the commit: a recorded secret is never lost
                    write_private(
                        secrets_path(settings), json.dumps({**stored, **generated}, indent=2)
                    )
        except IntegrityError:
            continue  # another process recorded them first: check ours against its
        local = candidate
        log_event(
            log,
            "recorded the deployment's secrets",
            recorded=[s.name for s in unrecorded],
            generated=sorted(generated),
        )
        break
    else:
        raise SecretsMismatch("could not record the deployment's secrets (retried 3 times)")
    runtime.settings = _with_secrets(settings, local)
