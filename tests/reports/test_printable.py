"""Per-unit and overdue reports and the supervision notice (督办单): printable, exportable, scoped."""
import datetime as dt
import re

import pytest
from babel.dates import format_date

from tracker.auth.models import Role
from tracker.items.models import Status
from tracker.notifications.models import Reminder, ReminderKind

D = dt.timedelta


def remind(db, item, kind=ReminderKind.OVERDUE, days_ago=0, today=None):
    number = db.session.query(Reminder).filter_by(item_id=item.id).count() + 1
    db.session.add(Reminder(item_id=item.id, unit_id=item.lead_unit_id, kind=kind, occasion=f"t:{number}",
                            number=number, days=0, sent_on=today - D(days=days_ago)))
    db.session.commit()


def cell(page, element_id) -> str:
    return re.sub(r"<[^>]+>|\s+", " ", re.search(rf'id="{element_id}">(.*?)</(dd|b)>', page.text, re.S)
                  .group(1)).strip()


@pytest.fixture
def units(make, today, db):
    edu, fin = make.unit("县教育局"), make.unit("县财政局")
    late = make.item(lead_unit=edu, title="超期未改甲", deadline=today - D(days=9), listed_supervision=True)
    make.item(lead_unit=edu, title="销号甲", status=Status.CLOSED)
    make.item(lead_unit=fin, cooperating=[edu], title="协同补短板乙", deadline=today - D(days=2))
    remind(db, late, today=today, days_ago=6)
    remind(db, late, ReminderKind.ESCALATION, today=today, days_ago=1)
    return edu, fin, late


def test_unit_report_counts_and_lists_lead_and_cooperating_items(login_as, make, units):
    edu, _fin, _late = units
    page = login_as(make.user(Role.LEADER)).get(f"/reports/units/{edu.id}?lang=en")
    assert page.status_code == 200
    assert cell(page, "unit-total") == "2" and cell(page, "unit-overdue") == "1"
    assert cell(page, "unit-rate") == "50%" and cell(page, "unit-reminders") == "2"
    assert "超期未改甲" in page.text and "协同补短板乙" in page.text and "Cooperating unit" in page.text
    assert f"/reports/ledger.xlsx?unit={edu.id}" in page.text.replace("&amp;", "&")


def test_a_head_reads_the_own_unit_report_only(login_as, make, units):
    edu, fin, _late = units
    head = login_as(make.user(Role.HEAD, unit=fin))
    assert head.get(f"/reports/units/{fin.id}").status_code == 200
    assert head.get(f"/reports/units/{edu.id}").status_code == 404
    assert head.get("/reports/units/99999").status_code == 404


def test_overdue_report_longest_first_with_days_and_reminders(login_as, make, units):
    page = login_as(make.user(Role.INSPECTOR)).get("/reports/overdue?lang=en")
    rows = re.findall(r'<a href="/items/\d+">([^<]+)</a>', page.text)
    assert rows == ["超期未改甲", "协同补短板乙"]
    assert re.search(r'class="num alert">9<', page.text) and re.search(r'class="num alert">2<', page.text)
    assert "2 (Escalations 1)" in page.text
    assert "/reports/ledger.csv?overdue=1" in page.text.replace("&amp;", "&")


def test_overdue_report_of_a_head_shows_the_unit_items(login_as, make, units):
    _edu, fin, _late = units
    head = login_as(make.user(Role.HEAD, unit=fin))
    page = head.get("/reports/overdue")
    assert "协同补短板乙" in page.text and "超期未改甲" not in page.text
    assert "/notice" not in page.text
    assert "· 共 1 项</p>" in page.text and "· 1 item</p>" in head.get("/reports/overdue?lang=en").text  # not "1 items"


def test_supervision_notice_of_a_listed_item(login_as, make, units, today):
    _edu, _fin, late = units
    inspector = login_as(make.user(Role.INSPECTOR))
    page = inspector.get(f"/reports/items/{late.id}/notice?lang=en&requirement=<script>x</script>本周报送"
                         f"&reply_by={(today + D(days=5)).isoformat()}")
    assert page.status_code == 200
    assert cell(page, "notice-days") == "9"
    assert cell(page, "notice-reminders") == f"2 reminders, 1 escalation · last on {en_day(today - D(days=1))}"
    assert cell(page, "notice-reply-by") == en_day(today + D(days=5))
    assert "&lt;script&gt;x&lt;/script&gt;本周报送" in page.text and "<script>x" not in page.text


def test_notice_has_a_default_requirement_and_reply_date(login_as, make, units, today):
    page = login_as(make.user(Role.ADMIN)).get(f"/reports/items/{units[2].id}/notice?lang=en")
    assert "Report the progress of this item" in page.text
    assert cell(page, "notice-reply-by") == en_day(today + D(days=7))
    assert cell(page, "notice-requirement")


def test_no_notice_for_an_item_neither_listed_nor_escalated(login_as, make, today):
    item = make.item(deadline=today - D(days=2))
    response = login_as(make.user(Role.INSPECTOR)).get(f"/reports/items/{item.id}/notice")
    assert response.status_code == 302 and response.location.endswith(f"/items/{item.id}")


def test_notice_is_for_inspectors_and_admins(login_as, make, units):
    edu, _fin, late = units
    assert login_as(make.user(Role.HEAD, unit=edu)).get(f"/reports/items/{late.id}/notice").status_code == 403
    assert login_as(make.user(Role.INSPECTOR)).get("/reports/items/99999/notice").status_code == 404


def test_bad_reply_date_is_refused_in_plain_words(login_as, make, units):
    page = login_as(make.user(Role.ADMIN)).get(f"/reports/items/{units[2].id}/notice?reply_by=next+week")
    assert page.status_code == 422


def test_nav_and_ledger_link_to_reports(login_as, make):
    page = login_as(make.user(Role.LEADER)).get("/items?status=in_progress")
    assert 'href="/reports/"' in page.text and 'href="/reports/overdue"' in page.text
    assert "/reports/ledger.xlsx?status=in_progress" in page.text.replace("&amp;", "&")
    assert "/reports/import" not in page.text  # admins only


def en_day(day) -> str:
    """How an English page writes a date (Mar 16, 2026)."""
    return format_date(day, "medium", locale="en")


@pytest.mark.parametrize("lang, addressee, reminders, receipt", [
    ("zh_CN", "县教育局（配合单位：县人社局和县财政局）：", "催办 2 次，升级督办 1 次 ·",
     "签收人（签字）：＿＿＿＿＿＿　日期：＿＿＿＿＿＿"),
    ("en", "县教育局 (with 县人社局 and 县财政局):", "2 reminders, 1 escalation ·",
     "Received by (signature): ________  Date: ________"),
])
def test_the_notice_reads_in_one_language_with_its_punctuation_and_the_offices_name(
        app, login_as, make, units, db, lang, addressee, reminders, receipt):
    edu, fin, late = units
    late.cooperating_units = [fin, make.unit("县人社局")]
    db.session.commit()
    app.config["OFFICE_NAME"] = "新源县人民政府教育督导室"
    try:
        page = login_as(make.user(Role.INSPECTOR)).get(f"/reports/items/{late.id}/notice?lang={lang}")
    finally:
        app.config["OFFICE_NAME"] = None
    text = re.sub(r"<[^>]+>", "", page.text)
    assert addressee in text, re.findall(r"县教育局.{0,40}", text)
    assert reminders in text and receipt in text
    assert "新源县人民政府教育督导室" in text
    assert "（with" not in text and "with 县" not in text.replace(addressee, "")


def test_the_item_page_links_its_notice_for_inspectors_and_admins_only(login_as, make, units):
    edu, _fin, late = units
    for role, shown in ((Role.INSPECTOR, True), (Role.ADMIN, True), (Role.LEADER, False)):
        page = login_as(make.user(role)).get(f"/items/{late.id}").text
        assert (f"/reports/items/{late.id}/notice" in page) is shown, role
    head_page = login_as(make.user(Role.HEAD, unit=edu)).get(f"/items/{late.id}").text
    assert "/notice" not in head_page
