"""Issuing a 督办单 (supervision notice) for an item: its yearly number, its record, its document,
and the list of an item's notices on the item page (registered in items.hooks)."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from tracker import journal
from tracker.auth.models import User
from tracker.errors import Refused
from tracker.extensions import db
from tracker.items import hooks, presentation
from tracker.items.models import Item
from tracker.items.services import item_for
from tracker.reports import documents, printable
from tracker.reports.models import DocumentNumber, SupervisionNotice

SERIES = "supervision_notice"
TEMPLATE = "supervision_notice.docx"


def number_statement(dialect: str, series: str, year: int):
    """The upsert that takes the next number of `series` in `year` and returns it: on PostgreSQL a
    second transaction waits on the counter's row until the first commits, on SQLite writers take
    turns, so two papers issued at once never share a number."""
    table = DocumentNumber.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(table).values(series=series, year=year, last_number=1)
            .on_conflict_do_update(index_elements=[table.c.series, table.c.year],
                                   set_={"last_number": table.c.last_number + 1})
            .returning(table.c.last_number))


def next_number(series: str, year: int) -> int:
    """The next number of `series` in `year`, in the session's transaction."""
    return db.session.execute(number_statement(db.session.get_bind().dialect.name, series, year)).scalar_one()


def issue(actor: User, item: Item, requirement: str, reply_by: dt.date, today: dt.date) -> SupervisionNotice:
    """Number and record a 督办单 for an escalated or listed item (inspectors and admins); flushes."""
    if not actor.role.can_decide():
        abort(403)
    if not printable.escalated(item, today):
        raise Refused(_("A supervision notice is only issued for an open item under listed supervision or "
                        "escalated."))
    notice = SupervisionNotice(item_id=item.id, year=today.year, number=next_number(SERIES, today.year),
                               issued_on=today, issued_by_id=actor.id,
                               requirement=requirement.strip()[:printable.REQUIREMENT_MAX], reply_by=reply_by)
    db.session.add(notice)
    db.session.flush()
    journal.record(actor, "issue_notice", notice, {"notice_number": [None, notice.reference],
                                                   "reply_by": [None, reply_by.isoformat()]}, item_id=item.id)
    return notice


def notice_for(user: User, notice_id: int) -> SupervisionNotice:
    """The notice when `user` may see its item; 404 otherwise (like the item itself)."""
    notice = db.session.get(SupervisionNotice, notice_id)
    if notice is None:
        abort(404)
    item_for(user, notice.item_id)
    return notice


def context(notice: SupervisionNotice) -> dict:
    """What the 督办单 says, as of the day it was issued."""
    item = notice.item
    tally = printable.reminder_tally(item.id, until=notice.issued_on)  # as of the notice's day
    days = max(0, (notice.issued_on - item.deadline).days)
    record = "尚未催办"
    if tally.count:
        record = (f"已催办{tally.count}次，其中升级督办{tally.escalations}次，"
                  f"最近一次{documents.chinese_date(tally.last)}")
    why = (f"已逾期{days}天" if days else "") + ("，列入挂牌督办" if item.listed_supervision else "")
    deadline = documents.chinese_date(item.deadline)
    if item.deadline != item.original_deadline:
        deadline += f"（原定{documents.chinese_date(item.original_deadline)}）"
    with force_locale("zh_CN"):
        status = str(presentation.STATUS_LABELS[item.status])
    source = item.finding.evaluation.title + (f" · {item.finding.indicator}" if item.finding.indicator else "")
    return {
        "office": current_app.config["OFFICE_NAME"] or "教育督导室", "number": notice.reference,
        "addressee": item.lead_unit.name, "why": why.lstrip("，") or "需加快推进", "item": {"title": item.title},
        "problem": documents.lines(item.finding.text), "source": source, "measures": documents.lines(item.measures),
        "lead_unit": item.lead_unit.name, "cooperating_units": "、".join(u.name for u in item.cooperating_units) or "无",
        "owner": item.owner.name if item.owner else "—", "deadline": deadline, "days_overdue": f"{days}天",
        "progress": f"{item.progress_percent}%（{status}）", "reminders": record,
        "requirement": documents.lines(notice.requirement), "reply_by": documents.chinese_date(notice.reply_by),
        "issued_on": documents.chinese_date(notice.issued_on),
    }


def download_name(notice: SupervisionNotice) -> str:
    return f"督办单{notice.year}-{notice.number}.docx"


def item_notices(item_id: int) -> list:
    return db.session.execute(select(SupervisionNotice.id, SupervisionNotice.year, SupervisionNotice.number,
                                     SupervisionNotice.issued_on).where(SupervisionNotice.item_id == item_id)
                              .order_by(SupervisionNotice.issued_on, SupervisionNotice.id)).all()


def page_part(item, user) -> dict:
    """The item page lists the 督办单 issued for it, each downloadable by whoever sees the item."""
    return {"supervision_notices": item_notices(item.id)}


hooks.page_parts.append(page_part)
