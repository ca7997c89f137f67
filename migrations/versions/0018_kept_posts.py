"""kept_posts: forms refused because the sign-in had ended, kept to be sent again

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 15:35:00.000000

"""
import sqlalchemy as sa
from alembic import op

import tracker.columns


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kept_posts',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('back_to', sa.String(length=500), nullable=False),
        sa.Column('fields', sa.Text(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', tracker.columns.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_kept_posts')),
    )


def downgrade():
    op.drop_table('kept_posts')
