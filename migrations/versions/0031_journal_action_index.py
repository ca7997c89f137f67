"""journal_entries (action, at): the statistics read the returns (退回) up to a day from it, not
every journal entry of every counted item

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 02:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_journal_entries_action_at', 'journal_entries', ['action', 'at'])


def downgrade():
    op.drop_index('ix_journal_entries_action_at', table_name='journal_entries')
