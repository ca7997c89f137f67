"""indexes/aggregates for the dashboard (owned by the dashboard work)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 23:20:00.000000

"""
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
