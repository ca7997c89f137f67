"""catalogue versions: the tokens that key per-process caches (units, people, items)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 23:40:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'catalogue_versions',
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_catalogue_versions')),
    )
    # Stamped from the start, so that two first changes never race to create the rows.
    op.bulk_insert(table, [{'name': name, 'token': secrets.token_hex(16)} for name in ('units', 'people', 'items')])


def downgrade():
    op.drop_table('catalogue_versions')
