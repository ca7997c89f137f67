"""catalogue versions: a token for the search generation (a text search's counts per status are
kept under it; without a token nothing is kept)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 16:20:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

catalogue_versions = sa.table('catalogue_versions', sa.column('name', sa.String), sa.column('token', sa.String))


def upgrade():
    exists = op.get_bind().execute(sa.select(catalogue_versions.c.name).where(
        catalogue_versions.c.name == 'search')).first()
    if exists is None:
        op.bulk_insert(catalogue_versions, [{'name': 'search', 'token': secrets.token_hex(16)}])


def downgrade():
    op.execute(catalogue_versions.delete().where(catalogue_versions.c.name == 'search'))
