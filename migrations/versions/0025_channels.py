"""channels: outbox messages go by e-mail, to a unit's group robot or by SMS; units have a robot,
users a mobile number and channel choices; robot_quotas counts each robot's last minute

Revision ID: 0025
Revises: 0021
Create Date: 2026-12-03 10:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('robot_quotas',
                    sa.Column('robot', sa.String(length=40), nullable=False),
                    sa.Column('recent', sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint('robot', name=op.f('pk_robot_quotas')))
    # Existing messages are e-mails: the server default fills the column for them.
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.Enum('email', 'robot', 'sms', name='outbox_channel',
                                                         native_enum=False, create_constraint=True, length=20),
                                      server_default='email', nullable=False))
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_unit_id_units'), 'units', ['unit_id'], ['id'])
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('robot_kind', sa.Enum('dingtalk', 'wecom', name='robot_kind', native_enum=False,
                                                            create_constraint=True, length=10), nullable=True))
        batch_op.add_column(sa.Column('robot_webhook', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('robot_secret', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('robot_topics', sa.String(length=300), server_default='', nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('sms_enabled', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('email_enabled', sa.Boolean(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_enabled')
        batch_op.drop_column('sms_enabled')
        batch_op.drop_column('mobile')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('robot_topics')
        batch_op.drop_column('robot_secret')
        batch_op.drop_column('robot_webhook')
        batch_op.drop_constraint(batch_op.f('ck_units_robot_kind'), type_='check')
        batch_op.drop_column('robot_kind')
    op.execute("DELETE FROM outbox_messages WHERE channel <> 'email'")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_unit_id_units'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_unit_id'))
        batch_op.drop_column('unit_id')
        batch_op.drop_constraint(batch_op.f('ck_outbox_messages_outbox_channel'), type_='check')
        batch_op.drop_column('channel')
    op.drop_table('robot_quotas')
