"""Migrations build the whole schema from empty, go down again, and agree with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tracker.extensions import db
from tracker.items import search


def test_upgrade_from_empty_then_downgrade_one_step_and_back(empty_app):
    def tables():
        """Table, column and index names, check constraints, cache tokens and triggers (a step may add
        only a column, an index, a token, a trigger or widen a check)."""
        inspector = inspect(db.engine)
        names = set(inspector.get_table_names())
        tokens = set()
        if "catalogue_versions" in names:
            with db.engine.connect() as connection:
                tokens = {f"token:{name}" for name in connection.scalars(text("SELECT name FROM catalogue_versions"))}
        triggers = ("SELECT DISTINCT trigger_name FROM information_schema.triggers WHERE trigger_schema = current_schema()"
                    if db.engine.dialect.name == "postgresql" else "SELECT name FROM sqlite_master WHERE type = 'trigger'")
        with db.engine.connect() as connection:
            tokens |= {f"trigger:{name}" for name in connection.scalars(text(triggers))}
        columns = {f"{table}.{column['name']}" for table in names for column in inspector.get_columns(table)}
        checks = {f"{table}:{' '.join(check['sqltext'].split())}" for table in names
                  for check in inspector.get_check_constraints(table)}
        return names | tokens | columns | checks | {index["name"] for table in names
                                                     for index in inspector.get_indexes(table)}

    upgrade()
    full = tables()
    assert {"items", "users", "units", "journal_entries", "progress_updates", "login_sessions",
            "evidence"} <= full
    downgrade(revision="-1")
    assert tables() != full
    upgrade()
    assert tables() == full
    downgrade(revision="base")
    assert tables() <= {"alembic_version", "alembic_version.version_num"}


def test_models_and_migrations_agree(empty_app):
    upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_name": search.include_name})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"run `flask db migrate`: pending changes {diff}"
