"""indexes for the reminder scan and digests (owned by the notifications work)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 23:20:00.000000

"""
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
