"""Bounds on what a client may send (issue 19 item 8), on a real server process on loopback.

Four unauthenticated 100 MB POSTs once took the server from 128 MB to 1.17 GB resident. Now a
body over ``PISHKHAN_MAX_BODY`` is refused with 413 in the surface's own error shape, from its
Content-Length before anything is read, or as soon as a chunked body passes the bound; a body
or a request head that does not arrive in time is refused too (408), and nothing is written.
Both servers ``pishkhan serve`` can run (uvicorn, granian) are checked.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from pishkhan.core.db import Database, metadata
from pishkhan.core.schema import load_all_tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: pendar.support

ADMIN = {"Authorization": "Bearer test-admin-token"}
MIB = 1024 * 1024
SERVERS = ["uvicorn", "granian"]

JIBIT = {"code": "invalid.request_body", "message": "بدنه درخواست خالی و یا نامعتبر است"}
PAYSTAR = {"status": 10, "data": None, "message": "اطلاعات ارسال شده صحیح نمی باشد"}


def pendar_register(description: str) -> dict[str, Any]:
    return {
        "IsSuccess": False,
        "TrackingCode": "",
        "Description": description,
        "ErrorCode": 1,
        "ErrorMessage": "خطا در اجرای برنامه",
    }


PENDAR_TOO_LARGE = "حجم بدنه درخواست بیش از حد مجاز است"
PENDAR_TOO_SLOW = "بدنه درخواست در زمان مجاز دریافت نشد"


def payman(info: str) -> dict[str, Any]:
    message = "ورودی ها صحیح نیستند."
    item = {"error": message, "code": "071", "reference": "$", "info": info}
    return {"error": message, "code": "071", "errors": [item]}


def control(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def larger_than(limit: int) -> str:
    return f"The request body is larger than {limit} bytes."


# -- a raw HTTP/1.1 client ------------------------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, seconds: float) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.headers}, {self.body[:200]!r}, {self.seconds:.2f}s)"


def connect(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket, started: float, timeout: float = 10) -> Answer | None:
    """The response on ``sock`` (None when the server closed without one)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    if b"\r\n\r\n" not in data:
        assert data == b"", data
        return None
    raw_head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    try:
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except ConnectionResetError:
        pass
    return Answer(int(status_line.split()[1]), headers, body, time.monotonic() - started)


def closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closes ``sock`` (fails after ``seconds``)."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {seconds} s")
    return time.monotonic() - started


def send_declared(
    base_url: str, path: str, declared: int, sent: bytes, headers: dict[str, str] | None = None
) -> Answer | None:
    """A POST announcing ``declared`` bytes of body that sends only ``sent``, then waits."""
    with connect(base_url) as sock:
        started = time.monotonic()
        all_headers = {"Content-Type": "application/json", "Content-Length": str(declared)}
        sock.sendall(head("POST", path, {**all_headers, **(headers or {})}) + sent)
        return read_answer(sock, started)


def send_chunked(
    base_url: str,
    path: str,
    total: int,
    headers: dict[str, str] | None = None,
    chunk: int = 64 * 1024,
    seconds: float = 30,
) -> tuple[Answer | None, int]:
    """A chunked POST of up to ``total`` bytes, stopping as soon as the server answers (or
    stops reading); the answer and the bytes sent."""
    with connect(base_url) as sock:
        started = time.monotonic()
        all_headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        sock.sendall(head("POST", path, {**all_headers, **(headers or {})}))
        sent = 0
        piece = b"%x\r\n" % chunk + b" " * chunk + b"\r\n"
        try:
            while sent < total and time.monotonic() - started < seconds:
                if select.select([sock], [], [], 0)[0]:
                    break  # an answer (or a close) came back
                sock.sendall(piece)
                sent += chunk
            else:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_answer(sock, started), sent


def table_counts(db_url: str) -> dict[str, int]:
    """Rows in every table: what a refused request must leave as it found it."""
    load_all_tables()
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            return {
                t.name: int(conn.execute(sql_select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            }
    finally:
        db.dispose()


def resident_kib(pid: int) -> int:
    """VmRSS of ``pid`` and its descendants (granian serves from a child process)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        status = Path(f"/proc/{current}/status").read_text()
        total += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
        )
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            pending.extend(int(c) for c in children)
    return total


# -- 413 in each surface's shape ------------------------------------------------------------------

#: path, extra headers, the answer's body
SURFACES: list[tuple[str, dict[str, str], Any]] = [
    ("/ide/v1/tokens/generate", {}, JIBIT),
    ("/api/open-banking/application/refresh-api-key", {}, PAYSTAR),
    ("/api/RegisterInfo", {}, pendar_register(PENDAR_TOO_LARGE)),
    ("/oauth/token", {}, payman(larger_than(MIB))),
    ("/v1/payman/pay", {}, payman(larger_than(MIB))),
    ("/_pishkhan/v1/customers", ADMIN, control("too_large", larger_than(MIB))),
]


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_body_over_the_bound_gets_413_in_each_surfaces_shape_and_writes_nothing(
    db_url: str, live_server_factory: Any, server_name: str
) -> None:
    server = live_server_factory(
        db_url,
        workers=1,
        extra_env={"PISHKHAN_SERVER": server_name, "PISHKHAN_MAX_IMPORT_BODY": "2M"},
    )
    before = table_counts(db_url)
    for path, headers, expected in SURFACES:
        # 100 MB announced, 16 bytes sent: the answer comes without the server waiting for more
        answer = send_declared(server.base_url, path, 100 * MIB, b'{"a":"' + b"x" * 10, headers)
        assert answer is not None, path
        assert answer.status == 413, (path, answer)
        assert answer.json() == expected, path
        assert answer.headers["content-type"].startswith("application/json"), path
        assert answer.headers["connection"] == "close", path
        assert answer.seconds < 3, (path, answer)
        # one byte over the bound, announced
        answer = send_declared(server.base_url, path, MIB + 1, b"{", headers)
        assert answer is not None and answer.status == 413 and answer.json() == expected, path
        # chunked (no Content-Length): refused once the count passes the bound
        answer, sent = send_chunked(server.base_url, path, 8 * MIB, headers)
        assert answer is not None, (path, sent)
        assert answer.status == 413 and answer.json() == expected, (path, answer)
        assert sent < 8 * MIB, path  # the server stopped reading
    # the world import has its own bound (PISHKHAN_MAX_IMPORT_BODY)
    answer = send_declared(server.base_url, "/_pishkhan/v1/world/import", 2 * MIB + 1, b"", ADMIN)
    assert answer is not None and answer.status == 413
    assert answer.json() == control("too_large", larger_than(2 * MIB))
    assert table_counts(db_url) == before  # nothing charged, recorded or written

    # under the bounds: served as ever
    person = {
        "kind": "person",
        "national_code": "0000000019",
        "first_name": "علی",
        "last_name": "رضایی",
        "first_name_en": "Ali",
        "last_name_en": "Rezaei",
        "father_name": "محمد",
        "father_name_en": "Mohammad",
        "birth_date": "13600331",
        "gender": "MALE",
    }
    padding = b"# " + b"x" * (MIB + MIB // 2) + b"\n"  # a comment line: 1.5 MB, over max_body
    body = padding + json.dumps(person, ensure_ascii=False).encode() + b"\n"
    r = httpx.post(
        server.base_url + "/_pishkhan/v1/world/import", content=body, headers=ADMIN, timeout=30
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["imported"]["person"]["created"] + r.json()["imported"]["person"]["updated"] == 1
    )
    r = httpx.post(
        server.base_url + "/ide/v1/tokens/generate",
        content=b'{"apiKey": "nobody", "secretKey": "nothing"}' + b" " * (MIB - 64),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 401 and r.json()["code"] == "invalid.credentials", r.text


# -- memory --------------------------------------------------------------------------------------

UNAUTHENTICATED = [
    "/ide/v1/tokens/generate",
    "/api/open-banking/application/refresh-api-key",
    "/api/RegisterInfo",
    "/oauth/token",
]


def push_declared(base_url: str, path: str, size: int, seconds: float) -> int:
    """Send a ``size``-byte body announced by Content-Length for at most ``seconds``; the bytes
    the server let through before it stopped reading."""
    sent = 0
    block = b" " * MIB
    with connect(base_url) as sock:
        sock.sendall(
            head("POST", path, {"Content-Type": "application/json", "Content-Length": str(size)})
        )
        started = time.monotonic()
        try:
            while sent < size and time.monotonic() - started < seconds:
                sock.sendall(block)
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        read_answer(sock, started, timeout=5) if sent < size else None
    return sent


@pytest.mark.parametrize("server_name", SERVERS)
def test_oversized_bodies_leave_the_servers_memory_bounded(
    db_url: str, live_server_factory: Any, server_name: str
) -> None:
    server = live_server_factory(db_url, workers=1, extra_env={"PISHKHAN_SERVER": server_name})
    pid = server.process.pid
    for path in UNAUTHENTICATED:  # every route once, so what it imports and caches is counted
        httpx.post(
            server.base_url + path, content=b"{}", headers={"Content-Type": "application/json"}
        )
    before = resident_kib(pid)
    for path in UNAUTHENTICATED:
        push_declared(server.base_url, path, 100 * MIB, seconds=20)
        send_chunked(server.base_url, path, 100 * MIB, chunk=MIB, seconds=20)
    grown = resident_kib(pid) - before
    assert grown < 50 * 1024, f"resident memory grew by {grown // 1024} MB"
    assert httpx.get(server.base_url + "/_pishkhan/health").status_code == 200


# -- timeouts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_client_that_stalls_is_answered_or_disconnected_within_the_timeouts(
    db_url: str, live_server_factory: Any, server_name: str
) -> None:
    server = live_server_factory(
        db_url,
        workers=1,
        extra_env={
            "PISHKHAN_SERVER": server_name,
            "PISHKHAN_HEADER_TIMEOUT": "1",
            "PISHKHAN_BODY_TIMEOUT": "1",
        },
    )
    base = server.base_url
    # the head is in, the body stalls: 408 in the surface's shape
    answer = send_declared(base, "/api/RegisterInfo", 100, b"{")
    assert answer is not None and answer.status == 408, answer
    assert answer.json() == pendar_register(PENDAR_TOO_SLOW)
    assert answer.headers["connection"] == "close"
    assert 0.9 < answer.seconds < 3, answer
    answer = send_declared(base, "/oauth/token", 100, b"grant_type=")
    assert answer is not None and answer.status == 408, answer
    assert answer.json() == payman("The request body did not arrive within 1 seconds.")

    # a chunked body that trickles in (a byte every 0.2 s) is refused at the deadline too
    with connect(base) as sock:
        started = time.monotonic()
        sock.sendall(head("POST", "/ide/v1/tokens/generate", {"Transfer-Encoding": "chunked"}))
        try:
            for _ in range(25):
                if select.select([sock], [], [], 0.2)[0]:
                    break
                sock.sendall(b"1\r\n \r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_answer(sock, started)
    assert answer is not None and answer.status == 408 and answer.json() == JIBIT
    assert answer.seconds < 3, answer

    # the head stalls: the connection is closed (uvicorn answers 408 first)
    with connect(base) as sock:
        sock.sendall(b"POST /api/RegisterInfo HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        answer = read_answer(sock, started, timeout=5)
        assert time.monotonic() - started < 3
        if server_name == "uvicorn":
            assert answer is not None and answer.status == 408, answer
            assert answer.headers["connection"] == "close"
        closed_within(sock, 2)

    # a head larger than PISHKHAN_MAX_HEADER (64K): 431, and nothing of it is kept
    with connect(base) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /_pishkhan/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        try:
            for _ in range(64):
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_answer(sock, started)
        assert answer is not None and answer.status == 431, answer

    if server_name == "uvicorn":  # (granian keeps a connection that never sends a byte)
        with connect(base) as sock:
            assert closed_within(sock, 3) < 2.5

    # and the server serves as ever
    assert httpx.get(base + "/_pishkhan/health").status_code == 200


# -- just under the bound ------------------------------------------------------------------------


def test_a_body_of_exactly_the_bound_is_served(db_url: str, live_server_factory: Any) -> None:
    """A real Pendar issuance for an RSA-4096 CSR (about 2 KB), padded to exactly the bound, is
    served, by Content-Length and chunked; one byte more is refused and leaves nothing behind."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from pendar.support import MARYAM, csr_for, make_customer

    bound = 4096
    server = live_server_factory(
        db_url,
        workers=1,
        extra_env={
            "PISHKHAN_SURFACES": "pendar",
            "PISHKHAN_PENDAR_CA_KEY": "ec-p256",
            "PISHKHAN_MAX_BODY": str(bound),
        },
    )
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        customer_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        customer = make_customer(http, customer_key, "Bounds")
        ali, maryam = customer.register(), customer.register(MARYAM)
        key = rsa.generate_private_key(public_exponent=65537, key_size=4096)

        def body(tracking_code: str, size: int) -> bytes:
            issue = customer.issue_body(tracking_code, csr_for(key))
            raw = json.dumps(issue, ensure_ascii=False).encode()
            assert len(raw) < size
            return raw + b" " * (size - len(raw))  # JSON may end in white space

        before = table_counts(db_url)
        path = "/api/IssueCertificateByTrackingCode"
        answer = send_declared(server.base_url, path, bound + 1, body(ali, bound + 1))
        assert answer is not None and answer.status == 413, answer
        expected = {
            "IsSuccess": False,
            "Certificate": "",
            "PaymentStatus": "",
            "Description": PENDAR_TOO_LARGE,
            "CN": "",
            "IssuerName": "",
            "ValidFrom": "",
            "ValidTo": "",
            "ErrorCode": 1,
            "ErrorMessage": "خطا در اجرای برنامه",
        }
        assert answer.json() == expected
        too_long = body(ali, bound + 1)
        r = http.post(path, content=iter([too_long[:1000], too_long[1000:]]))  # chunked
        assert r.status_code == 413 and r.json() == expected
        assert table_counts(db_url) == before

        r = http.post(path, content=body(ali, bound), headers={"Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["IsSuccess"] is True, r.text
        exact = body(maryam, bound)
        r = http.post(path, content=iter([exact[:1000], exact[1000:]]))  # chunked
        assert r.status_code == 200 and r.json()["IsSuccess"] is True, r.text
    after = table_counts(db_url)
    assert after["pendar_certificates"] == before["pendar_certificates"] + 2


def test_the_bounds_are_settings() -> None:
    from pishkhan.settings import Settings, SettingsError

    settings = Settings.from_env(
        {
            "PISHKHAN_MAX_BODY": "2M",
            "PISHKHAN_MAX_IMPORT_BODY": "128MiB",
            "PISHKHAN_MAX_HEADER": "32K",
            "PISHKHAN_HEADER_TIMEOUT": "5",
            "PISHKHAN_BODY_TIMEOUT": "30.5",
        }
    )
    assert (settings.max_body, settings.max_import_body, settings.max_header) == (
        2 * MIB,
        128 * MIB,
        32 * 1024,
    )
    assert (settings.header_timeout, settings.body_timeout) == (5.0, 30.5)
    defaults = Settings.from_env({})
    assert (defaults.max_body, defaults.max_import_body, defaults.max_header) == (
        MIB,
        64 * MIB,
        64 * 1024,
    )
    assert (defaults.header_timeout, defaults.body_timeout) == (10.0, 60.0)
    shown = settings.describe()  # what `pishkhan config` prints
    assert (shown["max_body"], shown["body_timeout"]) == (2 * MIB, 30.5)
    for name, value in (
        ("MAX_BODY", "lots"),
        ("MAX_BODY", "0"),
        ("MAX_HEADER", "1K"),
        ("BODY_TIMEOUT", "0"),
        ("HEADER_TIMEOUT", "soon"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({f"PISHKHAN_{name}": value})
