"""notices.kind may be 'signoff_requested' (a staff submission waits for the unit head) and
'sent_back' (the head sent it back to the staff)

Revision ID: 0030
Revises: 0026
Create Date: 2026-12-03 12:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0026'
branch_labels = None
depends_on = None

NAME = 'ck_notices_notice_kind'
BEFORE = ('assigned', 'returned', 'submitted', 'extension_requested', 'extension_approved', 'extension_refused',
          'listed', 'unlisted', 'recheck_holds', 'recheck_back', 'reopened', 'cancelled', 'requirement_added',
          'milestone_missed')
AFTER = BEFORE + ('signoff_requested', 'sent_back')


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _allow(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_constraint(op.f(NAME), 'notices', type_='check')
        op.create_check_constraint(op.f(NAME), 'notices', f"kind IN ({_listed(new)})")
        return
    # As 0023 does for items.status: SQLite cannot alter a CHECK constraint; widening (or narrowing
    # once no row holds the values) changes nothing stored, so the definition is edited in place.
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'notices'").scalar()
    old_check, new_check = f"kind IN ({_listed(old)})", f"kind IN ({_listed(new)})"
    if old_check not in sql:
        raise RuntimeError(f"notices: the kind check is not {old_check!r}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'notices'",
                             (sql.replace(old_check, new_check),))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade():
    _allow(BEFORE, AFTER)


def downgrade():
    # The sign-off notices go (they are told already; the items and the journal keep what happened).
    op.execute("DELETE FROM notices WHERE kind IN ('signoff_requested', 'sent_back')")
    _allow(AFTER, BEFORE)
