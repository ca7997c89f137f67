"""In the browser: an admin gives 县教育局 a DingTalk group robot on the unit form; an inspector lists
one of its items for supervision (挂牌督办); the group's robot (a real HTTP server) receives it."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import HttpReceiver


def test_an_admin_sets_a_units_robot_and_the_group_hears_of_a_listed_item(app, open_as, live_server, shots):
    from tracker.extensions import db
    from tracker.items.models import Item, Status
    from tracker.notifications import outbox
    from tracker.units.models import Unit

    robot = HttpReceiver(secret="SEC-e2e")
    try:
        admin = open_as("admin")
        admin.goto(f"{live_server}/admin/units")
        admin.locator("tr", has_text="县教育局").filter(has_not_text="股").get_by_role("link").first.click()
        admin.select_option("#robot_kind", "dingtalk")
        admin.fill("#robot_webhook", "http://example.org/robot/send?access_token=x")
        admin.fill("#robot_secret", robot.secret)
        admin.get_by_label("挂牌督办").check()
        admin.get_by_role("button", name="保存").click()
        expect(admin.locator(".errors")).to_contain_text("Webhook 地址必须以 https:// 开头")
        admin.fill("#robot_webhook", robot.url())
        admin.fill("#robot_secret", robot.secret)
        admin.screenshot(path=str(shots / "unit-robot.png"), full_page=True)
        admin.get_by_role("button", name="保存").click()
        expect(admin.locator(".flash-success")).to_be_visible()

        with app.app_context():
            unit_id = db.session.query(Unit.id).filter_by(name="县教育局").scalar()
            item = (db.session.query(Item).filter_by(lead_unit_id=unit_id, status=Status.IN_PROGRESS,
                                                     listed_supervision=False).order_by(Item.id).first())
            item_id, title = item.id, item.title
            db.session.remove()
        inspector = open_as("inspector")
        inspector.goto(f"{live_server}/items/{item_id}")
        inspector.get_by_role("button", name="挂牌督办").click()
        expect(inspector.locator(".flash-success")).to_be_visible()

        with app.app_context():
            outbox.flush()
            db.session.remove()
        [message] = robot.delivered
        assert robot.bad_signatures == 0
        assert title in message["markdown"]["text"] and f"/items/{item_id}" in message["markdown"]["text"]
    finally:
        robot.stop()
