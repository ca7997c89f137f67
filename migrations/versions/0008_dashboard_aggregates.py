"""indexes/aggregates for the dashboard (owned by the dashboard work)

A covering index for the dashboard's one grouped pass over the items. (The "items changed" token
that keys the cached numbers is a row of catalogue_versions, migration 0010.)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 23:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_dashboard', ['lead_unit_id', 'status', 'deadline', 'behind_on',
                                                     'last_activity_on', 'finding_id'], unique=False)


def downgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_dashboard')
