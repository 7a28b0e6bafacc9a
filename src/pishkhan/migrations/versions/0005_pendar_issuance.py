"""Pendar issuance: only the certificate indexes some query needs.

Every issued certificate paid for seven b-trees (the table and six indexes); an index whose
key is random (a fingerprint) dirties one more page per certificate, written to the WAL at
every commit. What the queries need:

- ``uq_pendar_certificates_ca_serial`` (CRL, OCSP, revocation and confirmation lookups) and
  ``ix_pendar_certificates_national_code`` (active-certificate check, GetAllCert,
  GetAllMobileCert, GetUserCertHistory) and ``ix_pendar_certificates_customer_issued``
  (IssuingReport) stay;
- ``uq_pendar_certificates_fingerprint`` goes: the fingerprint is SHA-256 of the DER, which
  holds the issuer and the serial, already unique; the one lookup by fingerprint (an approver's
  certificate issued here) now goes through (issuer, serial);
- ``ix_pendar_certificates_registration_id`` goes: a certificate carries its registration's
  national code, so the lookups by registration are lookups by national code;
- ``ix_pendar_certificates_ca_status`` becomes ``ix_pendar_certificates_revoked``, a partial
  index on ``ca_id`` of the revoked certificates (the CRL's query), untouched by issuance.

Revision ID: 0005_pendar_issuance
Revises: 0004_payman
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_pendar_issuance"
down_revision = "0004_payman"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REVOKED = "status = 'Revoked'"


def _certificates() -> sa.Table:
    """``pendar_certificates`` as 0003 created it, with the indexes that stay (for SQLite's
    table rebuild, which recreates the indexes of this definition)."""
    return sa.Table(
        "pendar_certificates",
        sa.MetaData(),
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("ca_id", BIGID, nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("registration_id", BIGID, nullable=False),
        sa.Column("customer_id", BIGID, nullable=False),
        sa.Column("ca_name", sa.String(length=32), nullable=False),
        sa.Column("profile_name", sa.String(length=200), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("subject_dn", sa.Text(), nullable=False),
        sa.Column("cn", sa.String(length=200), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("csr", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.String(length=100), nullable=True),
        sa.CheckConstraint("status in ('Issued', 'Revoked')", name="ck_pendar_certificates_status"),
        sa.ForeignKeyConstraint(
            ["ca_id"], ["pendar_cas.id"], name="fk_pendar_certificates_ca_id_pendar_cas"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_pendar_certificates_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["pendar_registrations.id"],
            name="fk_pendar_certificates_registration_id_pendar_registrations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pendar_certificates"),
        sa.UniqueConstraint("ca_id", "serial", name="uq_pendar_certificates_ca_serial"),
        sa.UniqueConstraint("fingerprint", name="uq_pendar_certificates_fingerprint"),
        sa.Index("ix_pendar_certificates_customer_issued", "customer_id", "issued_at"),
        sa.Index("ix_pendar_certificates_national_code", "national_code"),
    )


def upgrade() -> None:
    op.drop_index("ix_pendar_certificates_registration_id", table_name="pendar_certificates")
    op.drop_index("ix_pendar_certificates_ca_status", table_name="pendar_certificates")
    # SQLite rebuilds the table (its indexes are dropped and recreated with it).
    with op.batch_alter_table("pendar_certificates", copy_from=_certificates()) as batch:
        batch.drop_constraint("uq_pendar_certificates_fingerprint", type_="unique")
    op.create_index(
        "ix_pendar_certificates_revoked",
        "pendar_certificates",
        ["ca_id"],
        unique=False,
        sqlite_where=sa.text(REVOKED),
        postgresql_where=sa.text(REVOKED),
    )


def downgrade() -> None:
    op.drop_index("ix_pendar_certificates_revoked", table_name="pendar_certificates")
    table = _certificates()
    table.constraints = {
        c
        for c in table.constraints
        if c.name != "uq_pendar_certificates_fingerprint"  # not there before the rebuild
    }
    with op.batch_alter_table("pendar_certificates", copy_from=table) as batch:
        batch.create_unique_constraint("uq_pendar_certificates_fingerprint", ["fingerprint"])
    op.create_index(
        "ix_pendar_certificates_ca_status", "pendar_certificates", ["ca_id", "status"], unique=False
    )
    op.create_index(
        "ix_pendar_certificates_registration_id",
        "pendar_certificates",
        ["registration_id"],
        unique=False,
    )
