"""Setting the channels from the browser: a unit's group robot on the unit form, a user's mobile
number and channel choices on the user form and the profile; bad input refused with a message."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.helpers import TODAY
from tracker.auth.models import Role
from tracker.journal import JournalEntry
from tracker.notifications import outbox, reminders
from tracker.units.models import RobotKind


def unit_form(unit, **robot):
    return {"name": unit.name, "code": unit.code, "active": "y", **robot}


def test_an_admin_sets_a_units_dingtalk_robot_and_the_group_hears_the_reminders(db, make, people, login_as, robot):
    admin = login_as(people["admin"])
    unit = people["unit"]
    response = admin.post(f"/admin/units/{unit.id}", unit_form(
        unit, robot_kind="dingtalk", robot_webhook=robot.url(), robot_secret=robot.secret,
        robot_topics=["reminders", "escalations"]))
    assert response.status_code == 302
    page = admin.get(f"/admin/units/{unit.id}")
    assert robot.url().replace("&", "&amp;") in page.text and robot.secret not in page.text   # the secret stays hidden
    assert re.search(r'<input[^>]*checked[^>]*value="reminders"', page.text)
    assert not re.search(r'<input[^>]*checked[^>]*value="supervision"', page.text)
    make.item(lead_unit=unit, owner=people["owner"], deadline=TODAY - dt.timedelta(days=1), title="食堂改造")
    reminders.scan()
    outbox.flush()
    [message] = robot.delivered
    assert robot.bad_signatures == 0 and "食堂改造" in message["markdown"]["text"]


def test_the_secret_is_kept_when_left_empty_and_never_journaled(db, make, login_as, people, robot):
    admin = login_as(people["admin"])
    unit = people["unit"]
    admin.post(f"/admin/units/{unit.id}", unit_form(unit, robot_kind="dingtalk", robot_webhook=robot.url(),
                                                    robot_secret="SEC-first", robot_topics=["reminders"]))
    admin.post(f"/admin/units/{unit.id}", unit_form(unit, robot_kind="dingtalk", robot_webhook=robot.url(),
                                                    robot_topics=["reminders", "supervision"]))
    db.session.expire_all()
    assert unit.robot_secret == "SEC-first" and unit.robot_topics == "reminders,supervision"
    journaled = str(db.session.scalars(select(JournalEntry.changes).where(JournalEntry.object_type == "units")).all())
    assert "SEC-first" not in journaled and "test-token" not in journaled and "supervision" in journaled


@pytest.mark.parametrize("webhook", ["http://oapi.dingtalk.com/robot/send?access_token=x", "ftp://example.org/x",
                                     "oapi.dingtalk.com/robot/send", "https://"])
def test_a_webhook_that_is_not_https_is_refused_at_save(db, make, login_as, people, webhook):
    admin = login_as(people["admin"])
    unit = people["unit"]
    response = admin.post(f"/admin/units/{unit.id}", unit_form(unit, robot_kind="wecom", robot_webhook=webhook,
                                                               robot_topics=["reminders"]))
    assert response.status_code == 422
    assert "The webhook address must start with https://" in response.text
    db.session.expire_all()
    assert unit.robot_kind is None


@pytest.mark.parametrize("webhook", ["https://oapi.dingtalk.com/robot/send?access_token=abc",
                                     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
                                     "http://127.0.0.1:8080/robot", "http://localhost/robot"])
def test_https_webhooks_and_loopback_for_tests_are_accepted(db, make, login_as, people, webhook):
    admin = login_as(people["admin"])
    unit = people["unit"]
    assert admin.post(f"/admin/units/{unit.id}", unit_form(unit, robot_kind="wecom", robot_webhook=webhook)
                      ).status_code == 302
    db.session.expire_all()
    assert unit.robot_kind == RobotKind.WECOM and unit.robot_webhook == webhook


def test_a_robot_without_an_address_is_refused_and_none_clears_it(db, login_as, people, robot):
    admin = login_as(people["admin"])
    unit = people["unit"]
    response = admin.post(f"/admin/units/{unit.id}", unit_form(unit, robot_kind="dingtalk", robot_webhook=""))
    assert response.status_code == 422 and "Enter the robot&#39;s webhook address." in response.text
    admin.post(f"/admin/units/{unit.id}", unit_form(unit, robot_kind="dingtalk", robot_webhook=robot.url(),
                                                    robot_topics=["reminders"]))
    admin.post(f"/admin/units/{unit.id}", unit_form(unit, robot_kind=""))
    db.session.expire_all()
    assert unit.robot_kind is None and unit.robot_webhook is None and unit.robot_topics == ""


# -- a user's mobile number and channels -----------------------------------------------------------

def user_form(user, **extra):
    return {"username": user.username, "name": user.name, "email": user.email, "role": user.role.value,
            "unit_id": user.unit_id or "", "language": user.language, "active": "y", **extra}


@pytest.mark.parametrize("typed, stored", [("+86 138 0013 8000", "13800138000"), ("138-0013-8000", "13800138000"),
                                           ("8613800138000", "13800138000"), ("  ", None)])
def test_the_admin_enters_a_mobile_number_in_any_usual_form(db, login_as, people, typed, stored):
    admin = login_as(people["admin"])
    owner = people["owner"]
    assert admin.post(f"/admin/users/{owner.id}", user_form(owner, mobile=typed, sms_enabled="y",
                                                            email_enabled="y")).status_code == 302
    db.session.expire_all()
    assert owner.mobile == stored and owner.sms_enabled and owner.email_enabled


@pytest.mark.parametrize("typed", ["12345", "23800138000", "+1 415 555 0100", "1380013800a"])
def test_a_number_that_is_not_a_mainland_mobile_is_refused(db, login_as, people, typed):
    admin = login_as(people["admin"])
    owner = people["owner"]
    response = admin.post(f"/admin/users/{owner.id}", user_form(owner, mobile=typed))
    assert response.status_code == 422 and "Enter a mainland mobile number of 11 digits" in response.text
    db.session.expire_all()
    assert owner.mobile is None


def test_a_user_sets_their_own_mobile_and_switches_sms_off_on_the_profile(db, login_as, people):
    browser = login_as(people["owner"])
    response = browser.post("/profile", {"mobile": "+86 139 0013 9000", "email_enabled": "y"})
    assert response.status_code == 302
    page = browser.get("/profile")
    assert 'value="13900139000"' in page.text
    db.session.expire_all()
    assert people["owner"].sms_enabled is False and people["owner"].email_enabled is True
    assert browser.post("/profile", {"mobile": "555"}).status_code == 422


def test_a_mobile_number_is_not_shown_to_other_units(db, make, login_as, people):
    people["owner"].mobile = "13800138000"
    db.session.commit()
    item = make.item(lead_unit=people["unit"], owner=people["owner"])
    stranger = login_as(make.user(Role.HEAD, unit=make.unit("县财政局")))
    for url in ("/items", "/notifications", "/profile"):
        page = stranger.get(url)
        assert page.status_code == 200 and "13800138000" not in page.text
    leader = login_as(people["leader"])
    for url in ("/items", f"/items/{item.id}", "/reminders"):
        page = leader.get(url)
        assert page.status_code == 200 and "13800138000" not in page.text
    assert "13800138000" in login_as(people["owner"]).get("/profile").text
