"""The OCSP responder (RFC 6960): one per CA, signed by the CA's own key.

Requests arrive as ``POST /pki/<ca>/ocsp`` (``application/ocsp-request``) or
``GET /pki/<ca>/ocsp/<base64 request>``. The CertID is matched by its issuer name and key hashes
(any of SHA-1/256/384/512), so a request for another CA's certificate is answered
``unauthorized``; serials this CA never issued are ``unknown``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from .ca import LoadedCA, serial_hex
from .tables import pendar_certificates

RESPONSE_LIFETIME = timedelta(hours=1)

REASONS: dict[int, x509.ReasonFlags] = {
    0: x509.ReasonFlags.unspecified,
    1: x509.ReasonFlags.key_compromise,
    2: x509.ReasonFlags.ca_compromise,
    3: x509.ReasonFlags.affiliation_changed,
    4: x509.ReasonFlags.superseded,
    5: x509.ReasonFlags.cessation_of_operation,
    6: x509.ReasonFlags.certificate_hold,
    8: x509.ReasonFlags.remove_from_crl,
    9: x509.ReasonFlags.privilege_withdrawn,
    10: x509.ReasonFlags.aa_compromise,
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


def respond(conn: Connection, ca: LoadedCA, request_der: bytes, now: datetime) -> bytes:
    """A DER OCSPResponse for one DER OCSPRequest."""
    try:
        req = ocsp.load_der_ocsp_request(request_der)
        algorithm = req.hash_algorithm.name
        name_hash, key_hash, serial = req.issuer_name_hash, req.issuer_key_hash, req.serial_number
    except (ValueError, TypeError):
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if algorithm not in _HASHES or ca.issuer_hashes.get(algorithm) != (name_hash, key_hash):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    key = ca.signer.private_key
    if key is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR)
    row = conn.execute(
        select(
            pendar_certificates.c.status,
            pendar_certificates.c.revoked_at,
            pendar_certificates.c.revoke_reason,
        ).where(
            and_(
                pendar_certificates.c.ca_id == ca.id,
                pendar_certificates.c.serial == serial_hex(serial),
            )
        )
    ).first()
    this_update = now.astimezone(UTC).replace(microsecond=0)
    revocation_time: datetime | None = None
    revocation_reason: x509.ReasonFlags | None = None
    if row is None:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif row[0] == "Revoked":
        status = ocsp.OCSPCertStatus.REVOKED
        revocation_time = row[1] if row[1].tzinfo else row[1].replace(tzinfo=UTC)
        revocation_reason = REASONS.get(row[2] or 0)
    else:
        status = ocsp.OCSPCertStatus.GOOD
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            name_hash,
            key_hash,
            serial,
            _HASHES[algorithm](),
            status,
            this_update,
            this_update + RESPONSE_LIFETIME,
            revocation_time,
            revocation_reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca.certificate)
    )
    try:
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value
    except x509.ExtensionNotFound:
        nonce = None
    if nonce is not None:
        builder = builder.add_extension(nonce, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
