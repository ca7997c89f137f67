"""performance index: items by (id, status), the status of each search match looked up by id

The first search after a change counts its matches per status by looking each match's status up
in this narrow index instead of the wide item rows (tracker/items/ledger.py, hits_status_index).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 02:55:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_id_status', ['id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_id_status')
