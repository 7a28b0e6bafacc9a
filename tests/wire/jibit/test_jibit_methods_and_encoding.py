"""Issue 19, Jibit: a query that is not UTF-8, methods other than the route's own, and Sana's
answer when the SIM is not the person's. Exact bodies, and what is (not) charged."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import orjson
import pytest
from jibit_support import PREFIX, Customer, daily_counts, usage, wallet_balances

from pishkhan.cli import main
from pishkhan.providers.jibit import sandbox
from pishkhan.runtime import Runtime
from pishkhan.web.asgi import InvalidQuery, query_map
from pishkhan.world import fixtures as F

ADMIN = {"Authorization": "Bearer test-admin-token"}
BAD_REQUEST = {"code": "invalid.request_body", "message": "بدنه درخواست خالی و یا نامعتبر است"}
NO_HANDLER = {"code": "handler.not_found", "message": "سازوکاری یافت نشد"}
SANA_MISMATCH = {"code": "mobileNumber.not_valid", "message": "شماره موبایل معتبر نیست"}
NAME = "علی رضایی"  # the holder of F.CARD_ACTIVE
# As an older Iranian system sends it: Arabic yeh (Windows-1256 has no Persian one) in cp1256.
NAME_1256_BYTES = "علي رضايي".encode("cp1256")
NAME_CP1256 = quote(NAME_1256_BYTES)  # %DA%E1%ED%20%D1%D6%C7%ED%ED


def _charged_nothing(
    runtime: Runtime, customer: Customer, wallets_before: dict[str, int], events: int
) -> None:
    """Wallets as before, nothing counted against a daily limit, and only failure events
    (price 0) recorded (``events`` of them)."""
    assert wallet_balances(runtime, customer) == wallets_before
    assert daily_counts(runtime, customer) == {}
    recorded = usage(runtime, customer)
    assert len(recorded) == events
    assert all(outcome != "success" and price == 0 for _s, outcome, price in recorded)


# -- 5. a query that is not UTF-8 ------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "a=1&b=&c&d=%D8%B9%D9%84%DB%8C+%D8%B1&e=x%2By&a=2&&f==g",
        "name=علی+رضایی&x=%20",
        "",
        "plain=ascii&k=v",
    ],
)
def test_query_map_splits_as_parse_qsl(query: str) -> None:
    assert query_map(query.encode()) == dict(parse_qsl(query, keep_blank_values=True))


@pytest.mark.parametrize(
    "raw",
    [
        b"name=" + NAME_CP1256.encode(),  # percent-encoded Windows-1256
        b"name=" + NAME_1256_BYTES,  # the same bytes raw
        b"%C7%E1%DF=1",  # in a name
        b"name=%ED%A0%80",  # an encoded surrogate is not UTF-8 either
        b"name=%E0%A4",  # truncated sequence
    ],
)
def test_query_map_refuses_what_is_not_utf8(raw: bytes) -> None:
    with pytest.raises(InvalidQuery):
        query_map(raw)


def test_query_map_takes_raw_utf8() -> None:
    assert query_map("name=علی".encode()) == {"name": "علی"}


def test_cp1256_name_is_refused_and_not_charged(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    before = wallet_balances(runtime, customer)
    for query in (
        f"cardNumber={F.CARD_ACTIVE}&name={NAME_CP1256}",
        f"iban={F.IBAN_ACTIVE}&name={NAME_CP1256}",
        f"bank=MELLI&depositNumber={F.DEPOSIT_ACTIVE}&name={NAME_CP1256}",
    ):
        r = client.get(f"{PREFIX}/services/matching?{query}", headers=auth)
        assert (r.status_code, r.json()) == (400, BAD_REQUEST), query
    # the same bytes in a JSON body (matching takes POST JSON) are no JSON string either
    r = client.post(
        f"{PREFIX}/services/matching",
        content=b'{"cardNumber": "'
        + F.CARD_ACTIVE.encode()
        + b'", "name": "'
        + NAME_1256_BYTES
        + b'"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()) == (400, BAD_REQUEST)
    _charged_nothing(runtime, customer, before, events=4)
    # the same name in UTF-8 is a name, matched and charged
    r = client.get(
        f"{PREFIX}/services/matching?cardNumber={F.CARD_ACTIVE}&name={quote(NAME)}", headers=auth
    )
    assert (r.status_code, r.json()) == (200, {"matched": True})
    assert daily_counts(runtime, customer) == {"MATCHING_CARD_NAME": 1}


def test_every_text_parameter_is_decoded_by_the_same_rule(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    before = wallet_balances(runtime, customer)
    for path in (
        "/cards?number=%C7%E1",
        f"/ibans?value={F.IBAN_ACTIVE}&note=%C7",
        "/services/postal?code=%DF",
        f"/services/identity/similarity?nationalCode={F.NC_OK}&birthDate=13600331"
        f"&firstName=%C7%E1%ED",
        f"/services/social/sana?nationalCode={F.NC_OK}&mobileNumber=%DF",
        "/reports/daily?yearMonthDay=%C7",
        "/services/availability?cardToIBAN=%C7",
    ):
        r = client.get(PREFIX + path, headers=auth)
        assert (r.status_code, r.json()) == (400, BAD_REQUEST), path
    _charged_nothing(runtime, customer, before, events=5)  # the five inquiries


async def _asgi_get(app: Any, path: str, query: bytes, headers: dict[str, str]) -> Any:
    """One request straight to the ASGI app with the query string's bytes as given (raw
    non-ASCII bytes cannot be written through an HTTP client library)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_raw_cp1256_bytes_are_refused_and_not_charged(
    app: Any, client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    before = wallet_balances(runtime, customer)
    query = f"cardNumber={F.CARD_ACTIVE}&name=".encode() + NAME_1256_BYTES
    status, body = asyncio.run(_asgi_get(app, f"{PREFIX}/services/matching", query, auth))
    assert (status, body) == (400, BAD_REQUEST)
    _charged_nothing(runtime, customer, before, events=1)
    # raw UTF-8 bytes are the name itself
    query = f"cardNumber={F.CARD_ACTIVE}&name=".encode() + NAME.encode()
    status, body = asyncio.run(_asgi_get(app, f"{PREFIX}/services/matching", query, auth))
    assert (status, body) == (200, {"matched": True})


# -- 6. HEAD, OPTIONS, wrong methods, unknown paths --------------------------------------------


@pytest.mark.undocumented("HEAD and OPTIONS on a paid inquiry: methods the document does not list")
def test_head_and_options_on_a_paid_inquiry_run_nothing(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    before = wallet_balances(runtime, customer)
    url = f"{PREFIX}/cards?number={F.CARD_ACTIVE}"
    head = client.head(url, headers={**auth, "X-TRACK-ID": "t-1"})
    assert head.status_code == 405
    assert head.headers["allow"] == "GET"
    assert head.headers["content-type"] == "application/json"
    assert head.headers["x-track-id"] == "t-1"
    assert int(head.headers["content-length"]) == len(orjson.dumps(NO_HANDLER))
    options = client.options(url, headers=auth)
    assert (options.status_code, options.json()) == (405, NO_HANDLER)
    assert options.headers["allow"] == "GET"
    assert options.headers["content-type"] == "application/json"
    for url in (
        f"{PREFIX}/services/matching?cardNumber={F.CARD_ACTIVE}&name={quote(NAME)}",
        f"{PREFIX}/services/social/sana?nationalCode={F.NC_OK}&mobileNumber={F.MOBILE_OK}",
        f"{PREFIX}/balances",
    ):
        assert client.head(url, headers=auth).status_code == 405
        r = client.options(url, headers=auth)
        assert (r.status_code, r.json()) == (405, NO_HANDLER)
    assert client.options(f"{PREFIX}/services/matching").headers["allow"] == "GET, POST"
    _charged_nothing(runtime, customer, before, events=0)


@pytest.mark.undocumented("wrong methods: not operations of the document")
def test_wrong_method_and_unknown_path_answer_the_envelope(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    before = wallet_balances(runtime, customer)
    for method, path, allow in (
        ("POST", f"{PREFIX}/cards?number={F.CARD_ACTIVE}", "GET"),
        ("DELETE", f"{PREFIX}/ibans?value={F.IBAN_ACTIVE}", "GET"),
        ("PUT", f"{PREFIX}/services/matching", "GET, POST"),
        ("GET", f"{PREFIX}/tokens/generate", "POST"),
        ("PATCH", "/ide//v1/cards", "GET"),
        ("OPTIONS", "/ide/health", "GET, HEAD"),
        ("TRACE", f"{PREFIX}/balances", "GET"),
    ):
        r = client.request(method, path, headers=auth)
        assert (r.status_code, r.json()) == (405, NO_HANDLER), (method, path)
        assert r.headers["allow"] == allow and r.headers["content-type"] == "application/json"
    for method in ("GET", "POST", "OPTIONS", "DELETE", "PROPFIND"):
        for path in (f"{PREFIX}/nope", "/ide", "/ide/", f"{PREFIX}/cards/", "/ide/v2/cards"):
            r = client.request(method, path, headers=auth)
            assert (r.status_code, r.json()) == (404, NO_HANDLER), (method, path)
            assert "allow" not in r.headers
    head = client.head(f"{PREFIX}/nope")
    assert head.status_code == 404 and head.headers["content-type"] == "application/json"
    assert client.head("/ide/health").status_code == 200  # the probe keeps HEAD
    _charged_nothing(runtime, customer, before, events=0)


# -- 7. Sana: a SIM that is not the person's --------------------------------------------------

MISMATCHES = (
    f"nationalCode={F.NC_FEMALE}&mobileNumber={F.MOBILE_OK}",  # the SIM is someone else's
    f"nationalCode={F.NC_OK}&mobileNumber={F.MOBILE_UNKNOWN}",  # no SIM on record
)


def test_sana_mismatch_is_an_error_by_default(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    before = wallet_balances(runtime, customer)
    for query in MISMATCHES:
        r = client.get(f"{PREFIX}/services/social/sana?{query}", headers=auth)
        assert (r.status_code, r.json()) == (400, SANA_MISMATCH), query
    assert usage(runtime, customer) == [
        ("SANA", "mobileNumber.not_valid", 0),
        ("SANA", "mobileNumber.not_valid", 0),
    ]
    _charged_nothing(runtime, customer, before, events=2)
    # a match is answered and charged as before
    r = client.get(
        f"{PREFIX}/services/social/sana?nationalCode={F.NC_OK}&mobileNumber={F.MOBILE_OK}",
        headers=auth,
    )
    assert r.json() == {
        "nationalCode": F.NC_OK,
        "mobileNumber": F.MOBILE_OK,
        "registered": True,
        "matched": True,
    }
    assert daily_counts(runtime, customer) == {"SANA": 1}
    assert wallet_balances(runtime, customer)["jibit.PRF"] == before["jibit.PRF"] - 4_000


def test_sana_matched_false_behind_the_sandbox_switch(
    client: Any, auth: dict[str, str], runtime: Runtime, customer: Customer
) -> None:
    before = wallet_balances(runtime, customer)
    r = client.put("/_pishkhan/v1/jibit/sana", json={"mismatch": "matched_false"}, headers=ADMIN)
    assert (r.status_code, r.json()) == (200, {"mismatch": "matched_false"})
    assert client.get("/_pishkhan/v1/jibit/sana", headers=ADMIN).json() == {
        "mismatch": "matched_false"
    }
    r = client.get(f"{PREFIX}/services/social/sana?{MISMATCHES[0]}", headers=auth)
    assert (r.status_code, r.json()) == (
        200,
        {
            "nationalCode": F.NC_FEMALE,
            "mobileNumber": F.MOBILE_OK,
            "registered": False,
            "matched": False,
        },
    )
    # an answer is a successful inquiry: charged, as it was before the switch existed
    assert usage(runtime, customer) == [("SANA", "success", 4_000)]
    assert wallet_balances(runtime, customer)["jibit.PRF"] == before["jibit.PRF"] - 4_000
    # the faults switch keeps the Sana mode, and back to the default
    sandbox.set_faults(runtime, latency_ms=0, unavailable=[])
    assert sandbox.sana(runtime) == {"mismatch": "matched_false"}
    assert client.put(
        "/_pishkhan/v1/jibit/sana", json={"mismatch": "error"}, headers=ADMIN
    ).json() == {"mismatch": "error"}
    r = client.get(f"{PREFIX}/services/social/sana?{MISMATCHES[0]}", headers=auth)
    assert (r.status_code, r.json()) == (400, SANA_MISMATCH)


def test_sana_switch_refuses_unknown_modes_and_keeps_faults(client: Any, runtime: Runtime) -> None:
    sandbox.set_faults(runtime, unavailable=["SANA"], latency_ms=5)
    r = client.put("/_pishkhan/v1/jibit/sana", json={"mismatch": "maybe"}, headers=ADMIN)
    assert r.status_code == 400
    assert sandbox.sana(runtime) == {"mismatch": "error"}
    sandbox.set_sana(runtime, "matched_false")
    assert sandbox.faults(runtime) == {"unavailable": ["SANA"], "latency_ms": 5}
    assert client.get("/_pishkhan/v1/jibit/faults", headers=ADMIN).json() == {
        "unavailable": ["SANA"],
        "latency_ms": 5,
    }


def test_cli_sets_and_shows_the_sana_mode(
    runtime: Runtime, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("PISHKHAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PISHKHAN_DATA_DIR", str(tmp_path / "cli"))
    assert main(["jibit", "sana", "set", "matched_false"]) == 0
    assert sandbox.sana(runtime) == {"mismatch": "matched_false"}
    capsys.readouterr()
    assert main(["jibit", "sana", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"mismatch": "matched_false"}
    assert main(["jibit", "sana", "set", "error"]) == 0
    assert sandbox.sana(runtime) == {"mismatch": "error"}


# -- the same on a real server on loopback ---------------------------------------------------


def _raw_request(base_url: str, request_line: bytes, headers: dict[str, str]) -> bytes:
    """One request written byte for byte (an HTTP library would percent-encode the target)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
        sock.sendall(request_line + b"\r\nHost: x\r\nConnection: close\r\n" + head + b"\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_live_server(
    runtime: Runtime, db_url: str, customer: Customer, live_server_factory: Any
) -> None:
    server = live_server_factory(db_url, workers=1, extra_env={"PISHKHAN_SURFACES": "jibit"})
    base = server.base_url
    r = httpx.post(
        f"{base}{PREFIX}/tokens/generate",
        json={"apiKey": customer.api_key, "secretKey": customer.secret_key},
    )
    auth = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    before = wallet_balances(runtime, customer)
    card = f"{base}{PREFIX}/cards?number={F.CARD_ACTIVE}"
    head = httpx.head(card, headers=auth)
    assert (head.status_code, head.headers["allow"]) == (405, "GET")
    assert head.headers["content-type"] == "application/json"
    options = httpx.options(card, headers=auth)
    assert (options.status_code, options.json()) == (405, NO_HANDLER)
    r = httpx.get(
        f"{base}{PREFIX}/services/matching?cardNumber={F.CARD_ACTIVE}&name={NAME_CP1256}",
        headers=auth,
    )
    assert (r.status_code, r.json()) == (400, BAD_REQUEST)
    # raw bytes that are not UTF-8 in the request line: the HTTP server refuses the request
    answer = _raw_request(
        base,
        f"GET {PREFIX}/services/matching?cardNumber={F.CARD_ACTIVE}&name=".encode()
        + NAME_1256_BYTES.replace(b" ", b"%20")
        + b" HTTP/1.1",
        auth,
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    r = httpx.get(f"{base}{PREFIX}/services/social/sana?{MISMATCHES[0]}", headers=auth)
    assert (r.status_code, r.json()) == (400, SANA_MISMATCH)
    _charged_nothing(runtime, customer, before, events=2)
    r = httpx.put(
        f"{base}/_pishkhan/v1/jibit/sana", json={"mismatch": "matched_false"}, headers=ADMIN
    )
    assert r.json() == {"mismatch": "matched_false"}
    r = httpx.get(f"{base}{PREFIX}/services/social/sana?{MISMATCHES[0]}", headers=auth)
    assert (r.status_code, r.json()["matched"]) == (200, False)
    assert daily_counts(runtime, customer) == {"SANA": 1}
