"""the unit's own sign-off (单位负责人审核): items.status may be 'signoff' (a staff member's submission
waiting for the unit head), items.signoff_comment (the head's comment when sending it back), and
units.signoff_required (on for every unit, as the deployment default UNIT_SIGNOFF)

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-03 10:45:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0027'
branch_labels = None
depends_on = None

NAME = 'ck_items_item_status'
BEFORE = ('draft', 'assigned', 'in_progress', 'submitted', 'returned', 'closed', 'cancelled')
AFTER = ('draft', 'assigned', 'in_progress', 'signoff', 'submitted', 'returned', 'closed', 'cancelled')


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _allow(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_constraint(op.f(NAME), 'items', type_='check')
        op.create_check_constraint(op.f(NAME), 'items', f"status IN ({_listed(new)})")
        return
    # SQLite cannot alter a CHECK constraint, and a batch copy of `items` would drop the search
    # index's triggers. Widening (or, going down, narrowing once no row holds the value) the list
    # changes nothing stored, so the table's own definition is edited in place, as SQLite's manual
    # describes for such changes (lang_altertable.html, "other kinds of table schema changes").
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items'").scalar()
    old_check, new_check = f"status IN ({_listed(old)})", f"status IN ({_listed(new)})"
    if old_check not in sql:
        raise RuntimeError(f"items: the status check is not {old_check!r}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'items'",
                             (sql.replace(old_check, new_check),))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade():
    _allow(BEFORE, AFTER)
    op.add_column('items', sa.Column('signoff_comment', sa.Text(), nullable=True))
    op.add_column('units', sa.Column('signoff_required', sa.Boolean(), server_default='1', nullable=False))


def downgrade():
    # A submission waiting for the head goes back to the staff (still in progress); nothing else is lost.
    op.execute("UPDATE items SET status = 'in_progress' WHERE status = 'signoff'")
    op.execute("ALTER TABLE units DROP COLUMN signoff_required")
    op.execute("ALTER TABLE items DROP COLUMN signoff_comment")
    _allow(AFTER, BEFORE)
