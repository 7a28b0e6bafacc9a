"""Pendar tables: the CA hierarchy, registrations, certificates, approvals, payments, CRLs."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from pishkhan.core.db import BigIntPK, JSONType, metadata

# One row per CA (the root and its intermediates). The private key is held by a signer;
# ``key_ref`` names it and ``key_blob`` holds it encrypted (software signer, see signer.py).
pendar_cas = Table(
    "pendar_cas",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("name", String(32), nullable=False, unique=True),
    Column("parent_id", ForeignKey("pendar_cas.id"), nullable=True),
    Column("title", String(200), nullable=False),
    Column("subject_dn", Text, nullable=False),
    Column("certificate_der", LargeBinary, nullable=False),
    Column("key_algorithm", String(32), nullable=False),
    Column("signer", String(32), nullable=False),
    Column("key_ref", String(200), nullable=False),
    Column("key_blob", LargeBinary, nullable=True),
    Column("available", Boolean, nullable=False),
    # Last CRL number issued (strictly increasing; bumped with a conditional UPDATE).
    Column("crl_number", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The current CRL of each CA (regenerated in the transaction of every revocation).
pendar_crls = Table(
    "pendar_crls",
    metadata,
    Column("ca_id", ForeignKey("pendar_cas.id"), primary_key=True),
    Column("crl_number", BigInteger, nullable=False),
    Column("this_update", DateTime(timezone=True), nullable=False),
    Column("next_update", DateTime(timezone=True), nullable=False),
    Column("der", LargeBinary, nullable=False),
)

# An applicant registered by a customer (RegisterInfo): the identity and its tracking code.
pendar_registrations = Table(
    "pendar_registrations",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("tracking_code", String(20), nullable=False, unique=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("ca_name", String(32), nullable=False),
    Column("profile_name", String(200), nullable=False),
    Column("national_code", String(10), nullable=False, index=True),
    # sha256(customer, CA, subject DN): tracking codes are stable per subject DN (not on the
    # government CA, where every registration gets a new code and this is NULL).
    Column("subject_key", String(64), nullable=True, unique=True),
    Column("subject_dn", Text, nullable=False),
    # the subject's Name DER and CN as RegisterInfo built them (NULL before migration 0008)
    Column("subject_der", LargeBinary, nullable=True),
    Column("subject_cn", String(200), nullable=True),
    Column("person", JSONType, nullable=False),
    Column("token_type", String(16), nullable=False),
    Column("p12_password", LargeBinary, nullable=True),
    Column("approval_required", Boolean, nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("approver", String(200), nullable=True),
    Column("approval_method", String(16), nullable=True),
    Column("order_id", String(100), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_pendar_registrations_customer_registered", "customer_id", "registered_at"),
)

#: The partial index's condition (also spelled out, literally, by the queries using it).
REVOKED = "status = 'Revoked'"

# Issued certificates, keyed by (issuer, serial). ``id`` is the report row id.
pendar_certificates = Table(
    "pendar_certificates",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("ca_id", ForeignKey("pendar_cas.id"), nullable=False),
    Column("serial", String(40), nullable=False),
    # No index: a certificate's national code is its registration's, so certificates are looked
    # up by national code (and registration) instead (migration 0005).
    Column("registration_id", ForeignKey("pendar_registrations.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("ca_name", String(32), nullable=False),
    Column("profile_name", String(200), nullable=False),
    Column("national_code", String(10), nullable=False, index=True),
    Column("subject_dn", Text, nullable=False),
    Column("cn", String(200), nullable=False),
    Column("der", LargeBinary, nullable=False),
    Column("csr", Text, nullable=True),
    # SHA-256 of ``der`` (unique with (ca_id, serial); not indexed, see migration 0005).
    Column("fingerprint", String(64), nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=False),
    Column("not_after", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoke_reason", Integer, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=True),
    Column("price", BigInteger, nullable=False),
    Column("payment_id", String(100), nullable=True),
    UniqueConstraint("ca_id", "serial", name="uq_pendar_certificates_ca_serial"),
    CheckConstraint("status in ('Issued', 'Revoked')", name="status"),
    Index("ix_pendar_certificates_customer_issued", "customer_id", "issued_at"),
    # The CRL's revoked certificates of a CA; issuing an ('Issued') certificate leaves it alone.
    # Queries must spell the condition as a literal for the planners to use it (see crl.py).
    Index(
        "ix_pendar_certificates_revoked",
        "ca_id",
        sqlite_where=text(REVOKED),
        postgresql_where=text(REVOKED),
    ),
)

# Certificates of the people who may sign approval letters (RequestApprove) for a customer.
pendar_approvers = Table(
    "pendar_approvers",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("certificate_der", LargeBinary, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("customer_id", "fingerprint", name="uq_pendar_approvers_customer_fp"),
)

# Payments made outside the credit wallet (IssueCertificateByTrackingCode ``paymentId``).
pendar_payments = Table(
    "pendar_payments",
    metadata,
    Column("payment_id", String(100), primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("certificate_id", BigInteger, nullable=True),
)
