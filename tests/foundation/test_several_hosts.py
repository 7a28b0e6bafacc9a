"""Several hosts on one PostgreSQL database: every process of a deployment shares its secrets,
and a process that does not refuses to start (it never serves with other secrets)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pishkhan.world.fixtures import NC_FEMALE

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pendar.support import ALI, Customer, openssl_rsa_key, public_pem

JIBIT = "/ide/v1"
PENDAR_ENV = {"PISHKHAN_SURFACES": "jibit,pendar", "PISHKHAN_PENDAR_CA_KEY": "ec-p256"}
# start_live_server passes the test secrets in the environment; these blank them out (an empty
# setting counts as unset), so the host uses its data dir's secrets.json.
NO_ENV_SECRETS = {"PISHKHAN_ADMIN_TOKEN": "", "PISHKHAN_TOKEN_SECRET": ""}


def _env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PISHKHAN_")} | {
        "PISHKHAN_DATABASE_URL": db_url,
        "PISHKHAN_DATA_DIR": str(data_dir),
        "PISHKHAN_SEED_WORLD": "0",
        "PISHKHAN_LOG_LEVEL": "WARNING",
        "PISHKHAN_ACCESS_LOG": "0",
        **PENDAR_ENV,
        **extra,
    }


def _expect_refusal(env: dict[str, str], port: int) -> str:
    """Start `pishkhan serve`; it must exit non-zero before it ever answers. Returns its output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pishkhan", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/_pishkhan/health", timeout=0.5)
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            pytest.fail("the host served a database whose secrets it does not share")
        assert proc.poll() is not None, "the host neither refused nor served within 60 s"
        out = proc.stdout.read().decode() if proc.stdout else ""
        assert proc.returncode != 0, out
        return out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def _refusal_line(out: str) -> str:
    lines = [line for line in out.strip().splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert "Traceback" not in out
    assert lines[0].startswith("pishkhan: this database belongs to a deployment"), out
    return lines[0]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_hosts_sharing_secrets_serve_one_database_and_others_refuse(
    db_url: str, live_server_factory: Any, tmp_path: Path
) -> None:
    key = openssl_rsa_key(tmp_path, 1024)
    # Host A starts first with no secrets: it generates them into its data dir's secrets.json.
    a = live_server_factory(db_url, workers=1, extra_env={**PENDAR_ENV, **NO_ENV_SECRETS})
    stored = json.loads((a.data_dir / "secrets.json").read_text())
    assert set(stored) == {"admin_token", "token_secret"}
    # Host B joins with A's secrets in its environment; host C with A's secrets.json copied.
    b = live_server_factory(
        db_url,
        workers=1,
        extra_env={
            **PENDAR_ENV,
            "PISHKHAN_ADMIN_TOKEN": stored["admin_token"],
            "PISHKHAN_TOKEN_SECRET": stored["token_secret"],
        },
    )
    c_dir = tmp_path / "host-c"
    c_dir.mkdir()
    shutil.copyfile(a.data_dir / "secrets.json", c_dir / "secrets.json")
    c = live_server_factory(
        db_url, workers=1, extra_env={**PENDAR_ENV, **NO_ENV_SECRETS}, data_dir=c_dir
    )
    admin = {"Authorization": f"Bearer {stored['admin_token']}"}
    hosts = [a, b, c]
    for host in hosts:  # the admin token of the deployment works on every host
        r = httpx.get(f"{host.base_url}/_pishkhan/v1/customers", headers=admin, timeout=30)
        assert r.status_code == 200, r.text

    r = httpx.post(
        f"{a.base_url}/_pishkhan/v1/customers",
        json={
            "name": "Two Hosts",
            "slug": "two-hosts",
            "pendar_public_key_pem": public_pem(key),
        },
        headers=admin,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    created = r.json()

    # A Jibit token from one host is accepted by every other.
    jibit = created["secrets"]["jibit"]
    for issuer, other in ((a, b), (b, c), (c, a)):
        token = httpx.post(
            f"{issuer.base_url}{JIBIT}/tokens/generate",
            json={"apiKey": jibit["apiKey"], "secretKey": jibit["secretKey"]},
            timeout=30,
        ).json()["accessToken"]
        r = httpx.get(
            f"{other.base_url}{JIBIT}/balances",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert r.json()["balances"][0]["balanceType"] == "PRF"

    # Pendar: A creates the CA hierarchy (its keys sealed under the deployment's token secret);
    # a registration made on one host is issued on another, whose process unseals those keys.
    with (
        httpx.Client(base_url=a.base_url, timeout=60) as on_a,
        httpx.Client(base_url=b.base_url, timeout=60) as on_b,
        httpx.Client(base_url=c.base_url, timeout=60) as on_c,
    ):
        pendar_a = Customer(on_a, key, created)
        pendar_a.issue(pendar_a.register())
        tracking = pendar_a.register({**ALI, "NationalCode": NC_FEMALE, "IsMan": False})
        issued = Customer(on_b, key, created).issue(tracking)
        assert issued["IsSuccess"] is True and issued["Certificate"]
        pendar_c = Customer(on_c, key, created)
        revoked = pendar_c.post("RevokeCertificate", pendar_c.revoke_body(issued["Certificate"]))
        assert revoked.json()["IsSuccess"] is True, revoked.text
        crl = on_c.get("/pki/01/crl")  # signed by C's process with the unsealed CA key
        assert crl.status_code == 200 and crl.headers["content-type"] == "application/pkix-crl"

    # Host D has secrets of its own: it refuses to start and names the settings to share.
    d_dir = tmp_path / "host-d"
    line = _refusal_line(
        _expect_refusal(
            _env(
                db_url,
                d_dir,
                PISHKHAN_ADMIN_TOKEN="another-admin-token",
                PISHKHAN_TOKEN_SECRET="another-token-secret",
            ),
            _free_port(),
        )
    )
    for needle in ("PISHKHAN_TOKEN_SECRET", "PISHKHAN_ADMIN_TOKEN", "secrets.json"):
        assert needle in line, line
    # Host E has no secrets at all: it refuses too, and generates none.
    e_dir = tmp_path / "host-e"
    line = _refusal_line(_expect_refusal(_env(db_url, e_dir), _free_port()))
    for needle in ("PISHKHAN_TOKEN_SECRET", "PISHKHAN_ADMIN_TOKEN", "secrets.json"):
        assert needle in line, line
    assert not (e_dir / "secrets.json").exists()
    # Host F shares the token secret but not the admin token: only that one is named.
    line = _refusal_line(
        _expect_refusal(
            _env(
                db_url,
                tmp_path / "host-f",
                PISHKHAN_ADMIN_TOKEN="another-admin-token",
                PISHKHAN_TOKEN_SECRET=stored["token_secret"],
            ),
            _free_port(),
        )
    )
    assert "PISHKHAN_ADMIN_TOKEN" in line and "PISHKHAN_TOKEN_SECRET" not in line, line
    # A command that uses the secrets refuses the same way.
    cli = subprocess.run(
        [sys.executable, "-m", "pishkhan", "customers", "list"],
        env=_env(db_url, d_dir, PISHKHAN_TOKEN_SECRET="another-token-secret"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 2, cli.stdout + cli.stderr
    assert cli.stdout == ""
    assert "PISHKHAN_TOKEN_SECRET" in _refusal_line(cli.stderr)
    # The hosts that share the secrets kept serving.
    for host in hosts:
        r = httpx.get(f"{host.base_url}/_pishkhan/v1/customers", headers=admin, timeout=30)
        assert r.status_code == 200, r.text
