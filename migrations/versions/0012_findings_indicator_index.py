"""performance index: findings by indicator (the dashboard's items per indicator)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 00:25:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_indicator_id'), ['indicator_id'], unique=False)


def downgrade():
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_indicator_id'))
