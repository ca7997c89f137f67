"""catalogue versions: a token for the framework generation (which items the dashboard's indicator
framework lists first is kept under it; without a token nothing is kept)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 23:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

catalogue_versions = sa.table('catalogue_versions', sa.column('name', sa.String), sa.column('token', sa.String))


def upgrade():
    exists = op.get_bind().execute(sa.select(catalogue_versions.c.name).where(
        catalogue_versions.c.name == 'framework')).first()
    if exists is None:
        op.bulk_insert(catalogue_versions, [{'name': 'framework', 'token': secrets.token_hex(16)}])


def downgrade():
    op.execute(catalogue_versions.delete().where(catalogue_versions.c.name == 'framework'))
