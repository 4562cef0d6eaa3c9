"""mlflow experiments, run tags, logged models

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-03 16:20:24.458858
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "mlflow_experiments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_experiments")),
        sa.UniqueConstraint("team", "name", name=op.f("uq_mlflow_experiments_team")),
    )
    with op.batch_alter_table("mlflow_experiments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mlflow_experiments_team"), ["team"], unique=False)

    op.create_table(
        "mlflow_logged_models",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("mlflow_experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("source_run_id", sa.Integer(), nullable=True),
        sa.Column("model_type", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mlflow_experiment_id"],
            ["mlflow_experiments.id"],
            name=op.f("fk_mlflow_logged_models_mlflow_experiment_id_mlflow_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_run_id"],
            ["experiments.id"],
            name=op.f("fk_mlflow_logged_models_source_run_id_experiments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_logged_models")),
    )
    with op.batch_alter_table("mlflow_logged_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mlflow_logged_models_source_run_id"), ["source_run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mlflow_logged_models_team"), ["team"], unique=False)

    op.create_table(
        "mlflow_run_tags",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["experiments.id"],
            name=op.f("fk_mlflow_run_tags_run_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_mlflow_run_tags")),
    )
    with op.batch_alter_table("mlflow_run_tags", schema=None) as batch_op:
        batch_op.create_index("ix_mlflow_run_tags_key_value", ["key", "run_id"], unique=False)

    op.create_table(
        "mlflow_runs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("mlflow_experiment_id", sa.Integer(), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["mlflow_experiment_id"],
            ["mlflow_experiments.id"],
            name=op.f("fk_mlflow_runs_mlflow_experiment_id_mlflow_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["experiments.id"],
            name=op.f("fk_mlflow_runs_run_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_mlflow_runs")),
    )
    with op.batch_alter_table("mlflow_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mlflow_runs_experiment_run", ["mlflow_experiment_id", "run_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("mlflow_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_mlflow_runs_experiment_run")

    op.drop_table("mlflow_runs")
    with op.batch_alter_table("mlflow_run_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_mlflow_run_tags_key_value")

    op.drop_table("mlflow_run_tags")
    with op.batch_alter_table("mlflow_logged_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mlflow_logged_models_team"))
        batch_op.drop_index(batch_op.f("ix_mlflow_logged_models_source_run_id"))

    op.drop_table("mlflow_logged_models")
    with op.batch_alter_table("mlflow_experiments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mlflow_experiments_team"))

    op.drop_table("mlflow_experiments")
