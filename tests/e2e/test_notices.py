"""The whole chain of an event notice in a real browser: an admin assigns (交办), the head sees it on
the notifications page at once, and when the window is over the mail is in the SMTP server."""
from __future__ import annotations

import datetime as dt

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.e2e.test_journeys import _action
from tests.helpers import free_port
from tests.notifications.conftest import Inbox
from tracker import clock
from tracker.extensions import db
from tracker.items.models import Item
from tracker.notifications import jobs, outbox

TITLE = "足额及时拨付生均公用经费"   # a draft of the demo, led by 县财政局, 县教育局 cooperating


@pytest.fixture
def smtp_server(app, monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    yield inbox
    controller.stop()


def test_an_assignment_reaches_the_head_on_the_page_and_by_mail(app, open_as, live_server, smtp_server, shots):
    with app.app_context():
        item_id = db.session.query(Item.id).filter_by(title=TITLE).scalar()
        db.session.remove()
    admin = open_as("admin")
    admin.goto(f"{live_server}/items/{item_id}")
    _action(admin, "交办")
    expect(admin.locator(".badges")).to_contain_text("已交办")

    head = open_as("head-finance")
    head.goto(f"{live_server}/notifications")
    row = head.locator("tr", has_text=TITLE)
    expect(row).to_contain_text("交办")
    expect(row).to_contain_text("本时段结束后发送")       # on the page at once, the mail waits
    head.screenshot(path=str(shots / "notices-head.png"), full_page=True)
    assert smtp_server.to("head-finance@rectify.example") == []

    with app.app_context():
        clock.freeze(clock.now() + dt.timedelta(minutes=app.config["NOTICE_WINDOW_MINUTES"]))
        jobs.notices_job()
        outbox.flush()
        db.session.remove()
    mails = smtp_server.to("head-finance@rectify.example")
    assert [m["Subject"] for m in mails] == [f"【整改通】交办：{TITLE}"]
    html = mails[0].get_body(("html",)).get_content()
    assert "查看事项" in html and f"/items/{item_id}\"" in html and "县财政局" in html
    assert [m["Subject"] for m in smtp_server.to("head-edu@rectify.example")] == [f"【整改通】交办：{TITLE}"]
    assert smtp_server.to("admin@rectify.example") == []                         # the actor is not told
    head.reload()
    expect(head.locator("tr", has_text=TITLE)).to_contain_text("已发送")


def test_the_whole_chain_an_assignment_reaches_the_head_the_mailbox_and_the_units_group_robot(
        app, open_as, live_server, smtp_server, shots):
    """Issue 18's chain: the admin gives 县财政局 a group robot hearing 交办 on the unit form, then
    hands it an item from the item page; its head sees the notice at once; after the window the mail
    is in the SMTP server and the unit's robot (a real HTTP server on loopback) has its markdown."""
    from tests.helpers import HttpReceiver

    robot = HttpReceiver(secret="SEC-chain")
    try:
        with app.app_context():
            item_id = db.session.query(Item.id).filter_by(title=TITLE).scalar()
            db.session.remove()
        admin = open_as("admin")
        admin.goto(f"{live_server}/admin/units")
        admin.locator("tr", has_text="县财政局").get_by_role("link").first.click()
        admin.select_option("#robot_kind", "dingtalk")
        admin.fill("#robot_webhook", robot.url())
        admin.fill("#robot_secret", robot.secret)
        admin.get_by_label("事项交办给本单位").check()
        admin.get_by_role("button", name="保存").click()
        expect(admin.locator(".flash-success")).to_be_visible()

        admin.goto(f"{live_server}/items/{item_id}")
        _action(admin, "交办")
        expect(admin.locator(".badges")).to_contain_text("已交办")
        with app.app_context():
            outbox.flush()                      # the robot's message waits for nothing but the sender
            db.session.remove()

        head = open_as("head-finance")
        head.goto(f"{live_server}/notifications")
        expect(head.locator("tr", has_text=TITLE)).to_contain_text("交办")
        head.screenshot(path=str(shots / "notices-chain-head.png"), full_page=True)

        with app.app_context():
            clock.freeze(clock.now() + dt.timedelta(minutes=app.config["NOTICE_WINDOW_MINUTES"]))
            jobs.notices_job()
            outbox.flush()
            db.session.remove()
        mails = smtp_server.to("head-finance@rectify.example")
        assert [m["Subject"] for m in mails] == [f"【整改通】交办：{TITLE}"]
        assert f"/items/{item_id}" in mails[0].get_body(("plain",)).get_content()

        [message] = robot.delivered
        assert robot.bad_signatures == 0
        assert message["msgtype"] == "markdown"
        text = message["markdown"]["text"]
        assert TITLE in text and "县财政局" in text and f"/items/{item_id}" in text
    finally:
        robot.stop()
