"""Pendar Koushk: CA hierarchy, registrations, certificates, approvers, payments, CRLs.

Revision ID: 0003_pendar
Revises: 0002_world
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0003_pendar"
down_revision = "0002_world"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pendar_cas",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("subject_dn", sa.Text(), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("key_algorithm", sa.String(length=32), nullable=False),
        sa.Column("signer", sa.String(length=32), nullable=False),
        sa.Column("key_ref", sa.String(length=200), nullable=False),
        sa.Column("key_blob", sa.LargeBinary(), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("crl_number", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["pendar_cas.id"], name=op.f("fk_pendar_cas_parent_id_pendar_cas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pendar_cas")),
        sa.UniqueConstraint("name", name=op.f("uq_pendar_cas_name")),
    )
    op.create_table(
        "pendar_approvers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_pendar_approvers_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pendar_approvers")),
        sa.UniqueConstraint("customer_id", "fingerprint", name="uq_pendar_approvers_customer_fp"),
    )
    op.create_table(
        "pendar_crls",
        sa.Column("ca_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("crl_number", sa.BigInteger(), nullable=False),
        sa.Column("this_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_update", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ca_id"], ["pendar_cas.id"], name=op.f("fk_pendar_crls_ca_id_pendar_cas")
        ),
        sa.PrimaryKeyConstraint("ca_id", name=op.f("pk_pendar_crls")),
    )
    op.create_table(
        "pendar_payments",
        sa.Column("payment_id", sa.String(length=100), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("certificate_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_pendar_payments_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_pendar_payments")),
    )
    op.create_table(
        "pendar_registrations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tracking_code", sa.String(length=20), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ca_name", sa.String(length=32), nullable=False),
        sa.Column("profile_name", sa.String(length=200), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=True),
        sa.Column("subject_dn", sa.Text(), nullable=False),
        sa.Column(
            "person",
            sa.JSON()
            .with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
            .with_variant(sqlite.JSON(), "sqlite"),
            nullable=False,
        ),
        sa.Column("token_type", sa.String(length=16), nullable=False),
        sa.Column("p12_password", sa.LargeBinary(), nullable=True),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("approver", sa.String(length=200), nullable=True),
        sa.Column("approval_method", sa.String(length=16), nullable=True),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_pendar_registrations_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pendar_registrations")),
        sa.UniqueConstraint("subject_key", name=op.f("uq_pendar_registrations_subject_key")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_pendar_registrations_tracking_code")),
    )
    op.create_index(
        "ix_pendar_registrations_customer_registered",
        "pendar_registrations",
        ["customer_id", "registered_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pendar_registrations_national_code"),
        "pendar_registrations",
        ["national_code"],
        unique=False,
    )
    op.create_table(
        "pendar_certificates",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ca_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column(
            "registration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
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
        sa.CheckConstraint(
            "status in ('Issued', 'Revoked')", name=op.f("ck_pendar_certificates_status")
        ),
        sa.ForeignKeyConstraint(
            ["ca_id"], ["pendar_cas.id"], name=op.f("fk_pendar_certificates_ca_id_pendar_cas")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_pendar_certificates_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["pendar_registrations.id"],
            name=op.f("fk_pendar_certificates_registration_id_pendar_registrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pendar_certificates")),
        sa.UniqueConstraint("ca_id", "serial", name="uq_pendar_certificates_ca_serial"),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_pendar_certificates_fingerprint")),
    )
    op.create_index(
        "ix_pendar_certificates_ca_status", "pendar_certificates", ["ca_id", "status"], unique=False
    )
    op.create_index(
        "ix_pendar_certificates_customer_issued",
        "pendar_certificates",
        ["customer_id", "issued_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pendar_certificates_national_code"),
        "pendar_certificates",
        ["national_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pendar_certificates_registration_id"),
        "pendar_certificates",
        ["registration_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pendar_certificates_registration_id"), table_name="pendar_certificates")
    op.drop_index(op.f("ix_pendar_certificates_national_code"), table_name="pendar_certificates")
    op.drop_index("ix_pendar_certificates_customer_issued", table_name="pendar_certificates")
    op.drop_index("ix_pendar_certificates_ca_status", table_name="pendar_certificates")
    op.drop_table("pendar_certificates")
    op.drop_index(op.f("ix_pendar_registrations_national_code"), table_name="pendar_registrations")
    op.drop_index("ix_pendar_registrations_customer_registered", table_name="pendar_registrations")
    op.drop_table("pendar_registrations")
    op.drop_table("pendar_payments")
    op.drop_table("pendar_crls")
    op.drop_table("pendar_approvers")
    op.drop_table("pendar_cas")
