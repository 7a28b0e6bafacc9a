"""Payman credentials: the App-Key stored hashed, an integer credential generation, and the
credential epoch every process checks its credential caches against.

- ``payman_clients.app_key`` held the App-Key in clear, where every other secret is kept as
  ``sha256$<hex>`` (``pishkhan.core.ids.hash_secret``). It becomes ``app_key_hash``; existing
  keys are hashed here, so they keep working and are never shown again (a rotation issues a
  new one).
- ``payman_clients.generation``: the credential generation access tokens carry (it was the
  rotation time in whole seconds, so a rotation in the same second left older tokens valid).
  Existing clients start at 1; tokens issued before this migration carry a timestamp and are
  refused from now on (clients ask for a new one, as after a rotation).
- ``credential_epoch``: one row whose ``version`` every change of a customer's credentials or
  status increments (``pishkhan.tenants.credentials``); starts at 1.

A downgrade cannot give the App-Keys back in clear: it puts a new random key in each row (rotate
the client to see one).

Revision ID: 0013_payman_credentials
Revises: 0012_deployment_secrets
"""

from __future__ import annotations

import hashlib
import secrets
import string

import sqlalchemy as sa
from alembic import op

revision = "0013_payman_credentials"
down_revision = "0012_deployment_secrets"
branch_labels = None
depends_on = None


def _hash(secret: str) -> str:
    """``pishkhan.core.ids.hash_secret`` as of this revision."""
    return "sha256$" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def upgrade() -> None:
    op.create_table(
        "credential_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_epoch")),
    )
    op.execute("INSERT INTO credential_epoch (id, version) VALUES (1, 1)")
    op.add_column("payman_clients", sa.Column("app_key_hash", sa.String(80), nullable=True))
    op.add_column("payman_clients", sa.Column("generation", sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT customer_id, app_key FROM payman_clients")).all()
    for customer_id, app_key in rows:
        conn.execute(
            sa.text(
                "UPDATE payman_clients SET app_key_hash = :h, generation = 1 WHERE customer_id = :c"
            ),
            {"h": _hash(app_key), "c": customer_id},
        )
    with op.batch_alter_table("payman_clients") as batch:
        batch.drop_constraint("uq_payman_clients_app_key", type_="unique")
        batch.drop_column("app_key")
        batch.alter_column("app_key_hash", existing_type=sa.String(80), nullable=False)
        batch.alter_column("generation", existing_type=sa.BigInteger(), nullable=False)
        batch.create_unique_constraint("uq_payman_clients_app_key_hash", ["app_key_hash"])


def downgrade() -> None:
    op.add_column("payman_clients", sa.Column("app_key", sa.String(64), nullable=True))
    conn = op.get_bind()
    alphabet = string.ascii_letters + string.digits
    for (customer_id,) in conn.execute(sa.text("SELECT customer_id FROM payman_clients")).all():
        conn.execute(
            sa.text("UPDATE payman_clients SET app_key = :k WHERE customer_id = :c"),
            {"k": "".join(secrets.choice(alphabet) for _ in range(32)), "c": customer_id},
        )
    with op.batch_alter_table("payman_clients") as batch:
        batch.drop_constraint("uq_payman_clients_app_key_hash", type_="unique")
        batch.drop_column("app_key_hash")
        batch.drop_column("generation")
        batch.alter_column("app_key", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_payman_clients_app_key", ["app_key"])
    op.drop_table("credential_epoch")
