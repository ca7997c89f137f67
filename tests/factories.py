"""Builders for test data: units, users and items in any workflow state."""
from __future__ import annotations

import datetime as dt
import itertools

from tracker import clock
from tracker.auth.models import Role, User
from tracker.evaluations.models import Evaluation, Finding
from tracker.items.lights import refresh_schedule
from tracker.items.models import ClosureResult, Item, ItemKind, Status
from tracker.units.models import Unit

PASSWORD = "secret-pass"
_seq = itertools.count(1)


class Factory:
    def __init__(self, db):
        self.db = db
        self._finding = None

    def unit(self, name=None, **kw) -> Unit:
        n = next(_seq)
        unit = Unit(name=name or f"单位{n}", code=kw.pop("code", f"unit-{n}"), **kw)
        self.db.session.add(unit)
        self.db.session.commit()
        return unit

    def user(self, role=Role.HEAD, unit=None, username=None, **kw) -> User:
        n = next(_seq)
        role = Role(role)
        if role in (Role.HEAD, Role.STAFF) and unit is None:
            unit = self.unit()
        user = User(username=username or f"{role.value}{n}", name=kw.pop("name", f"{role.value} {n}"),
                    email=f"u{n}@example.org", role=role, unit=unit, **kw)
        user.set_password(PASSWORD)
        self.db.session.add(user)
        self.db.session.commit()
        return user

    def finding(self) -> Finding:
        if self._finding is None:
            evaluation = Evaluation(title="2019年度自评", year=2019, issuing_body="县政府",
                                    issued_on=dt.date(2019, 10, 10))
            self._finding = Finding(evaluation=evaluation, text="教师结构性短缺依然存在", category="教师")
            self.db.session.add(self._finding)
            self.db.session.commit()
        return self._finding

    def token(self, user, name="test", expires_on=None) -> str:
        """A personal API token of `user` (created as the token page does); returns its secret."""
        from tracker.api import tokens
        _token, secret = tokens.create_token(user, name, expires_on)
        self.db.session.commit()
        return secret

    def evidence(self, item, uploader=None, name="报告.pdf"):
        """An evidence row (its bytes are not stored: enough for rules that count evidence)."""
        from tracker.evidence.models import Evidence
        sha = f"{next(_seq):064x}"
        row = Evidence(item=item, storage_key=f"{sha[:2]}/{sha[2:4]}/{sha}", original_name=name, size=10,
                       content_type="application/pdf", sha256=sha,
                       uploaded_by_id=(uploader or self.user(Role.ADMIN)).id, uploaded_at=clock.now())
        self.db.session.add(row)
        self.db.session.commit()
        return row

    def item(self, status=Status.IN_PROGRESS, lead_unit=None, cooperating=(), owner=None,
             deadline=None, progress=0, title=None, start_on=None, with_evidence=False, **kw) -> Item:
        today = clock.today()
        lead_unit = lead_unit or self.unit()
        deadline = deadline or today + dt.timedelta(days=60)
        status = Status(status)
        item = Item(finding=kw.pop("finding", None) or self.finding(), title=title or f"整改事项{next(_seq)}", measures="措施", target="目标",
                    kind=ItemKind.DEADLINE, lead_unit=lead_unit, owner=owner, deadline=deadline,
                    original_deadline=deadline, status=status, progress_percent=progress,
                    last_activity_on=kw.pop("last_activity_on", today),
                    created_at=clock.now(), updated_at=clock.now(), **kw)
        item.cooperating_units = list(cooperating)
        if status != Status.DRAFT:
            item.assigned_at = clock.now()
            item.start_on = start_on or today - dt.timedelta(days=10)
        if status == Status.CLOSED:
            closer = self.user(Role.INSPECTOR)
            item.closed_at, item.closed_by_id, item.closure_result = clock.now(), closer.id, ClosureResult.RECTIFIED
        if status == Status.CANCELLED:
            item.cancelled_at, item.cancel_reason = clock.now(), "重复事项"
        if status == Status.RETURNED:
            item.return_reason = "佐证材料不足"
        refresh_schedule(item) if self._has_app() else None
        self.db.session.add(item)
        self.db.session.commit()
        if with_evidence:
            self.evidence(item)
        return item

    @staticmethod
    def _has_app() -> bool:
        from flask import has_app_context
        return has_app_context()
