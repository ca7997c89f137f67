"""catalogue versions: a token for the evaluations (the ledger's evaluation filter list is cached)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 02:30:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

catalogue_versions = sa.table('catalogue_versions', sa.column('name', sa.String), sa.column('token', sa.String))


def upgrade():
    op.bulk_insert(catalogue_versions, [{'name': 'evaluations', 'token': secrets.token_hex(16)}])


def downgrade():
    op.execute(catalogue_versions.delete().where(catalogue_versions.c.name == 'evaluations'))
