"""Shared fixtures: a migrated database on SQLite and (when configured) PostgreSQL, a runtime,
the in-process app and an HTTP client for it.

``PISHKHAN_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
turns on the PostgreSQL variant of every database test. A scratch database is created from it
for the session (and dropped afterwards); when it is set but unreachable, the tests error out
instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pishkhan.core import migrate
from pishkhan.core.db import Database, metadata, normalize_url
from pishkhan.core.schema import load_all_tables
from pishkhan.runtime import Runtime
from pishkhan.settings import Settings
from support import documented

PG_URL = os.environ.get("PISHKHAN_TEST_DATABASE_URL", "").strip()
ADMIN_TOKEN = "test-admin-token"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A scratch PostgreSQL database for the session, migrated once."""
    if not PG_URL:
        pytest.skip("PISHKHAN_TEST_DATABASE_URL is not set")
    base = make_url(normalize_url(PG_URL))
    name = f"pishkhan_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = Database(base.render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        admin = Database(base.render_as_string(hide_password=False))
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_all(db: Database) -> None:
    """Empty every table (DELETE is much faster than TRUNCATE on small PostgreSQL tables)."""
    load_all_tables()
    with db.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "pishkhan.sqlite3"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_database")
    db = Database(url)
    truncate_all(db)
    db.dispose()
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return replace(
        Settings(),
        data_dir=tmp_path / "data",
        database_url=db_url,
        admin_token=ADMIN_TOKEN,
        token_secret="test-token-secret-0123456789abcdef",
        access_log=False,
        seed_world=False,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.open(settings, refresh_seconds=0.0)
    yield rt
    rt.close()


@pytest.fixture
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from pishkhan.app import create_app

    return create_app(runtime=runtime)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "undocumented(reason): the test deliberately sends what the served OpenAPI documents do "
        "not describe; its responses are not held to them (tests/support/documented.py)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def client(app, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The in-process client. Every response it receives is held to the app's served OpenAPI
    documents (``support.documented``) unless the test is marked ``undocumented``."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        if request.node.get_closest_marker("undocumented") is not None:
            yield c
            return
        watch = documented.Watch(documented.for_app(app))
        watch.install(c)
        yield c
    if watch.mismatches and not request.node.stash.get(_CALL_FAILED, False):
        pytest.fail("responses the documents do not describe:\n" + "\n".join(watch.mismatches))


@pytest.fixture
def admin(client):  # type: ignore[no-untyped-def]
    """The in-process client with the admin token set."""
    client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    return client


class LiveServer:
    """A real ``pishkhan serve`` process on loopback (uvicorn, N workers)."""

    def __init__(self, base_url: str, process: subprocess.Popen[bytes], data_dir: Path) -> None:
        self.base_url = base_url
        self.process = process
        self.data_dir = data_dir

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_live_server(
    db_url: str, data_dir: Path, *, workers: int = 2, extra_env: dict[str, str] | None = None
) -> LiveServer:
    """Start pishkhan against ``db_url`` (already migrated) and wait until it is healthy."""
    port = _free_port()
    env = {
        **os.environ,
        "PISHKHAN_DATABASE_URL": db_url,
        "PISHKHAN_DATA_DIR": str(data_dir),
        "PISHKHAN_ADMIN_TOKEN": ADMIN_TOKEN,
        "PISHKHAN_TOKEN_SECRET": "test-token-secret-0123456789abcdef",
        "PISHKHAN_ACCESS_LOG": "0",
        "PISHKHAN_SEED_WORLD": "0",
        "PISHKHAN_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pishkhan",
            "serve",
            "--no-bootstrap",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process, data_dir)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pishkhan exited early:\n{(data_dir / 'server.log').read_text()}")
        try:
            if httpx.get(server.base_url + "/_pishkhan/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("pishkhan did not become healthy in 60 s")


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start real server processes sharing the test's database: ``live_server_factory(db_url, workers=2)``
    (``data_dir``: a data directory prepared by the test instead of a new empty one)."""
    started: list[LiveServer] = []

    def start(
        db_url: str,
        *,
        workers: int = 2,
        extra_env: dict[str, str] | None = None,
        data_dir: Path | None = None,
    ) -> LiveServer:
        if data_dir is None:
            data_dir = tmp_path / f"server{len(started)}"
            data_dir.mkdir()
        server = start_live_server(db_url, data_dir, workers=workers, extra_env=extra_env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
