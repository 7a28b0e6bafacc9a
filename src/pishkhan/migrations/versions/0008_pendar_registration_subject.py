"""Pendar registrations keep their certificate subject encoded (DER and CN beside the DN).

RegisterInfo already builds the subject from the registered identity and the profile (its DN
keys the stable tracking code); IssueCertificateByTrackingCode built it again from the stored
person. With the DER and the CN stored, an issuance under the registration's own profile takes
the subject as registered (the identity the RA checked and an approver approved) and the
active-certificate check for that subject joins the registration's read. Rows registered
before this revision have NULLs and are built from the person as before.

Revision ID: 0008_pendar_registration_subject
Revises: 0007_audit_hash_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_pendar_registration_subject"
down_revision = "0007_audit_hash_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("pendar_registrations", sa.Column("subject_der", sa.LargeBinary(), nullable=True))
    op.add_column(
        "pendar_registrations", sa.Column("subject_cn", sa.String(length=200), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("pendar_registrations") as batch:
        batch.drop_column("subject_cn")
        batch.drop_column("subject_der")
