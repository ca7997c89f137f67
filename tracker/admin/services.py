"""Managing units and users: checked, validated, journaled and flushed; the caller commits."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from tracker import journal, uow
from tracker.api import tokens
from tracker.auth.models import UNIT_ROLES, Role, User
from tracker.auth.passwords import PASSWORD_MIN, policy_error
from tracker.auth.sessions import end_all_sessions
from tracker.errors import Invalid, Refused
from tracker.extensions import db
from tracker.notifications import channels
from tracker.units.models import WEBHOOK_MAX, RobotKind, Unit


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.role.can_administer():
        raise Refused(_("Only an administrator may manage units and users."))


def save_unit(actor: User | None, unit: Unit | None, name: str, code: str, parent_id: int | None,
              active: bool, signoff_required: bool = True, aliases: str | None = None,
              robot: dict | None = None) -> Unit:
    """Create (unit=None) or update a unit; `aliases` (other names, one per line) unchanged when
    None; `robot` (kind, webhook, secret, topics) sets its group robot when given (an empty secret
    keeps the current one)."""
    _require_admin(actor)
    name, code = (name or "").strip(), (code or "").strip().lower()
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = _("Enter a name of at most 100 characters.")
    if not code or len(code) > 40:
        errors["code"] = _("Enter a code of at most 40 characters.")
    taken = db.session.scalar(select(Unit).where((Unit.name == name) | (Unit.code == code)))
    if taken is not None and taken is not unit:
        errors["name" if taken.name == name else "code"] = _("Another unit already uses this.")
    parent = db.session.get(Unit, parent_id) if parent_id else None
    if parent_id and parent is None:
        errors["parent_id"] = _("Choose an existing unit.")
    elif parent is not None and unit is not None and _is_descendant(parent, unit):
        errors["parent_id"] = _("A unit cannot be placed under itself.")
    robot_values = _robot_values(robot, unit, errors) if robot is not None else {}
    if aliases is not None:
        names = [a.strip() for a in re.split(r"[\n、，,；;]+", aliases) if a.strip() and a.strip() != name]
        aliases = "\n".join(dict.fromkeys(names))
        if len(aliases) > 2000:
            errors["aliases"] = _("At most %(n)d characters.", n=2000)
    if errors:
        raise Invalid(errors)
    created = unit is None
    if created:
        unit = Unit(name=name, code=code, parent_id=parent_id, active=active,
                    signoff_required=bool(signoff_required), aliases=aliases or "")
        db.session.add(unit)
        db.session.flush()
        changes = {"name": [None, name], "code": [None, code], "parent_id": [None, parent_id],
                   "signoff_required": [None, bool(signoff_required)]}
    else:
        changes = journal.apply_changes(unit, {"name": name, "code": code, "parent_id": parent_id,
                                               "active": active, "signoff_required": bool(signoff_required),
                                               **({} if aliases is None else {"aliases": aliases})})
    for field, (old, new) in journal.apply_changes(unit, robot_values).items():
        # The webhook carries the robot's access token, the secret signs for it: neither is journaled.
        changes[field] = ["***", "***"] if field in ("robot_webhook", "robot_secret") else [old, new]
    if changes:
        journal.record(actor, "create" if created else "update", unit, changes)
    uow.flush()  # the same name saved by someone else a moment ago is a Conflict, not a 500
    return unit


def _robot_values(robot: dict, unit: Unit | None, errors: dict) -> dict:
    """The unit's robot columns from the form's values, or errors."""
    kind_name = (robot.get("kind") or "").strip()
    if not kind_name:
        return {"robot_kind": None, "robot_webhook": None, "robot_secret": None, "robot_topics": ""}
    try:
        kind = RobotKind(kind_name)
    except ValueError:
        errors["robot_kind"] = _("Choose a kind of robot.")
        return {}
    webhook = (robot.get("webhook") or "").strip()
    if not webhook:
        errors["robot_webhook"] = _("Enter the robot's webhook address.")
    elif len(webhook) > WEBHOOK_MAX:
        errors["robot_webhook"] = _("Enter a webhook address of at most %(n)d characters.", n=WEBHOOK_MAX)
    elif channels.webhook_problem(webhook):
        errors["robot_webhook"] = channels.webhook_problem(webhook)
    known = dict(channels.topic_choices())
    topics = [t for t in robot.get("topics") or [] if t in known]
    secret = (robot.get("secret") or "").strip() or (unit.robot_secret if unit is not None else None)
    return {"robot_kind": kind, "robot_webhook": webhook,
            "robot_secret": secret if kind == RobotKind.DINGTALK else None, "robot_topics": ",".join(topics)}


def _is_descendant(candidate: Unit, unit: Unit) -> bool:
    node = candidate
    while node is not None:
        if node.id == unit.id:
            return True
        node = node.parent
    return False


def save_user(actor: User | None, user: User | None, values: dict) -> User:
    """Create (user=None) or update an account; a new password ends the user's sessions."""
    _require_admin(actor)
    errors = {}
    username = (values.get("username") or "").strip()
    if not username or len(username) > 64:
        errors["username"] = _("Enter a username of at most 64 characters.")
    taken = db.session.scalar(select(User).where(User.username == username))
    if taken is not None and taken is not user:
        errors["username"] = _("This username is taken.")
    try:
        role = Role(values.get("role"))
    except ValueError:
        errors["role"] = _("Choose a role.")
        role = None
    unit_id = values.get("unit_id")
    if unit_id is not None and db.session.get(Unit, unit_id) is None:
        errors["unit_id"] = _("Choose an existing unit.")
    if role in UNIT_ROLES and unit_id is None:
        errors["unit_id"] = _("Heads and staff must belong to a unit.")
    password = values.get("password") or ""
    if user is None and len(password) < PASSWORD_MIN:
        errors["password"] = _("A new account needs a password of at least %(n)d characters.", n=PASSWORD_MIN)
    elif password and policy_error(password, username):
        errors["password"] = policy_error(password, username)
    if actor is not None and user is not None and user.id == actor.id and (
            role is None or not role.can_administer() or not values.get("active", True)):
        errors["role"] = _("You cannot remove your own administrator access.")
    channel_fields = _channel_values(values, errors)
    if errors:
        raise Invalid(errors)
    fields = {"username": username, "name": (values.get("name") or "").strip()[:100],
              "email": (values.get("email") or "").strip()[:254], "role": role, "unit_id": unit_id,
              "language": values.get("language") if values.get("language") in ("zh_CN", "en") else "zh_CN",
              "active": bool(values.get("active", True)), **channel_fields}
    created = user is None
    if created:
        user = User(**fields)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        changes = {k: [None, journal.plain(v)] for k, v in fields.items()}
    else:
        changes = journal.apply_changes(user, fields)
        if password:
            user.set_password(password)
            # A password set by someone else is a one-time password: changed at the next sign-in.
            user.must_change_password = actor is not None and actor.id != user.id
            end_all_sessions(user)
            if user.must_change_password:
                tokens.revoke_all(actor, user)
            changes["password"] = ["***", "***"]
        if not user.active:
            end_all_sessions(user)
    if "mobile" in changes:   # the journal is read more widely than the user form
        changes["mobile"] = [channels.masked(v) if v else v for v in changes["mobile"]]
    if changes:
        journal.record(actor, "create" if created else "update", user, changes)
    uow.flush()
    return user


def _channel_values(values: dict, errors: dict) -> dict:
    """The mobile number (normalised) and channel choices, for those keys `values` has."""
    fields = {key: bool(values[key]) for key in ("sms_enabled", "email_enabled") if key in values}
    if "mobile" in values:
        try:
            fields["mobile"] = channels.normalise_mobile(values["mobile"])
        except ValueError:
            errors["mobile"] = channels.mobile_error()
    return fields
