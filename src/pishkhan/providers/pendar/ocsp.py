"""The OCSP responder (RFC 6960): one per CA, signed by the CA's own key through its signer.

The BasicOCSPResponse is encoded by :mod:`.der` (one SingleResponse, responderID by key hash,
the request's nonce echoed) and signed with :meth:`LoadedCA.sign`.

Requests arrive as ``POST /pki/<ca>/ocsp`` (``application/ocsp-request``) or
``GET /pki/<ca>/ocsp/<base64 request>``. The CertID is matched by its issuer name and key hashes
(any of SHA-1/256/384/512), so a request for another CA's certificate is answered
``unauthorized``; serials this CA never issued are ``unknown``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from . import der
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
# CertID hashAlgorithm as OpenSSL writes it (NULL parameters), echoed in the response.
_HASH_ALGORITHMS: dict[str, bytes] = {
    name: der.seq(der.oid(dotted), der.tlv(der.NULL, b""))
    for name, dotted in (
        ("sha1", "1.3.14.3.2.26"),
        ("sha256", "2.16.840.1.101.3.4.2.1"),
        ("sha384", "2.16.840.1.101.3.4.2.2"),
        ("sha512", "2.16.840.1.101.3.4.2.3"),
    )
}
_OID_BASIC = "1.3.6.1.5.5.7.48.1.1"


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
    if algorithm not in _HASH_ALGORITHMS or ca.issuer_hashes.get(algorithm) != (
        name_hash,
        key_hash,
    ):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
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
    if row is None:
        status = der.tlv(0x82, b"")  # unknown [2] IMPLICIT NULL
    elif row[0] == "Revoked":
        revoked_at = row[1] if row[1].tzinfo else row[1].replace(tzinfo=UTC)
        reason = row[2]
        status = der.tlv(
            0xA1,  # revoked [1] IMPLICIT RevokedInfo
            der.generalized_time(revoked_at)
            + (
                der.explicit(0, der.tlv(der.ENUMERATED, bytes((reason,))))
                if reason is not None and reason in REASONS
                else b""
            ),
        )
    else:
        status = der.tlv(0x80, b"")  # good [0] IMPLICIT NULL
    try:
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value
    except x509.ExtensionNotFound:
        nonce = None
    single = der.seq(
        der.seq(
            _HASH_ALGORITHMS[algorithm],
            der.octets(name_hash),
            der.octets(key_hash),
            der.integer(serial),
        ),
        status,
        der.generalized_time(this_update),
        der.explicit(0, der.generalized_time(this_update + RESPONSE_LIFETIME)),
    )
    response_data = der.seq(
        der.explicit(2, der.octets(ca.issuer_hashes["sha1"][1])),  # responderID byKey
        der.generalized_time(this_update),
        der.seq(single),
        der.explicit(1, der.seq(der.extension(nonce))) if nonce is not None else b"",
    )
    basic = ca.sign(response_data)
    return der.seq(
        der.tlv(der.ENUMERATED, b"\x00"),  # successful
        der.explicit(0, der.seq(der.oid(_OID_BASIC), der.octets(basic))),
    )
