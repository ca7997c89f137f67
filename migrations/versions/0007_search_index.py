"""full-text search index for the ledger (owned by the search work)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 23:20:00.000000

"""
from alembic import op  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
