"""The pages leaders use for 通报 and 约谈, in the browser, in Chinese and English, with screenshots
(test-artifacts/screenshots/) and a printed reminder record (test-artifacts/print/)."""
from __future__ import annotations

import pytest

from tests.e2e.test_printing import PRINTS, printed
from tracker import clock
from tracker.extensions import db
from tracker.notifications import outbox, reminders
from tracker.units.models import Unit

ESCALATED = "建立书记、校长履职监督和科学评价机制"  # 县教育局's item, 10 days overdue, escalated


@pytest.fixture
def reminded(app, live_server, tmp_path, monkeypatch):
    """The demo after this morning's scan, its mail sent (to the mail log): the record has rows."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_LOG", str(tmp_path / "mail.log"))
    with app.app_context():
        reminders.scan(clock.today())
        outbox.flush()
        unit_id = db.session.query(Unit.id).filter_by(name="县教育局").scalar()
        db.session.remove()
    return unit_id


def test_the_reminder_record_in_chinese_and_english(open_as, live_server, reminded, shots):
    page = open_as("leader")
    page.goto(f"{live_server}/reminders")
    page.click("#record-units >> text=县教育局")
    page.wait_for_load_state()
    assert page.inner_text("h1") == "县教育局的催办记录"
    body = page.inner_text("#record")
    assert ESCALATED in body and "第2次催办" in body and "县教育局负责人" in body and "邮件" in body
    assert "已送达" in body
    page.screenshot(path=str(shots / "reminder-record-zh.png"), full_page=True)
    page.select_option("#kind", "escalation")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "升级督办" in page.inner_text("#record-count")
    page.goto(f"{live_server}/reminders/units/{reminded}?lang=en")
    assert page.inner_text("h1") == "Reminder record of 县教育局"
    body = page.inner_text("#record")
    assert "Reminder no. 2" in body and "By e-mail" in body and "Delivered" in body
    page.screenshot(path=str(shots / "reminder-record-en.png"), full_page=True)
    page.click(f"#record >> text={ESCALATED}")
    page.wait_for_load_state()
    assert ESCALATED in page.inner_text("h1")


def test_the_reminder_record_prints_across_the_page(open_as, live_server, reminded):
    PRINTS.mkdir(parents=True, exist_ok=True)
    page = open_as("leader")
    text, sizes = printed(page, f"{live_server}/reminders/units/{reminded}", PRINTS / "reminder-record.pdf")
    assert sizes and all(float(w) > float(h) for w, h in (s.split(" x ") for s in sizes))  # landscape
    flat = text.replace(" ", "")
    assert "县教育局的催办记录" in flat and "县教育局负责人" in flat and "跳到正文" not in flat
    assert "下载xlsx" not in flat  # the export link and the filters are not printed


def test_the_statistics_page_in_chinese_and_english(open_as, live_server, reminded, shots):
    page = open_as("leader")
    page.goto(f"{live_server}/reports/")
    page.click("nav >> text=统计")
    page.wait_for_load_state()
    assert page.inner_text("h1") == "单位统计"
    first = page.eval_on_selector("#statistics tbody tr", "r => [...r.cells].map(c => c.innerText.trim())")
    assert first[:6] == ["1", "县人社局", "2", "1", "0", "1"]  # its part of an item reported done
    assert "排名规则" in page.inner_text("#ranking-rule")
    assert page.locator("#trend svg").count() == 1
    page.screenshot(path=str(shots / "statistics-zh.png"), full_page=True)
    page.fill("#start", "2026-03-10")
    page.fill("#end", "2026-01-01")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "结束日期（2026-01-01）早于开始日期（2026-03-10）" in page.inner_text("#filter-errors")
    page.screenshot(path=str(shots / "statistics-wrong-period-zh.png"), full_page=True)
    page.goto(f"{live_server}/reports/statistics?lang=en&start=2025-01-01&end=2025-12-31")
    assert "No item was handed out in this period" in page.inner_text("#no-data")
    page.goto(f"{live_server}/reports/statistics?lang=en")
    assert page.inner_text("h1") == "Unit statistics"
    assert "Units are ranked by their on-time rate" in page.inner_text("#ranking-rule")
    page.screenshot(path=str(shots / "statistics-en.png"), full_page=True)
