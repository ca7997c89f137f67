"""Migration 0022 gives the open, handed-out items of an existing database a part per cooperating
unit: under way when someone of the unit has posted progress on the item, else waiting for 签收."""
import datetime as dt

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.factories import Factory
from tracker import clock
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.items.models import ProgressUpdate, Status


def test_open_items_get_a_part_per_cooperating_unit_with_the_status_their_progress_says(empty_app):
    # The rows are written with today's models, then the database goes back to before parts (later
    # migrations add columns the factories write, so they cannot write a 0021 database directly).
    upgrade()
    make = Factory(db)
    lead, planning, finance, land = make.unit("县教育局"), make.unit("县发改委"), make.unit("县财政局"), make.unit("县自然资源局")
    planner = make.user(Role.HEAD, unit=planning)
    working = make.item(status=Status.IN_PROGRESS, lead_unit=lead, cooperating=[planning, finance],
                        deadline=clock.today() + dt.timedelta(days=30))
    db.session.add(ProgressUpdate(item_id=working.id, author_id=planner.id, body="已立项", percent=20,
                                  submission_key="k1", created_at=clock.now()))
    closed = make.item(status=Status.CLOSED, lead_unit=lead, cooperating=[land])
    draft = make.item(status=Status.DRAFT, lead_unit=lead, cooperating=[land])
    db.session.commit()
    ids = {"working": working.id, "closed": closed.id, "draft": draft.id}
    deadline = str(working.deadline)
    db.session.remove()
    downgrade(revision="0021")

    upgrade()
    rows = db.session.execute(text(
        "SELECT p.item_id, u.name, p.status, p.deadline, p.request, p.acknowledged_at IS NOT NULL "
        "FROM parts p JOIN units u ON u.id = p.unit_id ORDER BY p.item_id, u.name")).all()
    assert [(r[0], r[1], r[2], str(r[3]), r[4], bool(r[5])) for r in rows] == [
        (ids["working"], "县发改委", "in_progress", deadline, "措施", True),
        (ids["working"], "县财政局", "pending", deadline, "措施", False)]
    assert ids["closed"] not in {r[0] for r in rows} and ids["draft"] not in {r[0] for r in rows}
    # Nothing was lost: the progress is still the item's, and going down and up again gives the same.
    assert db.session.execute(text("SELECT count(*) FROM progress_updates")).scalar() == 1
    db.session.remove()
    downgrade(revision="0021")
    upgrade()
    assert db.session.execute(text("SELECT count(*) FROM parts")).scalar() == 2
