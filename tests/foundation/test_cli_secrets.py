"""Secrets shown once by the command line are printed whole in its table (non-JSON) output:
run as a user runs it (a ``pishkhan`` process), the printed Pendar private key is a PEM key that
matches the stored public key, and every other printed secret is the one whose hash is stored."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from pishkhan.client.pendar import RequestSigner
from pishkhan.core.ids import verify_secret
from pishkhan.tenants.tables import (
    jibit_credentials,
    payman_clients,
    paystar_applications,
    pendar_accounts,
)

Secrets = dict[str, dict[str, str]]


@pytest.fixture
def pishkhan(db_url: str, tmp_path: Path) -> Any:
    """run(*args) -> stdout of a ``python -m pishkhan`` process on the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PISHKHAN_")}
    env.update(
        PISHKHAN_DATA_DIR=str(tmp_path / "cli-data"),
        PISHKHAN_DATABASE_URL=db_url,
        PISHKHAN_SEED_WORLD="0",
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "pishkhan", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        return done.stdout

    return run


def _parse(out: str) -> Secrets:
    """The secrets of a create/rotate table output: ``  surface:`` then ``    key  value``
    lines; a multi-line value follows its ``    key:`` line, flush left."""
    lines: Iterator[str] = iter(out.splitlines()[1:])
    secrets: Secrets = {}
    surface = ""
    for line in lines:
        assert not line.rstrip().endswith("..."), line  # nothing cut short
        if line.startswith("  ") and not line.startswith("   "):
            surface = line.strip().removesuffix(":")
            secrets[surface] = {}
        elif line.startswith("    ") and line.strip().endswith(":") and " " not in line.strip():
            block: list[str] = []
            for part in lines:
                block.append(part)
                if part.startswith("-----END "):
                    break
            secrets[surface][line.strip().removesuffix(":")] = "\n".join(block) + "\n"
        else:
            key, value = line.strip().split(None, 1)
            secrets[surface][key] = value
    return secrets


def _stored(db: Any, table: Any, customer_id: int, column: str) -> str:
    with db.read() as conn:
        return str(
            conn.execute(
                select(table.c[column]).where(table.c.customer_id == customer_id)
            ).scalar_one()
        )


def _check_pendar_key(db: Any, customer_id: int, shown: dict[str, str]) -> None:
    key = serialization.load_pem_private_key(shown["private_key_pem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    stored = serialization.load_pem_public_key(
        _stored(db, pendar_accounts, customer_id, "public_key_pem").encode()
    )
    assert isinstance(stored, rsa.RSAPublicKey)
    assert key.public_key().public_numbers() == stored.public_numbers()
    assert shown["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----\n")
    shown_public = serialization.load_pem_public_key(shown["public_key_pem"].encode())
    assert isinstance(shown_public, rsa.RSAPublicKey)
    assert shown_public.public_numbers() == stored.public_numbers()
    xml_key = RequestSigner.from_dotnet_xml(shown["private_key_xml"]).key
    assert xml_key.private_numbers() == key.private_numbers()
    assert verify_secret(
        shown["report_key"], _stored(db, pendar_accounts, customer_id, "report_key_hash")
    )


def test_create_and_rotate_print_every_secret_whole(pishkhan: Any, db: Any) -> None:
    out = pishkhan("customers", "create", "Acme Co", "--slug", "acme")
    match = re.match(r"created customer (\d+) \(acme\); secrets \(shown only now\):\n", out)
    assert match, out
    cid = int(match.group(1))  # 1 on SQLite; PostgreSQL's sequence outlives emptied tables
    secrets = _parse(out)
    assert set(secrets) == {"jibit", "paystar", "pendar", "payman"}
    _check_pendar_key(db, cid, secrets["pendar"])
    assert verify_secret(
        secrets["jibit"]["secretKey"], _stored(db, jibit_credentials, cid, "secret_hash")
    )
    for name in ("access_password", "refresh_token"):
        stored = _stored(db, paystar_applications, cid, f"{name}_hash")
        assert verify_secret(secrets["paystar"][name], stored)
    stored = _stored(db, payman_clients, cid, "client_secret_hash")
    assert verify_secret(secrets["payman"]["client_secret"], stored)
    assert len(secrets["payman"]["app_key"]) >= 24

    rotated = pishkhan("customers", "rotate", "acme", "pendar")
    assert rotated.startswith(f"rotated pendar for customer {cid}; new secrets (shown only now):\n")
    new = _parse(rotated)["pendar"]
    assert new["private_key_pem"] != secrets["pendar"]["private_key_pem"]
    _check_pendar_key(db, cid, new)

    new_payman = _parse(pishkhan("customers", "rotate", "acme", "payman"))["payman"]
    stored = _stored(db, payman_clients, cid, "client_secret_hash")
    assert verify_secret(new_payman["client_secret"], stored)
    assert not verify_secret(secrets["payman"]["client_secret"], stored)
    new_paystar = _parse(pishkhan("customers", "rotate", "acme", "paystar"))["paystar"]
    for name in ("access_password", "refresh_token"):
        stored = _stored(db, paystar_applications, cid, f"{name}_hash")
        assert verify_secret(new_paystar[name], stored)
    new_jibit = _parse(pishkhan("customers", "rotate", "acme", "jibit"))["jibit"]
    assert verify_secret(new_jibit["secretKey"], _stored(db, jibit_credentials, cid, "secret_hash"))
