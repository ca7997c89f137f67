"""journal_entries (action, at): the statistics read the returns (退回) up to a day from it, not
every journal entry of every counted item; parts (item_id, status, unit_id, deadline) replaces
parts (item_id): the dashboard counts each unit's parts of the live items from it alone

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
    op.create_index('ix_parts_item_status_unit_deadline', 'parts', ['item_id', 'status', 'unit_id', 'deadline'])
    op.drop_index('ix_parts_item_id', table_name='parts')


def downgrade():
    op.create_index('ix_parts_item_id', 'parts', ['item_id'])
    op.drop_index('ix_parts_item_status_unit_deadline', table_name='parts')
    op.drop_index('ix_journal_entries_action_at', table_name='journal_entries')
