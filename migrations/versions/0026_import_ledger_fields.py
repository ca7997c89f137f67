"""items keep what an imported ledger says (ledger_no, owner_text, remarks, deadline_text);
units keep their alternative names (aliases)

Revision ID: 0026
Revises: 0021
Create Date: 2026-12-03 10:45:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

ITEM_COLUMNS = (('ledger_no', sa.String(20)), ('owner_text', sa.String(100)), ('remarks', sa.Text()),
                ('deadline_text', sa.String(100)))


# Plain ALTER TABLE on both databases: a batch copy of `items` on SQLite would break the search
# index's triggers, which name the table. Existing rows get '' from the server default.
def upgrade():
    for name, type_ in ITEM_COLUMNS:
        op.add_column('items', sa.Column(name, type_, nullable=False, server_default=''))
    op.add_column('units', sa.Column('aliases', sa.Text(), nullable=False, server_default=''))


def downgrade():
    op.execute("ALTER TABLE units DROP COLUMN aliases")
    for name, _type in reversed(ITEM_COLUMNS):
        op.execute(f"ALTER TABLE items DROP COLUMN {name}")
