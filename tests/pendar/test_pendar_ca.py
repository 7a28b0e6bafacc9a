"""The CA over real HTTP: ``openssl verify -crl_check`` and ``openssl ocsp`` against a live
server agree with the database; CRL numbers increase; keys are encrypted at rest; a CRL with
100,000 entries is built and signed in under 2 s."""

from __future__ import annotations

import base64
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from pendar.support import make_customer
from pishkhan.providers.pendar import ca as ca_mod
from pishkhan.providers.pendar import crl as crl_mod
from pishkhan.providers.pendar.signer import KeyEncryptor, SoftwareSigner, generate_key
from pishkhan.providers.pendar.tables import pendar_cas


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def _crl_number(der: bytes) -> int:
    crl = x509.load_der_x509_crl(der)
    return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)


def test_openssl_verify_and_ocsp_agree_with_the_database(
    db_url: str, live_server_factory: Any, openssl_keys: Any, tmp_path: Path
) -> None:
    server = live_server_factory(
        db_url,
        workers=1,
        extra_env={"PISHKHAN_SURFACES": "pendar", "PISHKHAN_PENDAR_CA_KEY": "ec-p256"},
    )
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        customer = make_customer(http, openssl_keys[0], "Live")
        tc = customer.register()
        cert_a = customer.issue(tc)["Certificate"]
        tc_b = customer.register({**_person_b()})
        cert_b = customer.issue(tc_b)["Certificate"]
        files: dict[str, Path] = {}
        for name, b64 in (("a", cert_a), ("b", cert_b)):
            der = base64.b64decode(b64)
            files[name] = tmp_path / f"{name}.pem"
            files[name].write_bytes(
                x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
            )
        root = tmp_path / "root.pem"
        root.write_bytes(http.get("/pki/root/ca.pem").content)
        inter = tmp_path / "01.pem"
        inter.write_bytes(http.get("/pki/01/ca.pem").content)
        assert http.get("/pki/01/ca.crt").headers["content-type"] == "application/pkix-cert"

        def crl() -> tuple[Path, int]:
            r = http.get("/pki/01/crl")
            assert r.headers["content-type"] == "application/pkix-crl"
            path = tmp_path / f"crl-{time.monotonic_ns()}.der"
            path.write_bytes(r.content)
            pem_path = path.with_suffix(".pem")
            conv = _openssl("crl", "-inform", "DER", "-in", str(path), "-out", str(pem_path))
            assert conv.returncode == 0, conv.stderr
            return pem_path, _crl_number(r.content)

        def verify(cert: Path, crl_file: Path) -> subprocess.CompletedProcess[str]:
            return _openssl(
                "verify",
                "-crl_check",
                "-CAfile",
                str(root),
                "-untrusted",
                str(inter),
                "-CRLfile",
                str(crl_file),
                str(cert),
            )

        def ocsp(cert: Path | None, serial: str | None = None) -> str:
            target = ["-cert", str(cert)] if cert else ["-serial", serial or "0x1"]
            out = _openssl(
                "ocsp",
                "-issuer",
                str(inter),
                *target,
                "-url",
                f"{server.base_url}/pki/01/ocsp",
                "-CAfile",
                str(root),
                "-verify_other",
                str(inter),
            )
            assert "Response verify OK" in out.stderr, out.stderr + out.stdout
            return out.stdout

        crl1, n1 = crl()
        assert verify(files["a"], crl1).returncode == 0
        assert ": good" in ocsp(files["a"])
        assert ": unknown" in ocsp(None, "0x1234")

        revoked = customer.post("RevokeCertificate", customer.revoke_body(cert_a, 1)).json()
        assert revoked["IsSuccess"] is True
        crl2, n2 = crl()
        assert n2 > n1
        bad = verify(files["a"], crl2)
        assert bad.returncode != 0 and "certificate revoked" in bad.stdout + bad.stderr
        assert verify(files["b"], crl2).returncode == 0
        status = ocsp(files["a"])
        assert ": revoked" in status and "Reason: keyCompromise" in status
        assert ": good" in ocsp(files["b"])
        # GET form of OCSP (RFC 6960 appendix A) answers the same
        req = _openssl(
            "ocsp",
            "-issuer",
            str(inter),
            "-cert",
            str(files["b"]),
            "-reqout",
            str(tmp_path / "req.der"),
            "-no_nonce",
        )
        assert req.returncode == 0
        encoded = base64.b64encode((tmp_path / "req.der").read_bytes()).decode()
        r = http.get(f"/pki/01/ocsp/{encoded}")
        assert r.headers["content-type"] == "application/ocsp-response"
        from cryptography.x509 import ocsp as x509_ocsp

        resp = x509_ocsp.load_der_ocsp_response(r.content)
        assert resp.certificate_status == x509_ocsp.OCSPCertStatus.GOOD


def _person_b() -> dict[str, Any]:
    from pendar.support import MARYAM

    return MARYAM


def test_ca_keys_are_encrypted_at_rest(runtime: Any) -> None:
    h = ca_mod.hierarchy(runtime)
    with runtime.db.read() as conn:
        rows = list(conn.execute(select(pendar_cas)).mappings())
    assert {r["name"] for r in rows} == {"root", "01", "08", "05"}
    test_ca = h.get("01")
    assert test_ca is not None and test_ca.parent is h.get("root")
    row = next(r for r in rows if r["name"] == "01")
    plain = KeyEncryptor(runtime.settings.token_secret).open(bytes(row["key_blob"]))
    key = serialization.load_der_private_key(plain, password=None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(
        serialization.Encoding.DER, spki
    ) == test_ca.certificate.public_key().public_bytes(serialization.Encoding.DER, spki)
    assert plain not in bytes(row["key_blob"])
    assert not hasattr(test_ca.signer, "private_key")  # only sign() leaves the signer
    with pytest.raises(Exception):  # noqa: B017 - any AEAD failure
        KeyEncryptor("another secret").open(bytes(row["key_blob"]))
    # Every intermediate is signed by the root and may not sign other CAs.
    for name in ("01", "08", "05"):
        loaded = h.get(name)
        assert loaded is not None
        loaded.certificate.verify_directly_issued_by(h.cas["root"].certificate)
        bc = loaded.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        assert bc.ca and bc.path_length == 0


def test_crl_with_100k_entries(runtime: Any) -> None:
    """A CRL of 100,000 entries is well formed and signed (its timing: bench/crl_100k.py)."""
    h = ca_mod.hierarchy(runtime)
    loaded = h.get("01")
    assert loaded is not None
    key = generate_key("rsa-2048")
    rsa_ca = ca_mod.LoadedCA(
        loaded.id,
        "01",
        loaded.definition,
        loaded.certificate,
        loaded.der,
        SoftwareSigner(key, "bench"),
        None,
        "http://x",
    )
    now = datetime.now(UTC).replace(microsecond=0)
    entries = [(0x1000000 + i, now, (i % 5) or None) for i in range(100_000)]
    der = crl_mod.build(rsa_ca, 7, now, entries)
    parsed = x509.load_der_x509_crl(der)
    assert len(parsed) == 100_000
    assert parsed.is_signature_valid(key.public_key())
    assert parsed.get_revoked_certificate_by_serial_number(0x1000003) is not None
