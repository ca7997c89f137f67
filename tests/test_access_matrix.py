"""Access control as a matrix: every route of app.url_map × every role × own and other unit's object.

ACCESS below declares, per endpoint, what each kind of caller gets. A route that is not declared
fails the suite, so a new page or API cannot ship without saying who may use it.

Outcomes: OK (the route answers the caller: 2xx/3xx other than to the sign-in page, or 4xx about the
input such as 400/409/422), LOGIN (anonymous: sent to sign in, 401 for the API), DENY (403), HIDDEN (404,
exactly like a missing object). REACHED is OK where the test cannot make the object (404 allowed).
Callers: anon, admin, inspector, leader, head, staff on their own unit's object, and `other`: a head
and a staff member of another unit on that unit's object.
"""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from werkzeug.datastructures import FileStorage

from tests.helpers import ApiClient
from tests.evidence import samples
from tracker import clock
from tracker.auth.models import Role

OK, LOGIN, DENY, HIDDEN, REACHED = "ok", "login", "deny", "hidden", "reached"
CALLERS = ("anon", "admin", "inspector", "leader", "head", "staff", "other")


def rule(anon=LOGIN, admin=OK, inspector=OK, leader=OK, head=OK, staff=OK, other=None) -> dict:
    """Expected outcome per caller; `other` defaults to what the head gets."""
    return {"anon": anon, "admin": admin, "inspector": inspector, "leader": leader, "head": head,
            "staff": staff, "other": head if other is None else other}


PUBLIC = rule(anon=OK)
SIGNED_IN = rule()
ADMIN_ONLY = rule(inspector=DENY, leader=DENY, head=DENY, staff=DENY)
READERS = rule(head=DENY, staff=DENY)                       # admin, inspector, leader
DECIDERS = rule(leader=DENY, head=DENY, staff=DENY)         # admin, inspector
ITEM = rule(other=HIDDEN)                                   # the item's units and readers
ITEM_DECIDERS = rule(leader=DENY, head=DENY, staff=DENY, other=DENY)
UNIT_WRITERS = rule(inspector=DENY, leader=DENY, other=HIDDEN)  # API writes: admin and the item's units

ACCESS: dict[str, dict] = {
    "static": PUBLIC, "healthz": PUBLIC,
    # sign-in, profile, tokens
    "auth.login": PUBLIC, "auth.change_password": SIGNED_IN,
    "kept.send": rule(admin=HIDDEN, inspector=HIDDEN, leader=HIDDEN, head=HIDDEN, staff=HIDDEN),  # none kept
    "kept.discard": SIGNED_IN,
    "auth.logout": dict.fromkeys(CALLERS, LOGIN),  # everyone ends on the sign-in page
    "notifications.profile": SIGNED_IN, "notifications.mine": SIGNED_IN,
    "tokens.index": SIGNED_IN, "tokens.revoke": rule(other=HIDDEN),
    # ledger and items
    "items.home": SIGNED_IN, "items.ledger_page": SIGNED_IN, "items.my_items": SIGNED_IN,
    "items.create": ADMIN_ONLY, "items.edit": rule(inspector=DENY, leader=DENY, head=DENY, staff=DENY, other=DENY),
    "items.detail": ITEM, "items.post_progress": ITEM, "items.act": ITEM, "items.add_milestone": ITEM,
    "items.complete_milestone": ITEM, "items.bulk": ADMIN_ONLY,
    "evidence.attach": ITEM, "evidence.download": ITEM, "evidence.preview": ITEM, "evidence.withdraw": ITEM,
    # a cooperating unit's part (the services refuse who may not take the step: a redirect, OK here)
    "parts.step": ITEM, "parts.progress": ITEM, "parts.edit": ITEM,
    "evaluations.index": SIGNED_IN, "evaluations.detail": SIGNED_IN,
    # administration
    "admin.units": ADMIN_ONLY, "admin.unit_form": ADMIN_ONLY, "admin.users": ADMIN_ONLY,
    "admin.user_form": ADMIN_ONLY,
    "notifications.outbox_page": ADMIN_ONLY, "notifications.retry": ADMIN_ONLY,
    "notifications.units": READERS, "notifications.unit_record": READERS,
    "notifications.unit_record_xlsx": READERS, "notifications.item_record": rule(head=DENY, staff=DENY, other=DENY),
    "notifications.item_record_xlsx": rule(head=DENY, staff=DENY, other=DENY),
    # inspection
    "inspection.queue": READERS, "inspection.request_extension": ITEM, "inspection.decide_extension": ITEM,
    "inspection.add_requirement": ITEM, "inspection.listed": ITEM, "inspection.schedule_recheck": ITEM,
    "inspection.record_recheck": ITEM, "inspection.rerate": DECIDERS,
    # reports
    "reports.statistics_page": READERS, "reports.statistics_xlsx": READERS,
    "reports.dashboard_page": SIGNED_IN, "reports.overdue_report": SIGNED_IN,
    "reports.export_ledger": SIGNED_IN, "reports.unit_report": rule(other=HIDDEN), "reports.notice": ITEM_DECIDERS,
    "reports.issue_notice": ITEM_DECIDERS, "reports.notice_document": ITEM, "reports.progress_report": READERS,
    "reports.circular_document": READERS, "reports.papers_page": READERS,
    "reports.import_page": ADMIN_ONLY, "reports.import_sample": ADMIN_ONLY,
    "reports.import_preview": {**ADMIN_ONLY, "admin": REACHED},
    "reports.import_create_units": {**ADMIN_ONLY, "admin": REACHED},
    "reports.import_confirm": {**ADMIN_ONLY, "admin": REACHED},
    "reports.import_dates": {**ADMIN_ONLY, "admin": REACHED},
    "reports.import_choices": {**ADMIN_ONLY, "admin": REACHED},
    # the JSON API (token callers)
    "api.unit_statistics": READERS,
    "api.openapi": PUBLIC, "api.me": SIGNED_IN, "api.list_items": SIGNED_IN, "api.list_units": SIGNED_IN,
    "api.list_evaluations": SIGNED_IN, "api.get_item": ITEM, "api.download_evidence": ITEM,
    "api.post_progress": UNIT_WRITERS, "api.upload_evidence": UNIT_WRITERS,
    "api.perform_action": UNIT_WRITERS,  # with action=acknowledge: admin and the lead unit
    "api.part_step": UNIT_WRITERS,       # with step=acknowledge: the part's unit (the lead unit: refused, 409)
}


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


def test_every_route_is_classified(app):
    missing = sorted({r.endpoint for r in _rules(app)} - set(ACCESS))
    assert not missing, "\n".join(
        f"Route {e!r} has no access rule: add '{e}': <rule> to ACCESS in tests/test_access_matrix.py "
        f"(who may use it: PUBLIC, SIGNED_IN, ADMIN_ONLY, READERS, DECIDERS, ITEM, ...)" for e in missing)


@pytest.fixture
def world(make, db, app):
    """Two units, a caller of each role, and objects of every kind for each unit."""
    from tracker.api import tokens
    from tracker.evaluations.models import Indicator
    from tracker.evidence import services as evidence_services
    from tracker.inspection.models import ExtensionRequest, Recheck
    from tracker.items.models import Milestone, Status
    from tracker.notifications.models import OutboxMessage
    from tracker.parts.models import Part
    from tracker.reports.models import SupervisionNotice

    own, foreign, partner = make.unit(), make.unit(), make.unit()
    users = {"admin": make.user(Role.ADMIN), "inspector": make.user(Role.INSPECTOR),
             "leader": make.user(Role.LEADER), "head": make.user(Role.HEAD, unit=own),
             "staff": make.user(Role.STAFF, unit=own), "other-head": make.user(Role.HEAD, unit=foreign),
             "other-staff": make.user(Role.STAFF, unit=foreign)}
    finding = make.finding()
    indicator = Indicator(evaluation=finding.evaluation, level=1, code="1", sort_key="0001", name="保障")
    db.session.add(indicator)
    objects = {}
    for side, unit in (("own", own),):
        item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, cooperating=[partner])
        evidence_services.attach(users["admin"], item, [FileStorage(io.BytesIO(samples.pdf(side)), "a.pdf")])
        db.session.commit()
        milestone = Milestone(item_id=item.id, title="阶段", due_on=clock.today() + dt.timedelta(days=9))
        extension = ExtensionRequest(item_id=item.id, requested_by_id=users["admin"].id, reason="原因",
                                     current_deadline=item.deadline,
                                     requested_deadline=item.deadline + dt.timedelta(days=30))
        recheck = Recheck(item_id=item.id, due_on=clock.today(), scheduled_by_id=users["admin"].id)
        part = Part(item_id=item.id, unit_id=partner.id, request="配合", deadline=item.deadline,
                    last_activity_on=clock.today())
        notice = SupervisionNotice(item_id=item.id, year=2026, number=1, issued_on=clock.today(),
                                   issued_by_id=users["admin"].id, requirement="要求", reply_by=clock.today())
        db.session.add_all([milestone, extension, recheck, part, notice])
        db.session.commit()
        objects[side] = {"item_id": item.id, "evidence_id": item_evidence_id(db, item), "milestone_id": milestone.id,
                         "request_id": extension.id, "recheck_id": recheck.id, "unit_id": unit.id,
                         "part_id": part.id, "notice_id": notice.id}
    message = OutboxMessage(dedup_key="matrix", kind="reminder", to_address="a@example.org", subject="s",
                            body_text="t", body_html="h")
    db.session.add(message)
    db.session.commit()
    shared = {"message_id": message.id, "evaluation_id": finding.evaluation_id, "indicator_id": indicator.id,
              "user_id": users["head"].id, "action": "acknowledge", "decision": "approve", "state": "on",
              "fmt": "csv", "kind": "ledger", "token": "no-such-import", "filename": "app.css",
              "step": "acknowledge"}
    secrets = {name: tokens.create_token(user, "matrix", None) for name, user in users.items()}
    db.session.commit()
    return {"users": users, "objects": objects, "shared": shared, "tokens": secrets}


def item_evidence_id(db, item) -> int:
    from tracker.evidence.models import Evidence
    return db.session.query(Evidence.id).filter_by(item_id=item.id).scalar()


def _values(world, rule_, caller: str) -> dict:
    """URL values: the objects of the head's unit; the caller's own token (another's for `other`)."""
    values = {**world["shared"], **world["objects"]["own"]}
    owner = caller if caller in world["tokens"] else "head"
    values["token_id"] = world["tokens"][owner][0].id
    return {name: values[name] for name in rule_.arguments}


def _outcome(response, is_api: bool) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    if status == 401 or (status in (301, 302, 303) and "/login" in location and not is_api):
        return LOGIN
    if status == 403:
        return DENY
    if status == 404:
        return HIDDEN
    assert status < 500, f"server error {status}"
    return OK


PEOPLE = [("anon", None), ("admin", "admin"), ("inspector", "inspector"), ("leader", "leader"),
          ("head", "head"), ("staff", "staff"), ("other", "other-head"), ("other", "other-staff")]
# Requests that end the caller's session or credentials go last.
LAST = ("tokens.revoke", "auth.logout")


def _order(endpoint: str) -> tuple:
    return (endpoint in LAST, LAST.index(endpoint) if endpoint in LAST else 0, endpoint)


def _call(client, method: str, url: str, is_api: bool):
    if method == "GET":
        return client.get(url)
    if is_api:
        return client.post(url, json={})
    return client.post(url, {})


@pytest.mark.parametrize("caller, person", PEOPLE, ids=[p or "anonymous" for _, p in PEOPLE])
def test_access(app, world, login_as, caller, person):
    """One caller against every classified route (pages with a session, the API with a token)."""
    from tests.helpers import Browser
    browser = login_as(world["users"][person]) if person else Browser(app)
    api = ApiClient(app, world["tokens"][person][1] if person else None)
    failures = []
    for rule_ in sorted(_rules(app), key=lambda r: _order(r.endpoint)):
        if rule_.endpoint not in ACCESS:
            continue  # reported by test_every_route_is_classified
        is_api = rule_.endpoint.startswith("api.")
        want = ACCESS[rule_.endpoint][caller]
        with app.test_request_context():
            from flask import url_for
            url = url_for(rule_.endpoint, **_values(world, rule_, caller))
        for method in sorted(rule_.methods - {"HEAD", "OPTIONS"}):
            got = _outcome(_call(api if is_api else browser, method, url, is_api), is_api)
            if got != want and not (want == REACHED and got in (OK, HIDDEN)):
                failures.append(f"{rule_.endpoint}: {method} {url} as {person or 'anonymous'}: "
                                f"expected {want}, got {got}")
    assert not failures, "\n".join(failures)


def test_unclassified_message_names_the_endpoint(app):
    """The failure for a new route says exactly what to add (checked on a fake route name)."""
    message = (f"Route {'reports.new_page'!r} has no access rule: add 'reports.new_page': <rule> to ACCESS in "
               "tests/test_access_matrix.py")
    assert re.search(r"add 'reports\.new_page': <rule> to ACCESS", message)
