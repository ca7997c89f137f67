"""parts and part_updates: each cooperating unit's part of an item (会签); evidence.part_id and
reminders.part_id. Open,
handed-out items get a part per cooperating unit: under way when the unit has posted progress on the
item, else waiting for acknowledgement

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 10:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

STATUSES = "status IN ('pending', 'in_progress', 'done', 'returned', 'cancelled')"


def upgrade():
    op.create_table(
        'parts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('request', sa.Text(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'in_progress', 'done', 'returned', 'cancelled', name='part_status',
                                    native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_activity_on', sa.Date(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.Column('statement', sa.Text(), nullable=True),
        sa.Column('return_reason', sa.Text(), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('override_reason', sa.Text(), nullable=True),
        sa.Column('overridden_by_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.CheckConstraint("status <> 'done' OR (done_at IS NOT NULL AND statement IS NOT NULL)",
                           name=op.f('ck_parts_done_has_statement')),
        sa.CheckConstraint("status <> 'returned' OR return_reason IS NOT NULL",
                           name=op.f('ck_parts_returned_has_reason')),
        sa.CheckConstraint("status <> 'cancelled' OR cancelled_at IS NOT NULL",
                           name=op.f('ck_parts_cancelled_has_time')),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_parts_item_id_items'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_parts_unit_id_units')),
        sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_parts_acknowledged_by_id_users')),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_parts_done_by_id_users')),
        sa.ForeignKeyConstraint(['overridden_by_id'], ['users.id'], name=op.f('fk_parts_overridden_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parts')),
        sa.UniqueConstraint('item_id', 'unit_id', name=op.f('uq_parts_item_id')),
    )
    op.create_index(op.f('ix_parts_item_id'), 'parts', ['item_id'])
    op.create_index(op.f('ix_parts_unit_id'), 'parts', ['unit_id'])
    op.create_index('ix_parts_status_deadline', 'parts', ['status', 'deadline'])
    op.create_table(
        'part_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('part_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['part_id'], ['parts.id'], name=op.f('fk_part_updates_part_id_parts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_part_updates_author_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_part_updates')),
    )
    op.create_index(op.f('ix_part_updates_part_id'), 'part_updates', ['part_id'])
    with op.batch_alter_table('evidence') as batch_op:
        batch_op.add_column(sa.Column('part_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_evidence_part_id'), ['part_id'])
        batch_op.create_foreign_key(batch_op.f('fk_evidence_part_id_parts'), 'parts', ['part_id'], ['id'])
    with op.batch_alter_table('reminders') as batch_op:
        batch_op.add_column(sa.Column('part_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_reminders_part_id_parts'), 'parts', ['part_id'], ['id'],
                                    ondelete='CASCADE')
    _parts_for_open_items()


def _parts_for_open_items():
    """A part per cooperating unit of every handed-out, open item: the item's measures and deadline;
    under way (acknowledged at its first post) when someone of the unit posted progress on the item."""
    op.execute("""
        INSERT INTO parts (item_id, unit_id, request, deadline, status, created_at, last_activity_on,
                           acknowledged_at, version)
        SELECT i.id, c.unit_id, i.measures, i.deadline,
               CASE WHEN EXISTS (SELECT 1 FROM progress_updates p JOIN users u ON u.id = p.author_id
                                 WHERE p.item_id = i.id AND u.unit_id = c.unit_id)
                    THEN 'in_progress' ELSE 'pending' END,
               COALESCE(i.assigned_at, i.created_at),
               COALESCE((SELECT MAX(p.created_at) FROM progress_updates p JOIN users u ON u.id = p.author_id
                         WHERE p.item_id = i.id AND u.unit_id = c.unit_id), i.assigned_at, i.created_at),
               (SELECT MIN(p.created_at) FROM progress_updates p JOIN users u ON u.id = p.author_id
                WHERE p.item_id = i.id AND u.unit_id = c.unit_id),
               1
        FROM items i JOIN item_cooperating_units c ON c.item_id = i.id
        WHERE i.status IN ('assigned', 'in_progress', 'submitted', 'returned')
    """)


def downgrade():
    with op.batch_alter_table('reminders') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reminders_part_id_parts'), type_='foreignkey')
        batch_op.drop_column('part_id')
    with op.batch_alter_table('evidence') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_evidence_part_id_parts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_evidence_part_id'))
        batch_op.drop_column('part_id')
    op.drop_index(op.f('ix_part_updates_part_id'), table_name='part_updates')
    op.drop_table('part_updates')
    op.drop_index('ix_parts_status_deadline', table_name='parts')
    op.drop_index(op.f('ix_parts_unit_id'), table_name='parts')
    op.drop_index(op.f('ix_parts_item_id'), table_name='parts')
    op.drop_table('parts')
