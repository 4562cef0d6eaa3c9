"""latest metrics: each run's latest point per metric key, and runs by start time, for run search

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "latest_metrics",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_latest_metrics_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("experiment_id", "key", name=op.f("pk_latest_metrics")),
    )
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_latest_metrics_key_value", ["key", "value", "experiment_id"], unique=False
        )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_experiments_team_started_at", ["team", "started_at"], unique=False
        )
    # the runs stored before: their latest point per key is the highest step, then the
    # last logged (the largest id), as metrics_summary reads it
    op.execute(
        """
        INSERT INTO latest_metrics (experiment_id, key, value, step, timestamp)
        SELECT m.experiment_id, m.key, m.value, m.step, m.timestamp
        FROM metrics m
        WHERE m.id = (
            SELECT m2.id FROM metrics m2
            WHERE m2.experiment_id = m.experiment_id AND m2.key = m.key
            ORDER BY m2.step DESC, m2.id DESC
            LIMIT 1
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_index("ix_experiments_team_started_at")
    with op.batch_alter_table("latest_metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_latest_metrics_key_value")
    op.drop_table("latest_metrics")
