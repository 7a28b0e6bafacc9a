"""A Payman transaction refers to its mandate by (customer_id, mandate_id), not to customers.

``payman_transactions.customer_id`` had a foreign key to ``customers``: every pay's insert took
a FOR KEY SHARE lock on its merchant's ``customers`` row, one row shared by all the merchant's
concurrent pays. On PostgreSQL concurrent lockers of one row are recorded as a MultiXact, so
every pay created one (~6.5 members each, measured: 135,402 MultiXacts after ~130,000 pays),
and under load PostgreSQL's CPU per pay grew within a run (1.3 to 5.5 ms, the whole machine)
until the pays crawled. Now the transaction's (customer_id, mandate_id) refers to the mandate's
(customer_id, id): the pay's only referenced row is its mandate, which it already holds FOR
UPDATE, and the transaction's customer must be its mandate's (before, nothing in the schema
said so), whose own foreign key refers to ``customers``. The unique (customer_id, id) of
``payman_mandates`` replaces the index on the same columns.

Revision ID: 0009_payman_transaction_fk
Revises: 0008_pendar_registration_subject
"""

from __future__ import annotations

from alembic import op

revision = "0009_payman_transaction_fk"
down_revision = "0008_pendar_registration_subject"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payman_mandates") as batch:
        batch.drop_index("ix_payman_mandates_customer")
        batch.create_unique_constraint("uq_payman_mandates_customer_mandate", ["customer_id", "id"])
    with op.batch_alter_table("payman_transactions") as batch:
        batch.drop_constraint("fk_payman_transactions_customer_id_customers", type_="foreignkey")
        batch.drop_constraint(
            "fk_payman_transactions_mandate_id_payman_mandates", type_="foreignkey"
        )
        batch.create_foreign_key(
            "fk_payman_transactions_mandate",
            "payman_mandates",
            ["customer_id", "mandate_id"],
            ["customer_id", "id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("payman_transactions") as batch:
        batch.drop_constraint("fk_payman_transactions_mandate", type_="foreignkey")
        batch.create_foreign_key(
            "fk_payman_transactions_mandate_id_payman_mandates",
            "payman_mandates",
            ["mandate_id"],
            ["id"],
        )
        batch.create_foreign_key(
            "fk_payman_transactions_customer_id_customers", "customers", ["customer_id"], ["id"]
        )
    with op.batch_alter_table("payman_mandates") as batch:
        batch.drop_constraint("uq_payman_mandates_customer_mandate", type_="unique")
        batch.create_index("ix_payman_mandates_customer", ["customer_id", "id"])
