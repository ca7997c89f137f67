"""The reminder record (催办记录) that leaders read in 约谈: per unit and per item, every reminder and
escalation with who was told, on which channel, and whether the message was delivered.

Filters (period of sending, kind, sort, page) come from the query string, read once here for the
pages and the sheet. A reminder belongs to the unit that led the item when it was sent
(Reminder.unit_id), so the record does not move with an item."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.auth.models import User
from tracker.extensions import db
from tracker.i18n import lazy_gettext as _l
from tracker.items.models import Item
from tracker.notifications import mails
from tracker.notifications.models import Notification, OutboxChannel, OutboxMessage, OutboxStatus, Reminder, ReminderKind
from tracker.paging import period_args
from tracker.reports.sheet import Column
from tracker.units.models import Unit

PER_PAGE = 50
KIND_LABELS = {
    ReminderKind.DUE_SOON: _l("Before the deadline"), ReminderKind.OVERDUE: _l("Overdue"),
    ReminderKind.ESCALATION: _l("Escalation"), ReminderKind.UNACKNOWLEDGED: _l("Not acknowledged"),
    ReminderKind.STALE: _l("No progress"), ReminderKind.MILESTONE_DUE: _l("Milestone due"),
    ReminderKind.MILESTONE_OVERDUE: _l("Milestone overdue"),
}
CHANNEL_LABELS = {"email": _l("By e-mail"), "sms": _l("SMS"), "robot": _l("Robot message")}
SORTS = {"date": (Reminder.sent_on, Reminder.id), "number": (Reminder.number, Reminder.sent_on, Reminder.id),
         "item": (Item.title, Reminder.sent_on, Reminder.id), "kind": (Reminder.kind, Reminder.sent_on, Reminder.id)}
DEFAULT_SORT = "-date"


@dataclass
class RecordFilter:
    start: dt.date | None = None
    end: dt.date | None = None
    kind: ReminderKind | None = None
    sort: str = DEFAULT_SORT
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)

    def args(self, **overrides) -> dict:
        """URL arguments of this filter (for links, the pager and the export), `overrides` applied."""
        values = {"start": self.raw.get("start") or None, "end": self.raw.get("end") or None,
                  "kind": self.kind.value if self.kind else None,
                  "sort": self.sort if self.sort != DEFAULT_SORT else None}
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    def sort_args(self, key: str) -> dict:
        """The link of a column heading: ascending first, then descending (the date: newest first)."""
        if self.sort == key:
            return self.args(sort="-" + key)
        if self.sort == "-" + key:
            return self.args(sort=key)
        return self.args(sort="-" + key if key == "date" else key)


def read_filter(args) -> RecordFilter:
    raw = {key: (args.get(key) or "").strip()[:40] for key in ("start", "end", "kind", "sort")}
    start, end, errors = period_args(raw)
    flt = RecordFilter(start=start, end=end, errors=errors, raw=raw)
    if raw["kind"] in set(ReminderKind):
        flt.kind = ReminderKind(raw["kind"])
    if raw["sort"].lstrip("-") in SORTS:
        flt.sort = raw["sort"]
    return flt


def _in_period(stmt: Select, column, flt: RecordFilter) -> Select:
    if flt.start is not None:
        stmt = stmt.where(column >= flt.start)
    if flt.end is not None:
        stmt = stmt.where(column <= flt.end)
    return stmt


def _filtered(stmt: Select, flt: RecordFilter, unit_id: int | None = None, item_id: int | None = None) -> Select:
    """The reminders of the filter's period and kind; of a unit (as lead unit when sent) or an item."""
    stmt = _in_period(stmt, Reminder.sent_on, flt)
    if flt.kind:
        stmt = stmt.where(Reminder.kind == flt.kind)
    if unit_id is not None:
        stmt = stmt.where(Reminder.unit_id == unit_id)
    if item_id is not None:
        stmt = stmt.where(Reminder.item_id == item_id)
    return stmt


def _escalations():
    return func.sum(case((Reminder.kind == ReminderKind.ESCALATION, 1), else_=0))


def reminders(flt: RecordFilter, **owner) -> Select:
    """The reminders of a unit (unit_id) or of an item (item_id), filtered and sorted."""
    columns = SORTS[flt.sort.lstrip("-")]
    order = [c.desc() for c in columns] if flt.sort.startswith("-") else list(columns)
    stmt = select(Reminder).join(Item, Item.id == Reminder.item_id)
    return _filtered(stmt, flt, **owner).order_by(*order).options(
        selectinload(Reminder.item), selectinload(Reminder.milestone), selectinload(Reminder.unit),
        selectinload(Reminder.notifications).selectinload(Notification.user),
        selectinload(Reminder.notifications).selectinload(Notification.outbox_message))


def page(flt: RecordFilter, page_number: int, **owner):
    return db.paginate(reminders(flt, **owner), page=page_number, per_page=PER_PAGE, error_out=False)


def count(flt: RecordFilter, **owner) -> tuple[int, int]:
    """Reminders and, of them, escalations (what the page's summary line says)."""
    stmt = select(func.count(Reminder.id), _escalations()).select_from(Reminder)
    total, escalated = db.session.execute(_filtered(stmt, flt, **owner)).one()
    return total or 0, int(escalated or 0)


@dataclass(frozen=True)
class UnitReminders:
    """One row of the record's unit list. (Not a dict: a template's `row.items` would read the
    dict's `items` method, and the page printed its repr.)"""
    unit: Unit
    reminders: int
    escalations: int
    items: int
    last: dt.date | None


def unit_summary(flt: RecordFilter | None = None) -> list[UnitReminders]:
    """Per unit: reminders and escalations received (as lead unit when sent), items concerned, the last."""
    escalations = _escalations()
    stmt = (select(Unit, func.count(Reminder.id), escalations, func.count(func.distinct(Reminder.item_id)),
                   func.max(Reminder.sent_on))
            .join(Reminder, Reminder.unit_id == Unit.id).group_by(Unit.id)
            .order_by(escalations.desc(), func.count(Reminder.id).desc(), Unit.name))
    rows = db.session.execute(_filtered(stmt, flt or RecordFilter())).all()
    return [UnitReminders(unit, total, int(escalated or 0), items, last) for unit, total, escalated, items, last in rows]


# -- delivery ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    channel: str        # label
    delivered: bool | None   # None: waiting
    state: str          # label
    detail: str = ""


def delivery(notification: Notification) -> Delivery:
    """How the person was told and whether it arrived: the outbox message's channel and status."""
    message = notification.outbox_message
    if message is None:
        return Delivery(str(_l("In the app")), True, _("Shown in the notifications list"))
    return message_delivery(message)


def message_delivery(message: OutboxMessage) -> Delivery:
    channel = message.channel or "email"
    label = str(CHANNEL_LABELS.get(channel, channel))
    if message.status == OutboxStatus.SENT:
        sent_on = clock.local_date(message.sent_at)
        return Delivery(label, True, _("Delivered"), sent_on.isoformat() if sent_on else "")
    if message.status == OutboxStatus.FAILED:
        return Delivery(label, False, _("Not delivered"), message.last_error or "")
    return Delivery(label, None, _("Waiting to be sent"))


def kind_label(reminder: Reminder) -> str:
    return str(KIND_LABELS[ReminderKind(reminder.kind)])


def number_label(reminder: Reminder) -> str:
    if reminder.is_escalation:
        return _("Reminder no. %(n)d, escalated", n=reminder.number)
    return _("Reminder no. %(n)d", n=reminder.number)


# -- the sheet ---------------------------------------------------------------------------------

COLUMNS: tuple[Column, ...] = (
    Column("sent_on", "日期", "Date", 12),
    Column("unit", "单位", "Unit", 20),
    Column("number", "催办次数", "Reminder", 18),
    Column("kind", "类型", "Kind", 12),
    Column("item_id", "事项编号", "Item no.", 8),
    Column("item", "整改事项", "Item", 36),
    Column("why", "事由", "Why", 36),
    Column("to", "发送对象", "Sent to", 18),
    Column("role", "身份", "As", 16),
    Column("channel", "渠道", "Channel", 10),
    Column("state", "送达情况", "Delivered", 12),
    Column("detail", "说明", "Detail", 24),
)


def sheet_rows(flt: RecordFilter, **owner):
    """One row per person told (a reminder nobody could be told about: one row without a name)."""
    for reminder in db.session.scalars(reminders(flt, **owner)).yield_per(500):
        base = {"sent_on": reminder.sent_on, "unit": reminder.unit.name, "number": number_label(reminder),
                "kind": kind_label(reminder), "item_id": reminder.item_id, "item": reminder.item.title,
                "why": mails.describe(reminder)}
        if not reminder.notifications:
            yield {**base, "to": "—"}
        for n in reminder.notifications:
            d = delivery(n)
            yield {**base, "to": n.user.name, "role": mails.role_label(n.role), "channel": d.channel,
                   "state": d.state, "detail": d.detail}


# -- beside the reminders: the 督办单 issued and the messages to the unit's group --------------

OTHERS_SHOWN = 50  # the latest of each, newest first (the page says how many there are in all)


def _counted(stmt: Select) -> int:
    return db.session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0


def supervision_notices(flt: RecordFilter, unit_id: int | None = None, item_id: int | None = None):
    """The 督办单 issued about the unit's (lead) items or the item in the period: (count, latest)."""
    from tracker.reports.models import SupervisionNotice
    stmt = select(SupervisionNotice).join(Item, Item.id == SupervisionNotice.item_id)
    if unit_id is not None:
        stmt = stmt.where(Item.lead_unit_id == unit_id)
    if item_id is not None:
        stmt = stmt.where(SupervisionNotice.item_id == item_id)
    stmt = _in_period(stmt, SupervisionNotice.issued_on, flt)
    rows = db.session.scalars(stmt.options(selectinload(SupervisionNotice.item), selectinload(SupervisionNotice.issued_by))
                              .order_by(SupervisionNotice.issued_on.desc(), SupervisionNotice.id.desc())
                              .limit(OTHERS_SHOWN)).all()
    return _counted(stmt), rows


def group_messages(flt: RecordFilter, unit_id: int):
    """The messages of the other channels about the unit, in the period: those queued for its group
    robot and the SMS to its people: (count, latest as (day, message))."""
    people = select(User.id).where(User.unit_id == unit_id)
    stmt = select(OutboxMessage).where(
        ((OutboxMessage.channel == OutboxChannel.ROBOT) & (OutboxMessage.unit_id == unit_id))
        | ((OutboxMessage.channel == OutboxChannel.SMS) & OutboxMessage.recipient_id.in_(people)))
    if flt.start is not None:
        stmt = stmt.where(OutboxMessage.created_at >= clock.local_midnight(flt.start))
    if flt.end is not None:
        stmt = stmt.where(OutboxMessage.created_at < clock.local_midnight(flt.end + dt.timedelta(days=1)))
    rows = db.session.scalars(stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                              .limit(OTHERS_SHOWN)).all()
    return _counted(stmt), [(clock.local_date(m.created_at), m) for m in rows]
