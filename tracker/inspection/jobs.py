"""Reminding inspectors of re-checks (回头看) that fall due; part of the daily scan, safe to run twice."""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import clock, journal, uow
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.inspection.models import Recheck

log = logging.getLogger(__name__)


def remind_due_rechecks(today: dt.date | None = None) -> dict[str, int]:
    """One mail per inspector listing the re-checks due today or overdue and not yet recorded.

    A re-check is announced once (its outbox key is per re-check and inspector)."""
    from tracker.notifications import mails, outbox
    today = today or clock.today()
    due = db.session.scalars(select(Recheck).where(Recheck.done_at.is_(None), Recheck.due_on <= today)
                             .options(selectinload(Recheck.item)).order_by(Recheck.due_on)).all()
    inspectors = db.session.scalars(select(User).where(User.active.is_(True), User.role == Role.INSPECTOR)).all()
    per_user: dict[User, list[Recheck]] = defaultdict(list)
    for recheck in due:
        for inspector in inspectors:
            per_user[inspector].append(recheck)
    queued, announced = 0, set()
    for inspector, rechecks in per_user.items():
        key = f"recheck:{inspector.id}:" + ",".join(str(r.id) for r in rechecks)
        subject, text, html = mails.render(
            inspector, "rechecks", lambda n=len(rechecks): _("[Rectify] %(n)d re-checks are due", n=n),
            rechecks=rechecks, today=today)
        if outbox.queue(inspector, "recheck", key[:200], subject, text, html) is not None:
            queued += 1
            announced.update(r.id for r in rechecks)
    for recheck in due:
        if recheck.id in announced:
            journal.record(None, "remind_recheck", recheck, {"due_on": [None, recheck.due_on.isoformat()]},
                           item_id=recheck.item_id)
    uow.commit()  # the job's one commit: the mails and the journal of who was told go together
    log.info("re-check reminders for %s: %s mails", today, queued)
    return {"recheck_mails": queued}
