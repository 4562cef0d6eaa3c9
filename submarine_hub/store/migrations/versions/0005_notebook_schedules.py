"""notebook job schedules and their history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notebook_schedules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("notebook", sa.String(length=1024), nullable=False),
        sa.Column("job", sa.JSON(), nullable=False),
        sa.Column("cron", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("catchup", sa.String(length=16), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notebook_schedules")),
    )
    with op.batch_alter_table("notebook_schedules", schema=None) as batch_op:
        batch_op.create_index("ix_notebook_schedules_team_id", ["team", "id"], unique=False)
        batch_op.create_index("ix_notebook_schedules_due", ["paused", "next_run_at"], unique=False)

    op.create_table(
        "notebook_schedule_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_notebook_schedule_runs_experiment_id_experiments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["notebook_schedules.id"],
            name=op.f("fk_notebook_schedule_runs_schedule_id_notebook_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notebook_schedule_runs")),
        sa.UniqueConstraint(
            "schedule_id", "scheduled_for", name=op.f("uq_notebook_schedule_runs_schedule_id")
        ),
    )
    with op.batch_alter_table("notebook_schedule_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notebook_schedule_runs_experiment_id"), ["experiment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notebook_schedule_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notebook_schedule_runs_experiment_id"))
    op.drop_table("notebook_schedule_runs")
    with op.batch_alter_table("notebook_schedules", schema=None) as batch_op:
        batch_op.drop_index("ix_notebook_schedules_due")
        batch_op.drop_index("ix_notebook_schedules_team_id")
    op.drop_table("notebook_schedules")
