"""indexes for the reminder scan and digests (owned by the notifications work)

The scan pre-selects the items that can be in a reminder slot today: unacknowledged items by
assignment time, stale items by last activity, open milestones by due date (deadlines already have
ix_items_status_deadline).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 23:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_status_assigned_at', ['status', 'assigned_at'], unique=False)
        batch_op.create_index('ix_items_status_last_activity_on', ['status', 'last_activity_on'], unique=False)
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index('ix_milestones_done_due_on', ['done', 'due_on'], unique=False)


def downgrade():
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_milestones_done_due_on')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_status_last_activity_on')
        batch_op.drop_index('ix_items_status_assigned_at')
