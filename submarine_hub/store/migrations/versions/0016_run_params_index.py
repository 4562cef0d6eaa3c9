"""run params index: params by key and the first 200 characters of their value, so run
search filters and sorts on a param through an index (as latest_metrics for metrics)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 20:00:00
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # an expression index: the same text on SQLite and PostgreSQL, and the queries of
    # core/run_search.py name the same expression (literal numbers, no bound parameters)
    op.execute(
        "CREATE INDEX ix_params_key_value ON params (key, substr(value, 1, 200), experiment_id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_params_key_value")
