"""Who hears what on the other channels: a unit's group robot (DingTalk, WeCom) and SMS.

E-mail stays the channel of every reminder (mails.py). On top of it:

- a unit's **group robot** receives the kinds of message its administrator chose on the unit form
  (ROBOT_TOPICS): the day's reminders and escalations of the unit's items, and 挂牌督办 when an
  item is listed; one markdown message per unit and occasion, with the items' links;
- **SMS** goes, through the deployment's gateway, to users with a mobile number who did not switch
  it off, for reminders from the second overdue reminder on, escalations and 挂牌督办.

Everything is queued in the outbox in the caller's transaction (never sent for a change that
rolled back); robot and SMS messages queued in the quiet hours are due when they end.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from tracker import clock
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.i18n import lazy_gettext as _l
from tracker.items import hooks
from tracker.items.models import Status
from tracker.notifications import mails, outbox
from tracker.notifications.models import OutboxChannel, ReminderKind
from tracker.units.models import Unit

log = logging.getLogger(__name__)

# The kinds of message a unit's group robot may receive (the unit form's choices), in one place.
ROBOT_TOPICS = {
    "reminders": _l("Reminders"),
    "escalations": _l("Escalations"),
    "supervision": _l("Listed supervision"),
}
# Event notices (交办, 退回, ...) a group may also receive: topic -> label, filled by the event
# notices (their queueing calls queue_robot(unit, topic, ...)).
NOTICE_TOPICS: dict[str, object] = {}
ROBOT_LINES = 20   # items listed in one robot message; the rest is counted


def topic_choices() -> list[tuple[str, object]]:
    return list({**ROBOT_TOPICS, **NOTICE_TOPICS}.items())


# -- what the forms accept --------------------------------------------------------------------

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
_SEPARATORS = re.compile(r"[\s\-()（）]+")


def webhook_problem(url: str) -> str | None:
    """Why a robot's webhook address cannot be used, or None. Only https (plain http on this
    machine, for tests and development): the address carries the robot's access token."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if host and parts.scheme == "https":
        return None
    if host in _LOOPBACK and parts.scheme == "http":
        return None
    return _("The webhook address must start with https:// (plain http only on this machine, for tests).")


def normalise_mobile(raw: str | None) -> str | None:
    """A mainland mobile number as 11 digits (spaces, hyphens and +86 accepted); None when empty.
    ValueError when it is not one."""
    text = _SEPARATORS.sub("", raw or "")
    if not text:
        return None
    number = _MOBILE.fullmatch(text)
    if number is None:
        raise ValueError(text)
    return number.group(1)


def mobile_error() -> str:
    return _("Enter a mainland mobile number of 11 digits (spaces and +86 are fine).")


def masked(mobile: str | None) -> str:
    """138****5678: enough for an administrator to tell numbers apart on the outbox page."""
    return f"{mobile[:3]}****{mobile[-4:]}" if mobile and len(mobile) == 11 else (mobile or "")


# -- queueing ---------------------------------------------------------------------------------

def robot_row(unit: Unit, topic: str, key: str, title: str, text: str) -> dict | None:
    """The outbox row of a markdown message to the unit's group, or None when it does not hear `topic`."""
    if not unit.robot_hears(topic):
        return None
    return outbox.row(OutboxChannel.ROBOT, topic, key[:200], title, text, unit=unit, name=unit.name)


def queue_robot(unit: Unit, topic: str, key: str, title: str, text: str) -> bool:
    """Queue a markdown message to the unit's group if it hears `topic` (the caller commits)."""
    row = robot_row(unit, topic, key, title, text)
    return bool(row and outbox.queue_rows([row]))


def sms_row(person, kind: str, key: str, text: str) -> dict | None:
    """The outbox row of an SMS to `person` (a User or a people() row), or None when there is no
    gateway, no number, or the person switched SMS off."""
    if not current_app.config["SMS_GATEWAY_URL"] or not person.mobile or not person.sms_enabled:
        return None
    return outbox.row(OutboxChannel.SMS, kind, key[:200], text, text, recipient=person, address=person.mobile,
                      name=person.name)


def _fill(template: str, **values) -> str:
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError):
        log.warning("an SMS template has an unknown placeholder: %r", template)
        return template


def _short(title: str, limit: int = 30) -> str:
    return title if len(title) <= limit else title[:limit - 1] + "…"


def md(text: str) -> str:
    """Text safe inside a robot's markdown: no link, emphasis or heading of its own."""
    return re.sub(r"[\[\]()*_`#>|\r\n]+", " ", text or "").strip()


# -- the daily scan ---------------------------------------------------------------------------

def _topic(occasion) -> str:
    return "escalations" if occasion.is_escalation or occasion.escalate else "reminders"


def sms_worthy(occasion) -> bool:
    """Escalations, and overdue reminders from the second one on (slot k>=1 of `overdue:<date>:<k>`)."""
    if occasion.kind == ReminderKind.ESCALATION:
        return True
    return occasion.kind == ReminderKind.OVERDUE and int(occasion.key.rsplit(":", 1)[1]) >= 1


def queue_for_scan(occasions: list, per_person: dict, today: dt.date) -> dict[str, int]:
    """The scan's robot messages (one per unit) and SMS (one per person); added, not committed."""
    language = current_app.config["BABEL_DEFAULT_LOCALE"]
    with mails.phrasebook(language) as phrases:
        robots = outbox.queue_rows(_robot_rows(occasions, today, phrases))
        texts = outbox.queue_rows(_sms_rows(per_person, today, phrases))
    return {"robot": len(robots), "sms": len(texts)}


def _robot_rows(occasions: list, today: dt.date, phrases) -> list[dict]:
    per_unit: dict[int, list] = defaultdict(list)
    for occasion in occasions:
        per_unit[occasion.item.lead_unit_id].append(occasion)
    if not per_unit:
        return []
    units = db.session.scalars(select(Unit).where(Unit.robot_kind.is_not(None), Unit.robot_webhook.is_not(None),
                                                  Unit.id.in_(list(per_unit)))).all()
    rows = []
    for unit in units:
        heard = [o for o in per_unit[unit.id] if unit.robot_hears(_topic(o))]
        if not heard:
            continue
        lines = [{"heading": phrases.heading(o.number), "title": md(o.item.title), "url": phrases.item_url(o.item.id),
                  "text": phrases.describe(o)} for o in heard[:ROBOT_LINES]]
        escalated = any(_topic(o) == "escalations" for o in heard)
        title = mails.reminder_title(escalated, len(heard))
        text = phrases.robot_text("reminders", title=md(title), unit=md(unit.name), today=today, lines=lines,
                                  more=len(heard) - len(lines),
                                  list_url=phrases.url_for("items.ledger_page", _external=True))
        # (the unit hears every occasion in `heard`: no robot_row check that could refuse the whole)
        rows.append(outbox.row(OutboxChannel.ROBOT, "escalations" if escalated else "reminders",
                               f"robot:reminders:{unit.id}:{today.isoformat()}", title, text, unit=unit, name=unit.name))
    return rows


def _sms_rows(per_person: dict, today: dt.date, phrases) -> list[dict]:
    cfg = current_app.config
    if not cfg["SMS_GATEWAY_URL"]:
        return []
    rows = []
    for person, lines in per_person.items():
        worthy = [line for line in lines if sms_worthy(line.reminder)]
        if not worthy or not person.mobile or not person.sms_enabled:
            continue
        first = worthy[0].reminder
        escalated = any(line.reminder.kind == ReminderKind.ESCALATION for line in worthy)
        if len(worthy) == 1:
            template = cfg["SMS_TEMPLATE_ESCALATION" if escalated else "SMS_TEMPLATE_REMINDER"]
            url = phrases.item_url(first.item.id)
        else:   # one text for them all, linking to the person's notifications
            template, url = cfg["SMS_TEMPLATE_MANY"], phrases.url_for("notifications.mine", _external=True)
        text = _fill(template, name=person.name, title=_short(first.item.title), unit=worthy[0].unit_name,
                     days=first.days, deadline=first.item.deadline.isoformat(), number=first.number,
                     count=len(worthy), url=url)
        key = f"sms:{person.id}:{today.isoformat()}:{min(line.notification_id for line in worthy)}"
        rows.append(sms_row(person, "escalation" if escalated else "reminder", key, text))
    return [row for row in rows if row is not None]


# -- 挂牌督办 ---------------------------------------------------------------------------------

def queue_supervision_listed(item) -> dict[str, int]:
    """An item was listed for supervision: an SMS to its owner and the lead unit's heads, and a
    message to the unit's group if it hears "supervision". Added in the caller's transaction.
    A draft (待交办) is nobody's yet: its unit hears of it when it is assigned."""
    if item.status == Status.DRAFT:
        return {"sms": 0, "robot": 0}
    cfg = current_app.config
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    heads = (User.role == Role.HEAD) & (User.unit_id == item.lead_unit_id)
    people = db.session.scalars(select(User).where(User.active.is_(True), (User.id == item.owner_id) | heads)
                                .order_by(User.id)).all()
    unit = item.lead_unit
    with mails.phrasebook(cfg["BABEL_DEFAULT_LOCALE"]) as phrases:
        url = phrases.item_url(item.id)
        rows = [sms_row(person, "supervision", f"sms:supervision:{item.id}:{person.id}:{stamp}", _fill(
            cfg["SMS_TEMPLATE_SUPERVISION"], name=person.name, title=_short(item.title), unit=unit.name, days=0,
            deadline=item.deadline.isoformat(), number=0, count=1, url=url)) for person in people]
        title = _("[Rectify] Listed supervision: %(title)s", title=md(item.title))
        text = phrases.robot_text("supervision", title=md(title), item_title=md(item.title), unit=md(unit.name),
                                  deadline=item.deadline.isoformat(), url=url)
        robot = robot_row(unit, "supervision", f"robot:supervision:{item.id}:{stamp}", title, text)
    texts = [row for row in rows if row is not None]
    queued = outbox.queue_rows(texts + ([robot] if robot else []))
    return {"sms": sum(row["dedup_key"] in queued for row in texts),
            "robot": int(robot is not None and robot["dedup_key"] in queued)}


hooks.listed_for_supervision.append(queue_supervision_listed)
