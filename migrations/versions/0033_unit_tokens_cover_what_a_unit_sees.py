"""A unit's token is renewed by a change of any item the unit leads, holds a part of or cooperates
on, and by a unit joining or leaving an item: a unit's reader's dashboard is kept under its own
unit's token (tracker/cache.py)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 21:45:00.000000

"""
from alembic import op

from tracker import cache


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    # The triggers of 0032 are replaced by those of tracker/cache.py (a superset: they renew more units).
    cache.drop_unit_triggers(op.get_bind())
    cache.create_unit_triggers(op.get_bind())


def downgrade():
    # The item and part triggers stay broader than 0032's (renewing more units is harmless to it).
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS unit_generations_cooperation ON item_cooperating_units")
    else:
        for event in ("insert", "delete"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS unit_generations_cooperation_{event}")
