"""Control plane: customers, credentials per surface, rotation, status, wallets, prices."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select

from pishkhan.core.ids import verify_secret
from pishkhan.tenants import service
from pishkhan.tenants.tables import (
    jibit_credentials,
    payman_clients,
    paystar_applications,
    pendar_accounts,
    wallet_entries,
)

V1 = "/_pishkhan/v1"
Make = Callable[..., dict[str, Any]]


def _stored(runtime: Any, table: Any, column: str, customer_id: int) -> str:
    with runtime.db.read() as conn:
        value: str = conn.execute(
            select(table.c[column]).where(table.c.customer_id == customer_id)
        ).scalar_one()
    return value


def _hashes(runtime: Any, cid: int) -> dict[str, str]:
    return {
        "jibit": _stored(runtime, jibit_credentials, "secret_hash", cid),
        "paystar_password": _stored(runtime, paystar_applications, "access_password_hash", cid),
        "paystar_refresh": _stored(runtime, paystar_applications, "refresh_token_hash", cid),
        "pendar_report": _stored(runtime, pendar_accounts, "report_key_hash", cid),
        "payman": _stored(runtime, payman_clients, "client_secret_hash", cid),
    }


def _secret_values(secrets: dict[str, Any]) -> dict[str, str]:
    return {
        "jibit": secrets["jibit"]["secretKey"],
        "paystar_password": secrets["paystar"]["access_password"],
        "paystar_refresh": secrets["paystar"]["refresh_token"],
        "pendar_report": secrets["pendar"]["report_key"],
        "payman": secrets["payman"]["client_secret"],
    }


def _rsa_pem(bits: int = 1024, fmt: Any = serialization.PublicFormat.SubjectPublicKeyInfo) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.public_key().public_bytes(serialization.Encoding.PEM, fmt).decode()


def _xml_int(root: ET.Element, tag: str) -> int:
    node = root.find(tag)
    assert node is not None and node.text, tag
    return int.from_bytes(base64.b64decode(node.text), "big")


def test_create_has_credentials_for_all_surfaces_and_hashes_verify(
    make_customer: Make, runtime: Any
) -> None:
    created = make_customer(
        "acme",
        allowed_ips=["10.0.0.1"],
        paystar_allowed_ips=["10.0.0.2"],
        pendar_customer_code="1234",
        pendar_license_number="987654",
        payman_redirect_urls=["https://acme.example/cb"],
        payman_allowed_banks=["bmjiir"],
    )
    creds, secrets = created["credentials"], created["secrets"]
    assert created["status"] == "active" and created["allowed_ips"] == ["10.0.0.1"]
    assert creds["jibit"]["apiKey"] == secrets["jibit"]["apiKey"]
    assert creds["paystar"]["application_id"] == secrets["paystar"]["application_id"]
    assert creds["paystar"]["allowed_ips"] == ["10.0.0.2"]
    assert creds["pendar"]["customercode"] == "1234-987654"
    assert creds["pendar"]["public_key_pem"] == secrets["pendar"]["public_key_pem"]
    assert creds["payman"]["client_id"] == secrets["payman"]["client_id"]
    # The App-Key is a secret: shown in ``secrets`` only, stored hashed, never listed again.
    assert "app_key" not in creds["payman"] and len(secrets["payman"]["app_key"]) == 32
    assert creds["payman"]["redirect_urls"] == ["https://acme.example/cb"]
    assert creds["payman"]["allowed_banks"] == ["BMJIIR"]
    assert {w["wallet"] for w in created["wallets"]} == {
        "jibit.PRF",
        "jibit.POF",
        "paystar.open_banking",
        "pendar.credit",
    }
    hashes = _hashes(runtime, created["id"])
    for name, secret in _secret_values(secrets).items():
        assert hashes[name].startswith("sha256$") and secret not in hashes[name]
        assert verify_secret(secret, hashes[name]), name
        assert not verify_secret(secret + "x", hashes[name]), name


def test_generated_pendar_key_pem_and_dotnet_xml_describe_the_stored_key(
    make_customer: Make,
) -> None:
    created = make_customer("keys")
    pendar = created["secrets"]["pendar"]
    stored = serialization.load_pem_public_key(
        created["credentials"]["pendar"]["public_key_pem"].encode()
    )
    assert isinstance(stored, rsa.RSAPublicKey)
    numbers = stored.public_numbers()
    private = serialization.load_pem_private_key(pendar["private_key_pem"].encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.public_key().public_numbers() == numbers
    root = ET.fromstring(pendar["private_key_xml"])
    assert root.tag == "RSAKeyValue"
    assert _xml_int(root, "Modulus") == numbers.n
    assert _xml_int(root, "Exponent") == numbers.e
    p, q, d = (_xml_int(root, t) for t in ("P", "Q", "D"))
    assert p * q == numbers.n
    assert d == private.private_numbers().d
    assert _xml_int(root, "InverseQ") == pow(q, -1, p)
    # .NET wants fixed-length fields: modulus and D full size, the rest half size.
    size = stored.key_size // 8
    root_text = {child.tag: base64.b64decode(child.text or "") for child in root}
    assert len(root_text["Modulus"]) == len(root_text["D"]) == size
    assert all(len(root_text[t]) == size // 2 for t in ("P", "Q", "DP", "DQ", "InverseQ"))


@pytest.mark.parametrize(
    "fmt", [serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1]
)
def test_uploaded_pem_is_accepted_and_no_private_key_returned(
    make_customer: Make, fmt: Any
) -> None:
    pem = _rsa_pem(1024, fmt)
    created = make_customer("upload", pendar_public_key_pem=pem)
    pendar = created["secrets"]["pendar"]
    assert "private_key_pem" not in pendar and "private_key_xml" not in pendar
    stored = serialization.load_pem_public_key(pendar["public_key_pem"].encode())
    uploaded = serialization.load_pem_public_key(pem.encode())
    assert isinstance(stored, rsa.RSAPublicKey) and isinstance(uploaded, rsa.RSAPublicKey)
    assert stored.public_numbers() == uploaded.public_numbers()
    assert pendar["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")


def _small_rsa_pem() -> str:
    """A 512-bit RSA public key (too small to accept)."""
    key = rsa.RSAPublicNumbers(65537, (1 << 511) | 0x1235).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


BAD_PEMS = [
    "-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n",
    "garbage",
    "کلید",
]


def test_bad_pem_rejected_with_nothing_written(
    admin: Any, counts: Callable[[], dict[str, int]]
) -> None:
    before = counts()
    for pem in [*BAD_PEMS, _ec_pem(), _small_rsa_pem()]:
        r = admin.post(
            f"{V1}/customers", json={"name": "Bad", "slug": "bad", "pendar_public_key_pem": pem}
        )
        assert r.status_code == 400, (pem, r.text)
        assert r.json()["error"]["code"] == "invalid_input"
    assert counts() == before


BAD_REDIRECTS = [
    "/relative/back",
    "merchant.example/back",
    "https://",
    "https://shop example/back",
    "https://shop.example;script-src */x",
    "https://*.example/x",
    "https://shop.example:99999/x",
    "javascript:alert(1)",
]


def test_payman_redirect_urls_must_have_a_plain_origin(
    admin: Any, make_customer: Make, counts: Callable[[], dict[str, int]]
) -> None:
    """The consent page names the redirect URL's origin in its CSP ``form-action``: a URL without
    one a policy can hold is refused at registration (a browser could never be sent back), on
    create and on update, with nothing written."""
    created = make_customer("shop", payman_redirect_urls=["https://shop.example/back"])
    before = counts()
    for url in BAD_REDIRECTS:
        body = {"name": "Bad", "slug": "bad", "payman_redirect_urls": [url]}
        r = admin.post(f"{V1}/customers", json=body)
        assert (r.status_code, r.json()["error"]["details"]) == (
            400,
            {"payman_redirect_urls": url},
        ), url
        assert r.json()["error"]["code"] == "invalid_input"
        r = admin.patch(
            f"{V1}/customers/shop",
            json={"name": "Renamed", "payman_redirect_urls": ["https://ok.example/", url]},
        )
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_input"), url
    assert counts() == before
    shown = admin.get(f"{V1}/customers/shop").json()
    assert shown["name"] == created["name"]
    assert shown["credentials"]["payman"]["redirect_urls"] == ["https://shop.example/back"]
    for good in ("http://127.0.0.1:8000/cb", "https://[::1]:9443/x", "myapp://payman/done"):
        r = admin.patch(f"{V1}/customers/shop", json={"payman_redirect_urls": [good]})
        assert r.status_code == 200, (good, r.text)


def test_duplicate_slug_is_409_and_writes_nothing(
    admin: Any, make_customer: Make, counts: Callable[[], dict[str, int]]
) -> None:
    make_customer("dup")
    before = counts()
    r = admin.post(f"{V1}/customers", json={"name": "Again", "slug": "dup"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conflict"
    assert counts() == before


def test_duplicate_pendar_code_is_409(admin: Any, make_customer: Make) -> None:
    make_customer("one", pendar_customer_code="555")
    r = admin.post(
        f"{V1}/customers", json={"name": "Two", "slug": "two", "pendar_customer_code": "555"}
    )
    assert r.status_code == 409
    assert admin.get(f"{V1}/customers/two").status_code == 404


def test_generated_codes_are_drawn_again_on_a_clash(
    admin: Any, make_customer: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated Pendar customer codes (4 digits) and Paystar application ids (6) are short:
    one that another customer holds is drawn again, never answered as a conflict."""
    first = make_customer("first", pendar_customer_code="4321")
    taken_app = first["secrets"]["paystar"]["application_id"]
    draws = {4: ["4321", "8765"], 6: [taken_app, "246810"]}
    real = service.new_digits

    def scripted(n: int) -> str:
        return draws[n].pop(0) if draws.get(n) else real(n)

    monkeypatch.setattr(service, "new_digits", scripted)
    second = admin.post(f"{V1}/customers", json={"name": "Second", "slug": "second"})
    assert second.status_code == 201, second.text
    secrets = second.json()["secrets"]
    assert secrets["pendar"]["customer_code"] == "8765"
    assert secrets["paystar"]["application_id"] == "246810"
    assert draws == {4: [], 6: []}


INVALID_CREATE_BODIES: list[Any] = [
    {},
    {"name": ""},
    {"name": "   "},
    {"name": "X", "slug": "Not A Slug"},
    {"name": "X", "unknown_field": 1},
    {"name": "X", "pendar_customer_code": "12ab"},
    {"name": "X", "allowed_ips": "10.0.0.1"},
    [1, 2],
]


def test_invalid_create_bodies_are_400_with_no_writes(
    admin: Any, counts: Callable[[], dict[str, int]]
) -> None:
    before = counts()
    for body in INVALID_CREATE_BODIES:
        r = admin.post(f"{V1}/customers", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == "invalid_input"
    r = admin.post(
        f"{V1}/customers", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"
    assert counts() == before


def test_list_and_show_by_id_or_slug(admin: Any, make_customer: Make) -> None:
    a = make_customer("alpha")
    b = make_customer("beta")
    listed = admin.get(f"{V1}/customers").json()["customers"]
    assert [c["slug"] for c in listed] == ["alpha", "beta"]
    assert all("secrets" not in c for c in listed)
    by_id = admin.get(f"{V1}/customers/{b['id']}").json()
    assert by_id["slug"] == "beta"
    shown = admin.get(f"{V1}/customers/alpha").json()
    assert shown["id"] == a["id"] and "secrets" not in shown
    for secret in _secret_values(a["secrets"]).values():
        assert secret not in str(shown)


UNKNOWN_CUSTOMER_CALLS: list[tuple[str, str, Any]] = [
    ("GET", "/customers/nobody", None),
    ("GET", "/customers/999999", None),
    ("GET", "/customers/99999999999999999999999999", None),
    ("PATCH", "/customers/nobody", {"name": "x"}),
    ("POST", "/customers/nobody/status", {"status": "disabled"}),
    ("POST", "/customers/nobody/rotate", {"surface": "jibit"}),
    ("POST", "/customers/nobody/topup", {"wallet": "jibit.PRF", "amount": 5}),
    ("POST", "/customers/nobody/credit-limit", {"wallet": "jibit.POF", "credit_limit": 5}),
    ("POST", "/customers/nobody/prices", {"surface": "jibit", "service": "x", "price": 1}),
    ("GET", "/customers/nobody/usage", None),
]


def test_unknown_customer_is_404(admin: Any) -> None:
    for method, path, body in UNKNOWN_CUSTOMER_CALLS:
        r = admin.request(method, V1 + path, json=body)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["code"] == "not_found"


ROTATED = {
    "jibit": ["jibit"],
    "paystar": ["paystar_password", "paystar_refresh"],
    "pendar": ["pendar_report"],
    "payman": ["payman"],
}


def test_rotate_replaces_only_that_surfaces_secrets(
    admin: Any, make_customer: Make, runtime: Any
) -> None:
    for surface in ROTATED:
        _rotate_one(admin, make_customer(f"rot-{surface}"), runtime, surface)


def _rotate_one(admin: Any, created: dict[str, Any], runtime: Any, surface: str) -> None:
    old = _secret_values(created["secrets"])
    before = _hashes(runtime, created["id"])
    r = admin.post(f"{V1}/customers/{created['slug']}/rotate", json={"surface": surface})
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body["secrets"]) == [surface]
    new_secrets = body["secrets"][surface]
    after = _hashes(runtime, created["id"])
    new = {
        "jibit": new_secrets.get("secretKey"),
        "paystar_password": new_secrets.get("access_password"),
        "paystar_refresh": new_secrets.get("refresh_token"),
        "pendar_report": new_secrets.get("report_key"),
        "payman": new_secrets.get("client_secret"),
    }
    for name in old:
        if name in ROTATED[surface]:
            assert not verify_secret(old[name], after[name]), name
            assert new[name] and verify_secret(new[name], after[name]), name
        else:
            assert after[name] == before[name], name
    # Identifiers stay: only secrets change.
    if surface == "jibit":
        assert new_secrets["apiKey"] == created["secrets"]["jibit"]["apiKey"]
    if surface == "payman":
        assert new_secrets["client_id"] == created["secrets"]["payman"]["client_id"]
    if surface == "pendar":
        assert new_secrets["public_key_pem"] != created["secrets"]["pendar"]["public_key_pem"]
        assert "private_key_xml" in new_secrets
        stored = body["customer"]["credentials"]["pendar"]["public_key_pem"]
        assert stored == new_secrets["public_key_pem"]


def test_rotate_pendar_with_uploaded_key_and_bad_key(admin: Any, make_customer: Make) -> None:
    make_customer("pk")
    pem = _rsa_pem()
    r = admin.post(
        f"{V1}/customers/pk/rotate", json={"surface": "pendar", "pendar_public_key_pem": pem}
    )
    assert r.status_code == 200
    assert "private_key_pem" not in r.json()["secrets"]["pendar"]
    stored = admin.get(f"{V1}/customers/pk").json()["credentials"]["pendar"]["public_key_pem"]
    r = admin.post(
        f"{V1}/customers/pk/rotate", json={"surface": "pendar", "pendar_public_key_pem": "junk"}
    )
    assert r.status_code == 400
    after = admin.get(f"{V1}/customers/pk").json()["credentials"]["pendar"]["public_key_pem"]
    assert after == stored
    assert admin.post(f"{V1}/customers/pk/rotate", json={"surface": "sepah"}).status_code == 400


def test_disable_and_enable(admin: Any, make_customer: Make) -> None:
    make_customer("st")
    r = admin.post(f"{V1}/customers/st/status", json={"status": "disabled"})
    assert r.status_code == 200 and r.json()["status"] == "disabled"
    assert admin.get(f"{V1}/customers/st").json()["status"] == "disabled"
    r = admin.post(f"{V1}/customers/st/status", json={"status": "active"})
    assert r.json()["status"] == "active"
    assert admin.post(f"{V1}/customers/st/status", json={"status": "gone"}).status_code == 400


def test_update_customer(admin: Any, make_customer: Make) -> None:
    make_customer("up")
    r = admin.patch(
        f"{V1}/customers/up",
        json={
            "name": "Renamed",
            "paystar_services": ["mobile-national-id"],
            "payman_allowed_banks": ["bkmtir"],
            "pendar_settings": {"identity_check": True},
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "Renamed"
    assert body["credentials"]["paystar"]["services"] == ["mobile-national-id"]
    assert body["credentials"]["payman"]["allowed_banks"] == ["BKMTIR"]
    assert body["credentials"]["pendar"]["settings"] == {"identity_check": True}
    r = admin.patch(f"{V1}/customers/up", json={"name": "X", "paystar_services": ["nope"]})
    assert r.status_code == 400
    assert admin.get(f"{V1}/customers/up").json()["name"] == "Renamed"  # nothing half-written


def _wallet(admin: Any, slug: str, name: str) -> dict[str, Any]:
    for w in admin.get(f"{V1}/customers/{slug}").json()["wallets"]:
        if w["wallet"] == name:
            return dict(w)
    raise AssertionError(name)


def _entries(runtime: Any, cid: int, wallet: str) -> list[tuple[int, int, str, str | None]]:
    with runtime.db.read() as conn:
        rows = conn.execute(
            select(
                wallet_entries.c.amount,
                wallet_entries.c.balance_after,
                wallet_entries.c.reason,
                wallet_entries.c.reference,
            )
            .where(wallet_entries.c.customer_id == cid, wallet_entries.c.wallet == wallet)
            .order_by(wallet_entries.c.id)
        ).all()
    return [(int(a), int(b), c, d) for a, b, c, d in rows]


def test_topup_and_adjustments(admin: Any, make_customer: Make, runtime: Any) -> None:
    cid = make_customer("tp")["id"]
    opening = _wallet(admin, "tp", "pendar.credit")["balance"]
    r = admin.post(
        f"{V1}/customers/tp/topup",
        json={"wallet": "pendar.credit", "amount": 2500, "reference": "inv-1"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"wallet": "pendar.credit", "balance": opening + 2500}
    r = admin.post(f"{V1}/customers/tp/topup", json={"wallet": "pendar.credit", "amount": -500})
    assert r.json()["balance"] == opening + 2000
    assert _entries(runtime, cid, "pendar.credit") == [
        (opening, opening, "opening", None),
        (2500, opening + 2500, "topup", "inv-1"),
        (-500, opening + 2000, "adjustment", None),
    ]


REFUSED_TOPUPS: list[dict[str, Any]] = [
    {"wallet": "pendar.credit", "amount": -(10**15)},  # would overdraw
    {"wallet": "jibit.PRF", "amount": 0},
    {"wallet": "nope", "amount": 5},
    {"wallet": "jibit.PRF", "amount": "5x"},
    {"wallet": "jibit.PRF", "amount": 2**63},  # beyond a 64-bit column
    {"wallet": "jibit.PRF", "amount": 10**16},
    {"wallet": "jibit.PRF"},
]


def test_refused_topups_leave_state_unchanged(
    admin: Any, make_customer: Make, counts: Callable[[], dict[str, int]]
) -> None:
    make_customer("tp")
    before_wallets = admin.get(f"{V1}/customers/tp").json()["wallets"]
    before = counts()
    for body in REFUSED_TOPUPS:
        r = admin.post(f"{V1}/customers/tp/topup", json=body)
        assert r.status_code == 400, (body, r.text)
    assert admin.get(f"{V1}/customers/tp").json()["wallets"] == before_wallets
    assert counts() == before


def test_postpaid_wallet_adjusts_within_credit_limit(admin: Any, make_customer: Make) -> None:
    make_customer("pp")
    pof = _wallet(admin, "pp", "jibit.POF")
    assert pof["balance"] == 0 and pof["credit_limit"] > 0
    r = admin.post(
        f"{V1}/customers/pp/credit-limit", json={"wallet": "jibit.POF", "credit_limit": 1000}
    )
    assert r.json() == {"wallet": "jibit.POF", "balance": 0, "credit_limit": 1000}
    ok = admin.post(f"{V1}/customers/pp/topup", json={"wallet": "jibit.POF", "amount": -1000})
    assert ok.status_code == 200 and ok.json()["balance"] == -1000
    over = admin.post(f"{V1}/customers/pp/topup", json={"wallet": "jibit.POF", "amount": -1})
    assert over.status_code == 400
    # The limit cannot be lowered below what is already used.
    r = admin.post(
        f"{V1}/customers/pp/credit-limit", json={"wallet": "jibit.POF", "credit_limit": 999}
    )
    assert r.status_code == 400
    assert _wallet(admin, "pp", "jibit.POF") == {
        "wallet": "jibit.POF",
        "balance": -1000,
        "credit_limit": 1000,
    }
    r = admin.post(
        f"{V1}/customers/pp/credit-limit", json={"wallet": "jibit.PRF", "credit_limit": 5}
    )
    assert r.status_code == 400


def test_prices_and_limits(admin: Any, make_customer: Make) -> None:
    make_customer("pr")
    url = f"{V1}/customers/pr/prices"
    r = admin.post(url, json={"surface": "jibit", "service": "cards", "price": 1200})
    assert r.json() == {
        "surface": "jibit",
        "service": "cards",
        "price": 1200,
        "daily_limit": None,
        "enabled": True,
    }
    r = admin.post(url, json={"surface": "jibit", "service": "cards", "daily_limit": 7})
    assert r.json()["price"] == 1200 and r.json()["daily_limit"] == 7
    r = admin.post(url, json={"surface": "jibit", "service": "cards", "enabled": False})
    assert r.json()["daily_limit"] == 7 and r.json()["enabled"] is False
    r = admin.post(url, json={"surface": "jibit", "service": "cards", "clear_daily_limit": True})
    assert r.json()["daily_limit"] is None
    prices = admin.get(f"{V1}/customers/pr").json()["prices"]
    assert prices == [
        {
            "surface": "jibit",
            "service": "cards",
            "price": 1200,
            "daily_limit": None,
            "enabled": False,
        }
    ]
    for bad in (
        {"surface": "sepah", "service": "x", "price": 1},
        {"surface": "jibit", "service": "", "price": 1},
        {"surface": "jibit", "service": "x", "price": -1},
        {"surface": "jibit", "service": "x", "daily_limit": -1},
        {"surface": "jibit", "service": "x", "daily_limit": 2**40},
        {"surface": "jibit", "service": "x", "price": 2**63 - 1},
    ):
        assert admin.post(url, json=bad).status_code == 400, bad
    assert len(admin.get(f"{V1}/customers/pr").json()["prices"]) == 1
