"""import_claims: an uploaded sheet is taken by its import in the import's transaction, so a second
confirm of the same upload writes nothing

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 15:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

import tracker.columns


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_claims',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('claimed_at', tracker.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_claims_user_id_users')),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_import_claims')),
    )


def downgrade():
    op.drop_table('import_claims')
