"""event notices: who is told of what happened to an item (gathered into one message per
window), their choices per topic and channel, and the inspector who handles a unit

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-03 10:19:45.166806

"""
from alembic import op
import sqlalchemy as sa
import tracker.columns


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=30), nullable=False),
    sa.Column('channel', sa.String(length=20), server_default='email', nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'topic', 'channel', name=op.f('pk_notice_preferences'))
    )
    op.create_table('unit_inspectors',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_inspectors_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_unit_inspectors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_unit_inspectors'))
    )
    with op.batch_alter_table('unit_inspectors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_inspectors_user_id'), ['user_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('assigned', 'returned', 'submitted', 'extension_requested', 'extension_approved', 'extension_refused', 'listed', 'unlisted', 'recheck_holds', 'recheck_back', 'reopened', 'cancelled', 'requirement_added', 'milestone_missed', name='notice_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('created_at', tracker.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('gathered_at', tracker.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_notices_actor_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_notices_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'], name=op.f('fk_notices_outbox_message_id_outbox_messages')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_outbox_message_id'), ['outbox_message_id'], unique=False)
        batch_op.create_index('ix_notices_pending', ['gathered_at', 'created_at'], unique=False)
        batch_op.create_index('ix_notices_user_created', ['user_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_user_created')
        batch_op.drop_index('ix_notices_pending')
        batch_op.drop_index(batch_op.f('ix_notices_outbox_message_id'))
        batch_op.drop_index(batch_op.f('ix_notices_item_id'))

    op.drop_table('notices')
    with op.batch_alter_table('unit_inspectors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_inspectors_user_id'))

    op.drop_table('unit_inspectors')
    op.drop_table('notice_preferences')
