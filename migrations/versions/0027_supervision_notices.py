"""supervision_notices and document_numbers: a 督办单 issued for an item, numbered per year
(〔2026〕第N号) from a counter taken by one atomic upsert

Revision ID: 0027
Revises: 0021
Create Date: 2026-12-03 10:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

import tracker.columns


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'document_numbers',
        sa.Column('series', sa.String(length=30), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('series', 'year', name=op.f('pk_document_numbers')),
    )
    op.create_table(
        'supervision_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=False),
        sa.Column('requirement', sa.Text(), nullable=False),
        sa.Column('reply_by', sa.Date(), nullable=False),
        sa.Column('created_at', tracker.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_supervision_notices_item_id_items'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_supervision_notices_issued_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_notices')),
        sa.UniqueConstraint('year', 'number', name=op.f('uq_supervision_notices_year')),
    )
    op.create_index(op.f('ix_supervision_notices_item_id'), 'supervision_notices', ['item_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_supervision_notices_item_id'), table_name='supervision_notices')
    op.drop_table('supervision_notices')
    op.drop_table('document_numbers')
