"""`flask evidence verify`: re-hash every stored file and report missing or altered ones;
`flask evidence sweep`: delete stored bytes no evidence references (failed uploads' leftovers)."""
import click
from flask.cli import AppGroup

from tracker.evidence.services import sweep, verify
from tracker.extensions import db

evidence_cli = AppGroup("evidence", help="Evidence file commands.")


@evidence_cli.command("verify")
def verify_command():
    """Re-hash every evidence file; exit 1 when any is missing or altered."""
    problems = verify()
    for evidence, problem in problems:
        click.echo(f"{problem}: evidence {evidence.id} item {evidence.item_id} "
                   f"{evidence.original_name} sha256={evidence.sha256}")
    if problems:
        raise click.ClickException(f"{len(problems)} evidence file(s) missing or altered")
    click.echo("All evidence files are present and intact.")


@evidence_cli.command("sweep")
def sweep_command():
    """Delete stored files no evidence references, placed over a day ago (the scheduler runs it daily)."""
    click.echo(f"{sweep()} unreferenced file(s) deleted.")
    db.session.commit()
