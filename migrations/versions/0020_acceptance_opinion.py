"""items.acceptance_opinion: the inspector's 验收意见, written when closing

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 15:55:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: a batch copy of `items` on SQLite would break the search
# index's triggers, which name the table.
def upgrade():
    op.add_column('items', sa.Column('acceptance_opinion', sa.Text(), nullable=True))


def downgrade():
    op.execute("ALTER TABLE items DROP COLUMN acceptance_opinion")
