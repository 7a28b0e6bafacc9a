"""``pishkhan pendar ...`` drives the same operations as the admin API, on the local database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pendar.support import TEST_CA, TEST_PROFILE, Customer, pem, self_signed
from pishkhan.cli import main
from pishkhan.providers.pendar import ca as ca_mod
from pishkhan.runtime import Runtime


@pytest.fixture
def cli(
    runtime: Runtime, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:  # fmt: skip
    monkeypatch.setenv("PISHKHAN_DATABASE_URL", db_url)
    monkeypatch.setenv("PISHKHAN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("PISHKHAN_TOKEN_SECRET", runtime.settings.token_secret)
    monkeypatch.setenv("PISHKHAN_PENDAR_CA_KEY", "ec-p256")

    def run(*argv: str, status: int = 0) -> Any:
        capsys.readouterr()
        assert main(list(argv)) == status
        out = capsys.readouterr()
        if "--json" in argv:
            return json.loads(out.out)
        return out.out + out.err

    return run


def test_cas_table_and_json(cli: Any, customer: Customer) -> None:
    table = cli("pendar", "cas")
    assert "NAME" in table and "AVAILABLE" in table and "01" in table and "08" in table
    cas = cli("pendar", "cas", "--json")
    assert {c["name"] for c in cas} == {"root", "01", "08", "05"}
    profiles = cli("pendar", "ca-profiles", TEST_CA, "--json")
    assert TEST_PROFILE in {p["ProfileName"] for p in profiles}


def test_availability_drives_is_available(cli: Any, customer: Customer) -> None:
    assert cli("pendar", "available", TEST_CA, "off", "--json") == {
        "name": TEST_CA,
        "available": False,
    }
    body = customer.get("IsAvailable", {"caName": TEST_CA}).json()
    assert body["IsAvailable"] is False
    cli("pendar", "available", TEST_CA, "on")
    assert customer.get("IsAvailable", {"caName": TEST_CA}).json()["IsAvailable"] is True


def test_grant_and_revoke_grant(cli: Any, customer: Customer) -> None:
    shown = cli("pendar", "grant", customer.slug, "05", "--json")
    assert shown["cas"] == {TEST_CA: ["*"], "05": ["*"]}
    shown = cli("pendar", "grant", customer.slug, TEST_CA, TEST_PROFILE, "--json")
    assert shown["cas"][TEST_CA] == [TEST_PROFILE]
    shown = cli("pendar", "revoke-grant", customer.slug, "05", "--json")
    assert shown["cas"] == {TEST_CA: [TEST_PROFILE]}
    body = customer.get("GetCAList", {"customercode": customer.code}).json()
    assert body["CAList"] == [TEST_CA]
    # clear errors, exit status 2
    assert "no profiles" in cli("pendar", "grant", customer.slug, TEST_CA, "nope", status=2)
    assert "unknown CA" in cli("pendar", "grant", customer.slug, "99", status=2)
    assert "not granted" in cli("pendar", "revoke-grant", customer.slug, "08", status=2)


def test_switches(cli: Any, customer: Customer) -> None:
    shown = cli("pendar", "set", customer.slug, "identity_check", "on", "--json")
    assert shown["identity_check"] is True and shown["fill_names"] is False
    text = cli("pendar", "show", customer.slug)
    assert "identity_check" in text and "grants:" in text


def test_approver_add_and_revoke(cli: Any, customer: Customer, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert_path = tmp_path / "approver.pem"
    cert_path.write_text(pem(self_signed(key, "Approver")))
    added = cli("pendar", "approver", "add", customer.slug, str(cert_path), "--json")
    assert added["subject"] == "CN=Approver"
    fp = added["fingerprint"]
    assert "already registered" in cli(
        "pendar", "approver", "add", customer.slug, str(cert_path), status=2
    )
    shown = cli("pendar", "show", customer.slug, "--json")
    assert shown["approvers"] == [{"fingerprint": fp, "name": "CN=Approver", "revoked": False}]
    assert cli("pendar", "approver", "revoke", customer.slug, fp, "--json")["revoked"] is True
    assert cli("pendar", "approver", "revoke", customer.slug, fp, "--undo", "--json") == {
        "fingerprint": fp,
        "revoked": False,
    }
    assert "no such approver" in cli(
        "pendar", "approver", "revoke", customer.slug, "00" * 32, status=2
    )
    missing = tmp_path / "missing.pem"
    assert "cannot read" in cli("pendar", "approver", "add", customer.slug, str(missing), status=2)


def test_crl_and_payment(cli: Any, customer: Customer, runtime: Runtime) -> None:
    first = cli("pendar", "crl", TEST_CA, "--json")
    second = cli("pendar", "crl", TEST_CA, "--json")
    assert second["crl_number"] == first["crl_number"] + 1
    assert second["url"] == ca_mod.hierarchy(runtime).cas[TEST_CA].urls()["crl"]
    assert "no CA named" in cli("pendar", "crl", "77", status=2)
    paid = cli("pendar", "payment", "add", customer.slug, "PAY-1", "50000", "--json")
    assert paid == {"payment_id": "PAY-1", "amount": 50000}
    assert "already exists" in cli(
        "pendar", "payment", "add", customer.slug, "PAY-1", "1", status=2
    )
