"""The world: the reference registry the inquiries answer from.

Revision ID: 0002_world
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pishkhan.core.db import JSONType

revision = "0002_world"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


GENDERS = ("MALE", "FEMALE")
CARD_TYPES = (
    "DEBIT",
    "CREDIT",
    "SPECIAL",
    "GIFT_CARD",
    "ONLINE_PREPAID",
    "E_MONEY",
    "INSTALLMENT_CARD",
    "UNKNOWN",
)
CARD_STATUSES = (
    "ACTIVE",
    "LOST",
    "STOLEN",
    "EXPIRED",
    "INACTIVE",
    "BLACKLISTED",
    "OWNER_NOT_AUTHORIZED",
    "ACCOUNT_NOT_VALID",
)
DEPOSIT_STATUSES = ("ACTIVE", "BLOCK_WITH_DEPOSIT", "BLOCK_WITHOUT_DEPOSIT", "IDLE", "UNKNOWN")
ACCOUNT_TYPES = ("SAVINGS", "SHORT_TERM", "LONG_TERM", "CURRENT", "GHARZOLHASANEH")
OWNER_TYPES = ("PERSON", "LEGAL")
OPERATORS = ("MCI", "MTN_IRANCELL", "RIGHTEL", "OTHER")
FOREIGNER_GENDERS = ("MALE", "FEMALE", "UNKNOWN")


def upgrade() -> None:
    op.create_table(
        "world_people",
        sa.Column("national_code", sa.String(10), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("first_name_en", sa.String(100), nullable=False),
        sa.Column("last_name_en", sa.String(100), nullable=False),
        sa.Column("father_name", sa.String(100), nullable=False),
        sa.Column("father_name_en", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.String(8), nullable=False),
        sa.Column("gender", sa.String(6), nullable=False),
        sa.Column("alive", sa.Boolean(), nullable=False),
        sa.Column("death_date", sa.String(8), nullable=True),
        sa.Column("birth_certificate_number", sa.String(10), nullable=False),
        sa.Column("birth_place", sa.String(100), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=True),
        sa.Column("blacklisted", sa.Boolean(), nullable=False),
        sa.CheckConstraint(_in("gender", GENDERS), name=op.f("ck_world_people_gender")),
        sa.PrimaryKeyConstraint("national_code", name=op.f("pk_world_people")),
    )
    op.create_table(
        "world_sims",
        sa.Column("mobile", sa.String(11), nullable=False),
        sa.Column("national_code", sa.String(10), nullable=False),
        sa.Column("operator", sa.String(16), nullable=False),
        sa.Column("blacklisted", sa.Boolean(), nullable=False),
        sa.CheckConstraint(_in("operator", OPERATORS), name=op.f("ck_world_sims_operator")),
        sa.PrimaryKeyConstraint("mobile", name=op.f("pk_world_sims")),
    )
    op.create_index(op.f("ix_world_sims_national_code"), "world_sims", ["national_code"])
    op.create_table(
        "world_addresses",
        sa.Column("postal_code", sa.String(10), nullable=False),
        sa.Column("province", sa.String(60), nullable=False),
        sa.Column("district", sa.String(60), nullable=False),
        sa.Column("city", sa.String(60), nullable=False),
        sa.Column("locality", sa.String(100), nullable=True),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("floor", sa.String(20), nullable=False),
        sa.Column("unit", sa.String(20), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("postal_code", name=op.f("pk_world_addresses")),
    )
    op.create_table(
        "world_legal_entities",
        sa.Column("national_id", sa.String(11), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("registration_number", sa.String(20), nullable=False),
        sa.Column("registration_date", sa.String(8), nullable=False),
        sa.Column("entity_type", sa.String(60), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("postal_code", sa.String(10), nullable=True),
        sa.Column("manager_national_code", sa.String(10), nullable=True),
        sa.CheckConstraint(
            _in("status", ("ACTIVE", "DISSOLVED", "SUSPENDED")),
            name=op.f("ck_world_legal_entities_status"),
        ),
        sa.PrimaryKeyConstraint("national_id", name=op.f("pk_world_legal_entities")),
    )
    op.create_table(
        "world_banks",
        sa.Column("bank", sa.String(24), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("provider_active", sa.Boolean(), nullable=False),
        sa.Column("card_to_iban_available", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("bank", name=op.f("pk_world_banks")),
    )
    op.create_table(
        "world_deposits",
        sa.Column("iban", sa.String(26), nullable=False),
        sa.Column("bank", sa.String(24), nullable=False),
        sa.Column("deposit_number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("account_type", sa.String(16), nullable=False),
        sa.Column("joint", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("opened_on", sa.String(8), nullable=True),
        sa.CheckConstraint(_in("status", DEPOSIT_STATUSES), name=op.f("ck_world_deposits_status")),
        sa.CheckConstraint(
            _in("account_type", ACCOUNT_TYPES), name=op.f("ck_world_deposits_account_type")
        ),
        sa.PrimaryKeyConstraint("iban", name=op.f("pk_world_deposits")),
    )
    op.create_index(
        "ix_world_deposits_bank_number", "world_deposits", ["bank", "deposit_number"], unique=True
    )
    op.create_table(
        "world_deposit_owners",
        sa.Column("iban", sa.String(26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("national_code", sa.String(11), nullable=False),
        sa.Column("owner_type", sa.String(8), nullable=False),
        sa.CheckConstraint(
            _in("owner_type", OWNER_TYPES), name=op.f("ck_world_deposit_owners_owner_type")
        ),
        sa.ForeignKeyConstraint(
            ["iban"],
            ["world_deposits.iban"],
            name=op.f("fk_world_deposit_owners_iban_world_deposits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("iban", "position", name=op.f("pk_world_deposit_owners")),
    )
    op.create_index(
        op.f("ix_world_deposit_owners_national_code"), "world_deposit_owners", ["national_code"]
    )
    op.create_table(
        "world_cards",
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("bank", sa.String(24), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("expiry", sa.String(6), nullable=False),
        sa.Column("holder_national_code", sa.String(11), nullable=True),
        sa.Column("deposit_iban", sa.String(26), nullable=True),
        sa.CheckConstraint(_in("type", CARD_TYPES), name=op.f("ck_world_cards_type")),
        sa.CheckConstraint(_in("status", CARD_STATUSES), name=op.f("ck_world_cards_status")),
        sa.ForeignKeyConstraint(
            ["deposit_iban"],
            ["world_deposits.iban"],
            name=op.f("fk_world_cards_deposit_iban_world_deposits"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_world_cards")),
    )
    op.create_index(
        op.f("ix_world_cards_holder_national_code"), "world_cards", ["holder_national_code"]
    )
    op.create_index(op.f("ix_world_cards_deposit_iban"), "world_cards", ["deposit_iban"])
    op.create_table(
        "world_foreigners",
        sa.Column("fida", sa.String(16), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("father_name", sa.String(100), nullable=True),
        sa.Column("ancestor_name", sa.String(100), nullable=True),
        sa.Column("birth_date", sa.String(8), nullable=True),
        sa.Column("gender", sa.String(8), nullable=False),
        sa.Column("birth_place_country", sa.String(60), nullable=True),
        sa.Column("birth_place_city", sa.String(60), nullable=True),
        sa.Column("nationality", sa.String(60), nullable=False),
        sa.Column("documents", JSONType, nullable=False),
        sa.Column("blacklisted", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            _in("gender", FOREIGNER_GENDERS), name=op.f("ck_world_foreigners_gender")
        ),
        sa.PrimaryKeyConstraint("fida", name=op.f("pk_world_foreigners")),
    )
    op.create_table(
        "world_guilds",
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("lic_issue_date", sa.String(10), nullable=True),
        sa.Column("lic_expire_date", sa.String(10), nullable=True),
        sa.Column("lic_type", sa.String(60), nullable=True),
        sa.Column("lic_time", sa.String(60), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("blue_plaque", sa.String(20), nullable=True),
        sa.Column("registered_plaque", sa.String(40), nullable=True),
        sa.Column("postal_code", sa.String(10), nullable=True),
        sa.Column("area", sa.BigInteger(), nullable=True),
        sa.Column("union_name", sa.String(200), nullable=True),
        sa.Column("union_id", sa.BigInteger(), nullable=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("convent_id", sa.BigInteger(), nullable=True),
        sa.Column("convent_name", sa.String(200), nullable=True),
        sa.Column("city_id", sa.BigInteger(), nullable=True),
        sa.Column("board_title", sa.String(200), nullable=True),
        sa.Column("corporate_identity", sa.String(40), nullable=True),
        sa.Column("lic_state", sa.String(60), nullable=True),
        sa.Column("tel", sa.String(20), nullable=True),
        sa.Column("isic", sa.String(20), nullable=True),
        sa.Column("company_national_code", sa.String(11), nullable=True),
        sa.Column("isic_name", sa.String(200), nullable=True),
        sa.Column("hc_license_request_type_name", sa.String(100), nullable=True),
        sa.Column("has_expire_letter", sa.String(10), nullable=True),
        sa.Column("expire_letter_date", sa.String(10), nullable=True),
        sa.Column("first_name", sa.String(100), nullable=True),
        sa.Column("last_name", sa.String(100), nullable=True),
        sa.Column("father_name", sa.String(100), nullable=True),
        sa.Column("national_code", sa.String(10), nullable=True),
        sa.Column("is_male", sa.String(10), nullable=True),
        sa.Column("mobile", sa.String(11), nullable=True),
        sa.Column("type_name", sa.String(60), nullable=True),
        sa.Column("type_code", sa.String(20), nullable=True),
        sa.Column("birth_date", sa.String(10), nullable=True),
        sa.Column("identity_no", sa.String(10), nullable=True),
        sa.Column("country", sa.String(60), nullable=True),
        sa.Column("religion", sa.String(60), nullable=True),
        sa.Column("military_state", sa.String(100), nullable=True),
        sa.Column("education_level", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_world_guilds")),
    )
    op.create_index(op.f("ix_world_guilds_national_code"), "world_guilds", ["national_code"])
    op.create_table(
        "world_military",
        sa.Column("national_code", sa.String(10), nullable=False),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("national_code", name=op.f("pk_world_military")),
    )
    op.create_table(
        "world_sana",
        sa.Column("national_code", sa.String(10), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("registered_on", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("national_code", name=op.f("pk_world_sana")),
    )


def downgrade() -> None:
    op.drop_table("world_sana")
    op.drop_table("world_military")
    op.drop_index(op.f("ix_world_guilds_national_code"), table_name="world_guilds")
    op.drop_table("world_guilds")
    op.drop_table("world_foreigners")
    op.drop_index(op.f("ix_world_cards_deposit_iban"), table_name="world_cards")
    op.drop_index(op.f("ix_world_cards_holder_national_code"), table_name="world_cards")
    op.drop_table("world_cards")
    op.drop_index(op.f("ix_world_deposit_owners_national_code"), table_name="world_deposit_owners")
    op.drop_table("world_deposit_owners")
    op.drop_index("ix_world_deposits_bank_number", table_name="world_deposits")
    op.drop_table("world_deposits")
    op.drop_table("world_banks")
    op.drop_table("world_legal_entities")
    op.drop_table("world_addresses")
    op.drop_index(op.f("ix_world_sims_national_code"), table_name="world_sims")
    op.drop_table("world_sims")
    op.drop_table("world_people")
