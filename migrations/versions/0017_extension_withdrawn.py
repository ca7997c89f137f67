"""extension_requests.status may be 'withdrawn': closing, cancelling or reopening an item settles
the request still waiting on it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 15:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

NAME = 'ck_extension_requests_extension_status'


def _allow(values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot alter a CHECK constraint: the batch copy of the table gets the new one.
        with op.batch_alter_table('extension_requests', recreate='always',
                                  table_args=(), reflect_kwargs={}) as batch_op:
            batch_op.create_check_constraint(op.f(NAME), f"status IN ({listed})")
        return
    op.drop_constraint(op.f(NAME), 'extension_requests', type_='check')
    op.create_check_constraint(op.f(NAME), 'extension_requests', f"status IN ({listed})")


def upgrade():
    _allow(('pending', 'approved', 'refused', 'withdrawn'))


def downgrade():
    op.execute("UPDATE extension_requests SET status = 'refused' WHERE status = 'withdrawn'")
    _allow(('pending', 'approved', 'refused'))
