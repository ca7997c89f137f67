"""unit_generations: a token per unit, renewed by triggers whenever an item the unit leads or a part
it holds changes what the dashboard counts; the county's dashboard counts again only the units
whose token moved (tracker/cache.py)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 22:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from tracker import cache


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('unit_generations',
                    sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('token', sa.String(length=32), nullable=False),
                    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_unit_generations')))
    cache.create_unit_triggers(op.get_bind())


def downgrade():
    cache.drop_unit_triggers(op.get_bind())
    op.drop_table('unit_generations')
