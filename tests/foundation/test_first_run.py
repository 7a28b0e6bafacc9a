"""First run: the demo customer and its credentials file; a real `pishkhan serve`; the SDK's
import footprint."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from pishkhan.core import bootstrap
from pishkhan.core.ids import verify_secret
from pishkhan.runtime import Runtime
from pishkhan.tenants.tables import (
    customers,
    jibit_credentials,
    payman_clients,
    paystar_applications,
    pendar_accounts,
)


def _verify_demo_secrets(runtime: Runtime, cid: int, creds: dict[str, Any]) -> None:
    def stored(table: Any, column: str) -> str:
        with runtime.db.read() as conn:
            value: str = conn.execute(
                select(table.c[column]).where(table.c.customer_id == cid)
            ).scalar_one()
        return value

    checks = [
        (creds["jibit"]["secretKey"], stored(jibit_credentials, "secret_hash")),
        (creds["paystar"]["access_password"], stored(paystar_applications, "access_password_hash")),
        (creds["paystar"]["refresh_token"], stored(paystar_applications, "refresh_token_hash")),
        (creds["pendar"]["report_key"], stored(pendar_accounts, "report_key_hash")),
        (creds["payman"]["client_secret"], stored(payman_clients, "client_secret_hash")),
    ]
    for secret, digest in checks:
        assert verify_secret(secret, digest)
    assert creds["jibit"]["apiKey"] == stored(jibit_credentials, "api_key")
    assert creds["payman"]["client_id"] == stored(payman_clients, "client_id")
    assert creds["pendar"]["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert creds["pendar"]["private_key_xml"].startswith("<RSAKeyValue>")


def test_first_run_creates_demo_once(runtime: Runtime) -> None:
    created = bootstrap.first_run(runtime)
    assert created is not None and created["slug"] == "demo"
    path = runtime.settings.data_dir / "demo-credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["customer"] == {"id": created["id"], "slug": "demo", "name": "Demo customer"}
    assert doc["base_url"] == runtime.settings.effective_base_url
    assert set(doc["credentials"]) == {"jibit", "paystar", "pendar", "payman"}
    _verify_demo_secrets(runtime, created["id"], doc["credentials"])
    redirect = created["credentials"]["payman"]["redirect_urls"]
    assert redirect == [f"{runtime.settings.effective_base_url}/_pishkhan/demo/payman-callback"]
    before = path.read_bytes()
    assert bootstrap.first_run(runtime) is None
    assert path.read_bytes() == before
    with runtime.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_first_run_end_to_end(tmp_path: Path) -> None:
    """A real `pishkhan serve` on the default SQLite database under the data directory."""
    port = _free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PISHKHAN_")} | {
        "PISHKHAN_DATA_DIR": str(data),
        "PISHKHAN_SEED_WORLD": "0",
        "PISHKHAN_LOG_LEVEL": "WARNING",
        "PISHKHAN_ACCESS_LOG": "0",
    }
    out_path = tmp_path / "stdout.txt"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pishkhan", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        health: httpx.Response | None = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, out_path.read_text()
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/_pishkhan/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health is not None, out_path.read_text()
        assert health.status_code == 200 and health.json()["database"] == "sqlite"
        printed = out_path.read_text()
        creds_file = data / "demo-credentials.json"
        doc = json.loads(creds_file.read_text())
        creds = doc["credentials"]
        assert "first run: created the demo customer" in printed
        assert f"secretKey={creds['jibit']['secretKey']}" in printed
        assert f"access_password={creds['paystar']['access_password']}" in printed
        assert f"customercode={creds['pendar']['customercode']}" in printed
        assert f"client_secret={creds['payman']['client_secret']}" in printed
        assert f"serving on http://127.0.0.1:{port}" in printed
        assert (data / "pishkhan.sqlite3").exists()
        admin_token = json.loads((data / "secrets.json").read_text())["admin_token"]
        listed = httpx.get(
            f"http://127.0.0.1:{port}/_pishkhan/v1/customers",
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert [c["slug"] for c in listed.json()["customers"]] == ["demo"]
        # The data dir is its owner's alone, and so is every file pishkhan wrote there,
        # including the SQLite log and shared-memory files of the serving process.
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
        assert files == {
            name: 0o600
            for name in (
                "pishkhan.sqlite3",
                "pishkhan.sqlite3-wal",
                "pishkhan.sqlite3-shm",
                "pishkhan.sqlite3-credentials",
                "secrets.json",
                "demo-credentials.json",
            )
        }
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def test_client_imports_without_server_dependencies() -> None:
    code = textwrap.dedent(
        """
        import sys
        from importlib.abc import MetaPathFinder

        BLOCKED = ("starlette", "sqlalchemy", "alembic", "uvicorn", "granian", "orjson",
                   "cryptography", "prometheus_client", "psycopg")

        class Block(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        import pishkhan.client
        import pishkhan.client.base
        from pishkhan.client import SyncTransport
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        print("ok", SyncTransport.__name__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok SyncTransport"
