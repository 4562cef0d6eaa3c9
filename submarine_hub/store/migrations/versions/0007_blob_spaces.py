"""blob_spaces: deduplication of file parts within a space only

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Not backfilled: a save naming a part its space has not sent since this revision is
answered "missing" and the session sends the part once (what it does anyway when its
cache of parts is wrong).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_spaces",
        sa.Column("space", sa.String(length=300), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("space", "hash", name=op.f("pk_blob_spaces")),
    )


def downgrade() -> None:
    op.drop_table("blob_spaces")
