"""Users, roles and server-side sign-in sessions."""
from __future__ import annotations

import datetime as dt
import enum

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tracker import clock
from tracker.columns import UTCDateTime
from tracker.extensions import db
from tracker.units.models import Unit


class Role(enum.StrEnum):
    ADMIN = "admin"
    INSPECTOR = "inspector"
    HEAD = "head"
    STAFF = "staff"
    LEADER = "leader"

    # -- what the role alone decides, whatever the object ------------------------------------
    # The one place that groups roles: routes, templates (the navigation is rendered per role,
    # so it asks the role), the API, the workflow table and the services ask these; questions
    # about one object are the Item's can_* methods, which start from these.
    def acts_for_unit(self) -> bool:
        """Heads and staff act for their own unit, and see only its items."""
        return self in UNIT_ROLES

    def can_administer(self) -> bool:
        """Units, users, imports, the outbox; creating, editing and cancelling items."""
        return self is Role.ADMIN

    def can_read_everything(self) -> bool:
        """Every unit's items, the review queue and the reminder record."""
        return self in READ_ALL_ROLES

    def can_decide(self) -> bool:
        """Close or return submitted items, decide extensions, re-check, issue supervision notices."""
        return self in DECIDER_ROLES

    def can_see_drafts(self) -> bool:
        """Drafts (待交办) are the coordinator's work until handed out: admins prepare them and
        inspectors may read them; units and leaders see an item only once it is assigned."""
        return self in DECIDER_ROLES

    def can_answer_for_unit(self) -> bool:
        """A unit's head (and admins) answer for its work: return a cooperating unit's part, submit
        an item whose parts are not all done (with a reason)."""
        return self in (Role.ADMIN, Role.HEAD)

    def submits_through_head(self) -> bool:
        """Staff (联络员) prepare a submission for closure; where the unit signs off, it goes to the
        inspectors only once the unit's head has approved it (单位负责人审核)."""
        return self is Role.STAFF

    def can_sign_off(self) -> bool:
        """Approve or send back a staff member's submission: the unit's head, or the coordinator
        (admin) standing in, e.g. for a unit without an active head."""
        return self in SIGNER_ROLES

    def can_work_on_items(self) -> bool:
        """Post progress, add evidence, acknowledge and submit (on the items of one's unit)."""
        return self in WORKER_ROLES


UNIT_ROLES = frozenset({Role.HEAD, Role.STAFF})
READ_ALL_ROLES = frozenset({Role.ADMIN, Role.INSPECTOR, Role.LEADER})
DECIDER_ROLES = frozenset({Role.ADMIN, Role.INSPECTOR})
WORKER_ROLES = frozenset({Role.ADMIN, *UNIT_ROLES})
SIGNER_ROLES = frozenset({Role.ADMIN, Role.HEAD})


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # A head or staff member acts for a unit, so must belong to one.
        CheckConstraint("role NOT IN ('head', 'staff') OR unit_id IS NOT NULL", name="unit_role_has_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False,
                                            values_callable=lambda e: [m.value for m in e],
                                            create_constraint=True, length=20))
    language: Mapped[str] = mapped_column(String(10), default="zh_CN", server_default="zh_CN")
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    # The weekly digest can be switched off; reminders about one's own overdue items cannot.
    digest_opt_out: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Mainland mobile number, 11 digits (normalised on save); shown only to the user and admins.
    mobile: Mapped[str | None] = mapped_column(String(20))
    # Channels the user chose: SMS (when a mobile is set) and e-mail.
    sms_enabled: Mapped[bool] = mapped_column(default=True, server_default="1")
    email_enabled: Mapped[bool] = mapped_column(default=True, server_default="1")
    password_hash: Mapped[str] = mapped_column(String(256))
    # Set when an administrator resets the password: the user must choose a new one at sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    unit: Mapped[Unit | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def scope_key(self) -> str:
        """All a user's lists and numbers depend on besides the data (part of every cache key):
        every unit's items or one unit's, with drafts or without."""
        unit = "all" if self.reads_everything else str(self.unit_id)
        return f"{unit}+drafts" if self.role.can_see_drafts() else unit

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def reads_everything(self) -> bool:
        return self.role.can_read_everything()

    def __str__(self) -> str:
        return self.name


_DUMMY_HASHES: dict[str, str] = {}


def check_password_of_nobody(password: str) -> bool:
    """Spend the time of a real password check when no user has the name given, so that the
    answer's timing does not tell which usernames exist. Always False."""
    method = _hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("no user has this password", method=method)
    check_password_hash(_DUMMY_HASHES[method], password)
    return False


class LoginSession(db.Model):
    """One signed-in browser. Deleting the row ends that session, even for a copied cookie."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship()
