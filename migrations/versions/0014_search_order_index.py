"""performance index: items by (deadline, id, status), walked in order by broad searches

A search matching a large share of the items, in the default order, is read by walking this index
and keeping the matches (tracker/items/ledger.py, hits_order_index) instead of looking every match
up by id and sorting.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 02:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_deadline_id_status', ['deadline', 'id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_deadline_id_status')
