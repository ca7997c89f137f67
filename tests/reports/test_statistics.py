"""Unit statistics (tracker/reports/stats.py): one function, the same numbers on the statistics
page, its sheet, the API, the dashboard, the unit report and the leaders' digest.

The ledger below is built through the services (so returns, extensions, reopening and the move of
an item to another unit are journaled as in real life), and every expected number is written out by
hand from the story told here, not recomputed by the code under test.

Today is Monday 2026-03-16. Units: 县教育局 with its sub-unit 县教育局人事股, and 县残联.

- 草稿事项       draft, 县教育局: counted nowhere.
- 撤销事项       cancelled, 县教育局: cancelled 1, in no rate.
- 按期办结事项   县教育局, handed out 02-02, acknowledged 02-04 (2 days), deadline 03-10, closed 03-01: on time.
- 重新打开事项   县教育局, handed out 02-02, acknowledged 02-02 (0 days), deadline 03-06, closed 03-04,
                 reopened 03-10: open again and 10 days overdue; listed supervision; one escalation (03-14).
- 逾期办结事项   人事股, handed out 02-02, acknowledged 02-05 (3 days), deadline 02-20, returned once
                 (02-26), closed 03-05: closed late, 1 return.
- 延期事项       人事股, handed out 02-02, acknowledged 02-03 (1 day), deadline 03-01; extension to 04-30
                 asked 02-20 and granted; a second one asked 03-10 and refused: open, not overdue, 2 asked / 1 granted.
- 转办事项       handed out 02-09 to 县残联, acknowledged 02-10 (1 day) there; 县残联 asked an extension
                 (02-15, refused) and got a reminder (02-20); moved to 人事股 on 02-25: the item counts with
                 人事股 (it leads it now), the request and the reminder with 县残联 (it led it then).
- 残联逾期事项   县残联, handed out 02-09, never acknowledged, deadline 03-13: 3 days overdue; one reminder (03-14).

Per lead unit (not rolled up):
  县教育局 own : assigned 2, on time 1, late 0, open 1, overdue 1 (10 days), avg 签收 (2+0)/2 = 1.0,
                returns 0, extensions 0/0, reminders 1 (1 escalation), listed 1, cancelled 1.
  人事股      : assigned 3, on time 0, late 1, open 2, overdue 0, avg 签收 (3+1+1)/3 = 1.7,
                returns 1, extensions 2/1, reminders 0.
  县残联      : assigned 1, on time 0, late 0, open 1, overdue 1 (3 days), avg 签收 —,
                returns 0, extensions 1/0, reminders 2 (0 escalations).
Rolled up: 县教育局 = own + 人事股: assigned 5, on time 1, late 1, open 3, overdue 1 (longest 10),
  on-time rate 1/5 = 20.0%, avg 签收 (2+0+3+1+1)/5 = 1.4, returns 1, extensions 2/1, reminders 1/1,
  listed 1. Rank: 县教育局 1 (20.0%), 县残联 2 (0.0%).
Dashboard / digest / unit report (per lead unit, items not cancelled): 县教育局 2 items, 1 closed, 50%;
  人事股 3 items, 1 closed, 33%; 县残联 1 item, 0 closed, 0%.
"""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers import TODAY, ApiClient, table, tile
from tracker import clock
from tracker.auth.models import Role
from tracker.evaluations.models import Evaluation, Finding
from tracker.inspection import services as inspection
from tracker.items import services
from tracker.items.models import Status
from tracker.notifications import digests
from tracker.reports import stats
from tracker.notifications.models import OutboxMessage, Reminder, ReminderKind

D = dt.timedelta


def at(day: str) -> None:
    """Freeze the clock at 10:00 local time (02:00 UTC) of `day` (MM-DD, 2026)."""
    month, mday = (int(part) for part in day.split("-"))
    clock.freeze(dt.datetime(2026, month, mday, 2, 0, tzinfo=dt.timezone.utc))


def day(text: str) -> dt.date:
    return dt.date(2026, *(int(part) for part in text.split("-")))


@pytest.fixture
def story(db, make):
    edu = make.unit("县教育局")
    personnel = make.unit("县教育局人事股", parent=edu)
    disabled = make.unit("县残联")
    heads = {u.id: make.user(Role.HEAD, unit=u, name=f"{u.name}负责人") for u in (edu, personnel, disabled)}
    admin, inspector = make.user(Role.ADMIN, name="整改办"), make.user(Role.INSPECTOR, name="督学")

    def handed_out(title, unit, on, deadline, **kw):
        at(on)
        return make.item(status=Status.ASSIGNED, lead_unit=unit, title=title, deadline=day(deadline),
                         owner=heads[unit.id], **kw)

    def acknowledge(item, on):
        at(on)
        services.perform(heads[item.lead_unit_id], item, "acknowledge")
        db.session.commit()

    def submit_and(item, on, action, **kw):
        at(on)
        services.perform(heads[item.lead_unit_id], item, "submit_for_closure")
        services.perform(inspector, item, action, **kw)
        db.session.commit()

    def remind(item, unit, on, kind=ReminderKind.OVERDUE, number=1):
        db.session.add(Reminder(item_id=item.id, unit_id=unit.id, kind=kind, occasion=f"{kind}:{on}",
                                number=number, sent_on=day(on)))
        db.session.commit()

    at("02-01")
    make.item(status=Status.DRAFT, lead_unit=edu, title="草稿事项")
    make.item(status=Status.CANCELLED, lead_unit=edu, title="撤销事项")

    on_time = handed_out("按期办结事项", edu, "02-02", "03-10", with_evidence=True)
    acknowledge(on_time, "02-04")
    submit_and(on_time, "03-01", "close_item", result="rectified", opinion="已整改到位")

    reopened = handed_out("重新打开事项", edu, "02-02", "03-06", with_evidence=True)
    acknowledge(reopened, "02-02")
    submit_and(reopened, "03-04", "close_item", result="rectified", opinion="已整改到位")
    at("03-10")
    services.perform(admin, reopened, "reopen", reason="复查发现问题反弹")
    inspection.set_listed_supervision(inspector, reopened, True)
    db.session.commit()
    remind(reopened, edu, "03-14", ReminderKind.ESCALATION)

    late = handed_out("逾期办结事项", personnel, "02-02", "02-20", with_evidence=True)
    acknowledge(late, "02-05")
    submit_and(late, "02-26", "return_item", reason="佐证材料不足")
    at("03-03")
    services.perform(heads[personnel.id], late, "resume")
    db.session.commit()
    submit_and(late, "03-05", "close_item", result="rectified", opinion="已整改")

    extended = handed_out("延期事项", personnel, "02-02", "03-01")
    acknowledge(extended, "02-03")
    at("02-20")
    asked = inspection.request_extension(heads[personnel.id], extended, day("04-30"), "施工周期长")
    inspection.decide_extension(inspector, extended, asked.id, True, "")
    db.session.commit()
    at("03-10")
    asked = inspection.request_extension(heads[personnel.id], extended, day("06-30"), "再次延期")
    inspection.decide_extension(inspector, extended, asked.id, False, "不予延期")
    db.session.commit()

    moved = handed_out("转办事项", disabled, "02-09", "04-15")
    acknowledge(moved, "02-10")
    at("02-15")
    asked = inspection.request_extension(heads[disabled.id], moved, day("05-15"), "需要协调")
    inspection.decide_extension(inspector, moved, asked.id, False, "按期完成")
    db.session.commit()
    remind(moved, disabled, "02-20", ReminderKind.DUE_SOON)
    at("02-25")
    services.update_item(admin, moved, {
        "title": moved.title, "measures": moved.measures, "target": moved.target, "finding_id": moved.finding_id,
        "lead_unit_id": personnel.id, "kind": moved.kind.value, "deadline": moved.deadline,
        "cooperating_unit_ids": [], "owner_id": None})
    db.session.commit()

    stray = handed_out("残联逾期事项", disabled, "02-09", "03-13")
    remind(stray, disabled, "03-14")

    clock.freeze(dt.datetime.combine(TODAY, dt.time(2), tzinfo=dt.timezone.utc))
    return {"edu": edu, "personnel": personnel, "disabled": disabled, "admin": admin, "inspector": inspector,
            "leader": make.user(Role.LEADER, name="分管领导")}


# The statistics page's columns: rank, unit, assigned, on time, late, open, overdue, longest overdue,
# on-time rate, average days to acknowledge, returns, extensions asked / granted,
# reminders / escalations, listed supervision.
EDU_TOTAL = ["1", "县教育局", "5", "1", "1", "3", "1", "10", "20.0%", "1.4", "1", "2 / 1", "1 / 1", "1"]
EDU_OWN = ["", "└ 县教育局 (own items)", "2", "1", "0", "1", "1", "10", "50.0%", "1.0", "0", "0 / 0", "1 / 1", "1"]
PERSONNEL = ["", "└ 县教育局人事股", "3", "0", "1", "2", "0", "—", "0.0%", "1.7", "1", "2 / 1", "0 / 0", "0"]
DISABLED = ["2", "县残联", "1", "0", "0", "1", "1", "3", "0.0%", "—", "0", "1 / 0", "2 / 0", "0"]
TOTAL = ["", "Total", "6", "1", "1", "4", "2", "10", "16.7%", "1.4", "1", "3 / 1", "3 / 1", "1"]


def test_the_statistics_page_says_what_the_story_says(story, login_as):
    page = login_as(story["leader"]).get("/reports/statistics?lang=en")
    assert page.status_code == 200
    assert table(page, "statistics") == [EDU_TOTAL, EDU_OWN, PERSONNEL, DISABLED, TOTAL]
    assert "Units are ranked by their on-time rate" in page.text
    assert "Cancelled items in these rows: 1" in page.text


def test_in_chinese_the_same_table_with_chinese_words(story, login_as):
    page = login_as(story["leader"]).get("/reports/statistics")
    rows = table(page, "statistics")
    assert rows[0] == EDU_TOTAL
    assert rows[1][1] == "└ 县教育局（本单位事项）" and rows[1][2:] == EDU_OWN[2:]
    assert rows[-1][1] == "合计"
    assert "按期办结率" in page.text and "排名规则" in page.text


def test_the_dashboard_digest_unit_report_and_api_agree(story, login_as, app, make, db):
    leader = login_as(story["leader"])
    # The dashboard, per lead unit: items (not cancelled), open, closed, overdue, completion rate,
    # then open and overdue parts as a cooperating unit (none here).
    dashboard = leader.get("/reports/?lang=en")
    assert sorted(table(dashboard, "by-unit")) == [
        ["县教育局", "2", "1", "1", "1", "50%", "0", "0"], ["县教育局人事股", "3", "2", "1", "0", "33%", "0", "0"],
        ["县残联", "1", "1", "0", "1", "0%", "0", "0"]]
    # The leader's digest says the same.
    digests.send_digests(TODAY)
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == story["leader"].id))
    for line in ("县教育局: 1/2 (50%)", "县教育局人事股: 1/3 (33%)", "县残联: 0/1 (0%)"):
        assert line in mail.body_text
    # The unit report of 县教育局: its own items, with the reminders and escalations it received.
    report = leader.get(f"/reports/units/{story['edu'].id}?lang=en")
    assert (tile(report, "unit-total"), tile(report, "unit-open"), tile(report, "unit-overdue"),
            tile(report, "unit-closed"), tile(report, "unit-rate"), tile(report, "unit-reminders")) == (
        "2", "1", "1", "1", "50%", "1")
    # The API: the statistics page's numbers.
    api = ApiClient(app, make.token(story["leader"]))
    answer = api.get("/api/v1/statistics").get_json()
    edu, disabled = answer["units"]
    assert (edu["unit"]["name"], edu["rank"], edu["assigned"], edu["closed_on_time"], edu["closed_late"],
            edu["open"], edu["overdue"], edu["longest_overdue"], edu["on_time_rate"],
            edu["average_acknowledge_days"], edu["returns"], edu["extensions_asked"], edu["extensions_granted"],
            edu["reminders"], edu["escalations"], edu["listed"], edu["cancelled"]) == (
        "县教育局", 1, 5, 1, 1, 3, 1, 10, 20.0, 1.4, 1, 2, 1, 1, 1, 1, 1)
    assert [(p["unit"]["name"], p["assigned"], p["closed"], p["completion_rate"]) for p in edu["parts"]] == [
        ("县教育局", 2, 1, 50.0), ("县教育局人事股", 3, 1, 33.3)]
    assert (disabled["unit"]["name"], disabled["rank"], disabled["assigned"], disabled["overdue"],
            disabled["longest_overdue"], disabled["reminders"], disabled["extensions_asked"],
            disabled["average_acknowledge_days"]) == ("县残联", 2, 1, 1, 3, 2, 1, None)
    assert answer["total"]["assigned"] == 6 and answer["total"]["cancelled"] == 1
    assert "按期办结率" in answer["ranking_rule"]   # in the token user's language (Chinese by default)


def test_the_sheet_has_the_page_rows(story, login_as):
    response = login_as(story["leader"]).get("/reports/statistics.xlsx?lang=en")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Rank", "Unit", "Assigned", "Closed on time")
    assert rows[1][:9] == (1, "县教育局", 5, 1, 1, 3, 1, 10, 10)
    assert rows[1][9] == 20.0
    assert rows[3][1].strip() == "县教育局人事股" and rows[3][2] == 3
    assert rows[4][:3] == (2, "县残联", 1)
    assert rows[-1][1] == "Total" and rows[-1][2] == 6


def test_the_trend_counts_closures_new_overdue_and_open_items_per_week(story, login_as):
    weeks = {row[0][:10]: row[1:] for row in table(login_as(story["leader"]).get("/reports/statistics"), "by-week")}
    # Closed, newly overdue, open at the week's end.
    assert weeks["2026-03-16"] == ["0", "0", "4"]   # this week
    assert weeks["2026-03-09"] == ["0", "1", "4"]   # 残联逾期事项, overdue from 03-14
    assert weeks["2026-03-02"] == ["1", "1", "4"]   # 逾期办结事项 closed 03-05; 重新打开事项 overdue from 03-07
    assert weeks["2026-02-23"] == ["1", "0", "5"]   # 按期办结事项 closed 03-01 (重新打开事项's closure was undone)
    assert weeks["2026-02-16"] == ["0", "1", "6"]   # 逾期办结事项 overdue from 02-21
    assert weeks["2026-02-09"] == ["0", "0", "6"]   # 转办事项 and 残联逾期事项 handed out
    assert weeks["2026-02-02"] == ["0", "0", "4"]   # four handed out on 02-02
    assert weeks["2026-01-26"] == ["0", "0", "0"]   # the cancelled item: cancelled when handed out, never open


def test_a_period_chooses_the_items_handed_out_in_it(story, login_as):
    leader = login_as(story["leader"])
    page = leader.get("/reports/statistics?lang=en&start=2026-02-09&end=2026-02-09")
    rows = table(page, "statistics")
    # 转办事项 (人事股's now, rolled up into 县教育局) and 残联逾期事项; the moved item's extension request
    # and reminder stay with 县残联, which led it then. Both at 0.0%: fewer overdue ranks first.
    assert rows == [
        ["1", "县教育局", "1", "0", "0", "1", "0", "—", "0.0%", "1.0", "0", "0 / 0", "0 / 0", "0"],
        ["", "└ 县教育局人事股", "1", "0", "0", "1", "0", "—", "0.0%", "1.0", "0", "0 / 0", "0 / 0", "0"],
        ["2", "县残联", "1", "0", "0", "1", "1", "3", "0.0%", "—", "0", "1 / 0", "2 / 0", "0"],
        ["", "Total", "2", "0", "0", "2", "1", "3", "0.0%", "1.0", "0", "1 / 0", "2 / 0", "0"]]
    assert "Items handed out from Feb 9, 2026 to Feb 9, 2026" in page.text


def test_a_period_with_no_data_says_so_instead_of_zeros(story, login_as):
    page = login_as(story["leader"]).get("/reports/statistics?lang=en&start=2025-01-01&end=2025-12-31")
    assert page.status_code == 200
    assert "No item was handed out in this period: there is nothing to count." in page.text
    assert 'id="statistics"' not in page.text and "0.0%" not in page.text
    chinese = login_as(story["leader"]).get("/reports/statistics?start=2025-01-01&end=2025-12-31")
    assert "该期间没有交办事项" in chinese.text


def test_a_period_ending_before_it_starts_is_refused_in_plain_words(story, login_as, app, make):
    page = login_as(story["leader"]).get("/reports/statistics?lang=en&start=2026-03-10&end=2026-01-01")
    assert page.status_code == 422
    assert "The period ends (2026-01-01) before it starts (2026-03-10). Swap the two dates." in page.text
    assert 'id="statistics"' not in page.text
    zh = login_as(story["leader"]).get("/reports/statistics?start=2026-03-10&end=2026-01-01")
    assert "结束日期（2026-01-01）早于开始日期（2026-03-10）" in zh.text
    api = ApiClient(app, make.token(story["leader"])).get("/api/v1/statistics?start=2026-03-10&end=2026-01-01")
    assert api.status_code == 422 and "end" in api.get_json()["error"]["fields"]
    sheet = login_as(story["leader"]).get("/reports/statistics.xlsx?start=2026-03-10&end=2026-01-01")
    assert sheet.status_code == 302


@pytest.mark.parametrize("value", ["999999", "0", "abc", "99999999999999999999"])
def test_an_evaluation_that_does_not_exist_is_named_not_counted(story, login_as, value):
    page = login_as(story["leader"]).get(f"/reports/statistics?lang=en&evaluation={value}")
    assert page.status_code == 422
    assert f"There is no evaluation no. {value}: it may have been deleted." in page.text
    assert 'id="statistics"' not in page.text


def test_a_deleted_evaluation_is_named_too(story, login_as, db):
    other = Evaluation(title="已删除的评价", year=2018, issuing_body="县政府", issued_on=dt.date(2018, 1, 1))
    db.session.add(other)
    db.session.commit()
    number = other.id
    db.session.delete(other)
    db.session.commit()
    page = login_as(story["leader"]).get(f"/reports/statistics?evaluation={number}")
    assert page.status_code == 422 and f"不存在编号为 {number} 的评价" in page.text


def test_an_evaluation_filter_keeps_its_items_only(story, login_as, make, db):
    other = Evaluation(title="2020年度督导反馈", year=2020, issuing_body="市政府", issued_on=dt.date(2020, 1, 1))
    finding = Finding(evaluation=other, text="大班额", category="学位")
    db.session.add(finding)
    db.session.commit()
    make.item(lead_unit=story["disabled"], title="另一评价事项", finding=finding, status=Status.CLOSED)
    leader = login_as(story["leader"])
    rows = table(leader.get(f"/reports/statistics?lang=en&evaluation={other.id}"), "statistics")
    assert rows == [["1", "县残联", "1", "1", "0", "0", "0", "—", "100.0%", "—", "0", "0 / 0", "0 / 0", "0"],
                    ["", "Total", "1", "1", "0", "0", "0", "—", "100.0%", "—", "0", "0 / 0", "0 / 0", "0"]]
    everything = table(leader.get("/reports/statistics?lang=en"), "statistics")
    assert everything[-1][2] == "7"


def test_only_readers_see_the_statistics(story, login_as, make, app):
    head = make.user(Role.HEAD, unit=story["edu"])
    assert login_as(head).get("/reports/statistics").status_code == 403
    assert ApiClient(app, make.token(head)).get("/api/v1/statistics").status_code == 403


def test_a_cooperating_units_parts_count_for_it_on_the_statistics_not_on_the_lead_unit_table(app, db, make, login_as):
    """县教育局 leads two items; 县财政局 cooperates on both: one part reported done on 03-10 (its
    deadline 03-12: on time), one still under way, due 03-13 (3 days overdue on 03-16). By hand:
    县财政局 assigned 2, closed on time 1, open 1, overdue 1 (3 days), rate 50%; 县教育局 assigned 2,
    open 2, none overdue, rate 0%. The dashboard's lead-unit table shows 县教育局 only, with 县财政局's
    open and overdue parts in their own columns."""
    from tracker.parts.models import Part, PartStatus
    edu, fin = make.unit("县教育局"), make.unit("县财政局")
    first = make.item(lead_unit=edu, cooperating=[fin], deadline=TODAY + dt.timedelta(days=20))
    second = make.item(lead_unit=edu, cooperating=[fin], deadline=TODAY + dt.timedelta(days=20))
    now = dt.datetime(2026, 3, 1, 2, tzinfo=dt.timezone.utc)
    db.session.add_all([
        Part(item_id=first.id, unit_id=fin.id, request="落实资金", deadline=dt.date(2026, 3, 12),
             status=PartStatus.DONE, created_at=now, last_activity_on=dt.date(2026, 3, 10),
             acknowledged_at=now, done_at=dt.datetime(2026, 3, 10, 2, tzinfo=dt.timezone.utc), statement="资金已拨付"),
        Part(item_id=second.id, unit_id=fin.id, request="落实资金", deadline=dt.date(2026, 3, 13),
             status=PartStatus.IN_PROGRESS, created_at=now, last_activity_on=dt.date(2026, 3, 2), acknowledged_at=now)])
    db.session.commit()
    by_name = {r.name: r for r in stats.unit_statistics(as_of=TODAY)}
    assert (by_name["县财政局"].assigned, by_name["县财政局"].closed_on_time, by_name["县财政局"].open,
            by_name["县财政局"].overdue, by_name["县财政局"].longest_overdue) == (2, 1, 1, 1, 3)
    assert by_name["县财政局"].on_time_rate == 50.0 and by_name["县财政局"].rank == 1
    assert (by_name["县教育局"].assigned, by_name["县教育局"].open, by_name["县教育局"].overdue) == (2, 2, 0)
    leader = login_as(make.user(Role.LEADER))
    assert table(leader.get("/reports/?lang=en"), "by-unit") == [
        ["县教育局", "2", "2", "0", "0", "0%", "0", "0"], ["县财政局", "0", "0", "0", "0", "—", "1", "1"]]


def test_the_trend_reads_the_same_when_the_database_has_prepared_its_statement(story, login_as):
    """psycopg prepares a statement after its fifth run on a connection: the weekly counts must keep
    their types then (an untyped NULL column read as text broke the UNION on PostgreSQL)."""
    first = [(w.start, w.closures, w.new_overdue, w.open_at_end) for w in stats.weekly_trend(as_of=TODAY)]
    for _ in range(7):
        again = [(w.start, w.closures, w.new_overdue, w.open_at_end) for w in stats.weekly_trend(as_of=TODAY)]
        assert again == first
    assert (day("03-02"), 1, 1, 4) in first
