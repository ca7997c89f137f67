"""Command-line tools: create-user and seed-demo."""
from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import inspect, select

from tracker import demo, uow
from tracker.admin import services as admin_services
from tracker.auth.models import Role
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.units.models import Unit


def _schema_ready() -> bool:
    return inspect(db.engine).has_table("items")


def register_cli(app) -> None:
    from tracker.notifications.commands import register_commands
    register_commands(app)
    from tracker.reports.document_templates import documents_cli
    app.cli.add_command(documents_cli)

    @app.cli.command("create-user")
    @click.option("--username", prompt=True)
    @click.option("--name", prompt=True)
    @click.option("--email", prompt=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), prompt=True)
    @click.option("--unit", "unit_code", default="", help="Unit code (required for head and staff).")
    @click.option("--language", type=click.Choice(["zh_CN", "en"]), default="zh_CN")
    @click.password_option()
    def create_user(username, name, email, role, unit_code, language, password):
        """Create an account from the command line."""
        if not _schema_ready():
            raise click.ClickException("The database is not initialised: run `flask --app wsgi db upgrade`.")
        unit_id = None
        if unit_code:
            unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
            if unit is None:
                raise click.ClickException(f"No unit with code {unit_code!r}.")
            unit_id = unit.id
        try:
            user = admin_services.save_user(None, None, {
                "username": username, "name": name, "email": email, "role": role, "unit_id": unit_id,
                "language": language, "active": True, "password": password})
            uow.commit()
        except Invalid as exc:
            raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items()))
        click.echo(f"Created user {user.username} ({user.role.value}).")

    @app.cli.command("seed-demo")
    @click.option("--force", is_flag=True, help="Load even when the database already holds users.")
    @click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the database is not empty.")
    @click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="Pretend today is this date (YYYY-MM-DD).")
    def seed_demo(force, if_empty, today):
        """Load the demo ledger (新源县 2019) into an empty database."""
        if not _schema_ready():
            raise click.ClickException("The database is not initialised: run `flask --app wsgi db upgrade`.")
        if not demo.is_empty() and not force:
            if if_empty:
                click.echo("Database is not empty; demo data not loaded.")
                return
            raise click.ClickException("The database is not empty; use --force to load the demo data anyway.")
        if force and not demo.is_empty():
            _wipe()
        demo.seed(today.date() if isinstance(today, dt.datetime) else None)
        click.echo(f"Demo data loaded. Sign in as admin / {demo.DEMO_PASSWORD}.")


def _wipe() -> None:
    """Delete every row (for seed-demo --force), children first."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    uow.commit()
