"""usage prices versioned: each version in effect from its time on (past usage keeps the
prices of its time); the prices set so far become the first version, in effect since
ever (they were applied to all usage until now)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 20:00:00
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def upgrade() -> None:
    prices = op.create_table(
        "usage_prices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_prices")),
        sa.UniqueConstraint("effective_at", name=op.f("uq_usage_prices_effective_at")),
    )
    settings = sa.table(
        "usage_settings",
        sa.column("name", sa.String),
        sa.column("value", sa.JSON),
        sa.column("updated_by", sa.String),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    row = conn.execute(
        sa.select(settings.c.value, settings.c.updated_by, settings.c.updated_at).where(
            settings.c.name == "prices"
        )
    ).first()
    if row is not None:
        # SQLite keeps naive UTC (see models.UTCDateTime)
        epoch = EPOCH if conn.dialect.name == "postgresql" else EPOCH.replace(tzinfo=None)
        op.bulk_insert(
            prices,
            [
                {
                    "effective_at": epoch,
                    "value": row.value,
                    "created_by": row.updated_by,
                    "created_at": row.updated_at,
                }
            ],
        )
        conn.execute(sa.delete(settings).where(settings.c.name == "prices"))


def downgrade() -> None:
    prices = sa.table(
        "usage_prices",
        sa.column("effective_at", sa.DateTime(timezone=True)),
        sa.column("value", sa.JSON),
        sa.column("created_by", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    settings = sa.table(
        "usage_settings",
        sa.column("name", sa.String),
        sa.column("value", sa.JSON),
        sa.column("updated_by", sa.String),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    conn = op.get_bind()
    now = datetime.now(timezone.utc)
    if conn.dialect.name != "postgresql":
        now = now.replace(tzinfo=None)
    row = conn.execute(  # the version in effect now
        sa.select(prices.c.value, prices.c.created_by)
        .where(prices.c.effective_at <= now)
        .order_by(prices.c.effective_at.desc())
        .limit(1)
    ).first()
    if row is not None:
        conn.execute(sa.delete(settings).where(settings.c.name == "prices"))
        op.bulk_insert(
            settings,
            [
                {
                    "name": "prices",
                    "value": row.value,
                    "updated_by": row.created_by,
                    "updated_at": now,
                }
            ],
        )
    op.drop_table("usage_prices")
