"""indexes/aggregates for the dashboard (owned by the dashboard work)

A covering index for the dashboard's one grouped pass over the items, and the marker row whose
token every change of items renews (the key of the cached dashboard numbers).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 23:20:00.000000

"""
import uuid

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    marker = op.create_table(
        'dashboard_marker',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_marker')))
    op.bulk_insert(marker, [{'id': 1, 'token': uuid.uuid4().hex}])
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_dashboard', ['lead_unit_id', 'status', 'deadline', 'behind_on',
                                                     'last_activity_on', 'finding_id'], unique=False)


def downgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_dashboard')
    op.drop_table('dashboard_marker')
