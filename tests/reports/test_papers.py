"""The Word papers (督办单, 整改情况报告, 通报): what the filed document says, who may have it."""
import datetime as dt
import io
import threading

import pytest
from docx import Document
from sqlalchemy import create_engine, select

from tracker import clock, journal
from tracker.auth.models import Role
from tracker.evaluations.models import Evaluation, Finding
from tracker.items.models import ClosureResult, ProgressUpdate, Status
from tracker.notifications.models import Reminder, ReminderKind
from tracker.reports import circular, notices
from tracker.reports.models import SupervisionNotice

D = dt.timedelta


def text_of(response) -> str:
    """Every paragraph and table cell of a .docx response, one per line."""
    assert response.status_code == 200, response.text
    assert response.mimetype.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(response.data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(" | ".join(c.text for c in row.cells) for row in table.rows)
    return "\n".join(parts)


def remind(db, item, kind=ReminderKind.OVERDUE, on=None):
    number = db.session.query(Reminder).filter_by(item_id=item.id).count() + 1
    db.session.add(Reminder(item_id=item.id, unit_id=item.lead_unit_id, kind=kind, occasion=f"t:{number}",
                            number=number, days=0, sent_on=on))
    db.session.commit()


@pytest.fixture
def county(make, db, today):
    """Demo-like data: one evaluation, two problems, items closed, open, overdue and returned."""
    evaluation = Evaluation(title="新源县人民政府履行教育职责情况自评（2019年度）", year=2019, issuing_body="县人民政府")
    shortage = Finding(evaluation=evaluation, text="教师结构性短缺依然存在", category="教师")
    special = Finding(evaluation=evaluation, text="特殊教育学校尚未建立", category="特教")
    db.session.add_all([shortage, special])
    db.session.commit()
    edu, fin, hr = make.unit("县教育局"), make.unit("县财政局"), make.unit("县人社局")
    owner = make.user(Role.HEAD, unit=edu, name="张三")
    late = make.item(finding=shortage, title="补充音体美专业教师", lead_unit=edu, cooperating=[hr], owner=owner,
                     deadline=today - D(days=9), listed_supervision=True, progress=40)
    done = make.item(finding=shortage, title="开展教师专项培训", lead_unit=edu, status=Status.CLOSED,
                     deadline=today - D(days=3))
    ongoing = make.item(finding=special, title="建成特殊教育学校", lead_unit=fin, status=Status.CLOSED,
                        deadline=today - D(days=5))
    ongoing.closure_result = ClosureResult.ONGOING
    done.closed_at, ongoing.closed_at = clock.now() - D(days=5), clock.now() - D(days=6)  # both on time
    returned = make.item(finding=special, title="送教上门全覆盖", lead_unit=fin, status=Status.RETURNED,
                         deadline=today + D(days=20))
    make.item(finding=special, title="尚未交办的草稿", lead_unit=hr, status=Status.DRAFT)
    make.evidence(done, name="培训签到表.pdf")
    make.evidence(done, name="培训通知.docx")
    db.session.add(ProgressUpdate(item=late, author_id=owner.id, percent=40, body="已招聘音乐教师2名",
                                  submission_key="k1"))
    remind(db, late, on=today - D(days=6))
    remind(db, late, ReminderKind.ESCALATION, on=today - D(days=1))
    journal.record(None, "return_item", returned, {"status": ["submitted", "returned"]}, note="佐证材料不足",
                   item_id=returned.id)
    db.session.commit()
    return evaluation, edu, fin, hr, late, done, ongoing, returned


def issue(browser, item, requirement="请于本周内报送整改进展", reply_by=None):
    browser.get(f"/reports/items/{item.id}/notice")
    data = {"requirement": requirement, "reply_by": (reply_by or dt.date(2026, 3, 23)).isoformat()}
    return browser.post(f"/reports/items/{item.id}/notice", data)


def test_a_notice_is_numbered_per_year_and_says_what_the_office_requires(login_as, make, county, app, db, today):
    _e, edu, _fin, _hr, late, *_ = county
    inspector = login_as(make.user(Role.INSPECTOR))
    app.config["OFFICE_NAME"] = "新源县人民政府教育督导室"
    try:
        first = issue(inspector, late)
        second = issue(inspector, late, requirement="第二次督办")
        assert first.status_code == 302 and "/reports/notices/" in first.location
        text = text_of(inspector.get(first.location))
    finally:
        app.config["OFFICE_NAME"] = None
    assert [n.reference for n in db.session.scalars(select(SupervisionNotice).order_by(SupervisionNotice.id))] == [
        "〔2026〕第1号", "〔2026〕第2号"]
    assert "〔2026〕第1号" in text and "督 办 单" in text and "新源县人民政府教育督导室（盖章）" in text
    assert "县教育局：" in text and "已逾期9天，列入挂牌督办" in text
    assert "督办事项 | 补充音体美专业教师" in text and "存在问题 | 教师结构性短缺依然存在" in text
    assert "配合单位 | 县人社局" in text and "责任人 | 张三" in text
    assert "整改时限 | 2026年3月7日" in text and "逾期天数 | 9天" in text
    assert "催办记录 | 已催办2次，其中升级督办1次，最近一次2026年3月15日" in text
    assert "督办要求 | 请于本周内报送整改进展" in text and "反馈时限 | 2026年3月23日" in text
    assert "2026年3月16日" in text and "签收人（签字）" in text
    assert "督办单 〔2026〕第2号" in inspector.get(f"/items/{late.id}").text  # listed on the item page
    assert second.status_code == 302


def test_the_unit_head_downloads_its_items_notice_and_no_one_elses(login_as, make, county, db):
    _e, edu, fin, _hr, late, *_ = county
    issue(login_as(make.user(Role.ADMIN)), late)
    notice = db.session.scalar(select(SupervisionNotice))
    own = login_as(make.user(Role.HEAD, unit=edu))
    assert "补充音体美专业教师" in text_of(own.get(f"/reports/notices/{notice.id}.docx"))
    assert f"/reports/notices/{notice.id}.docx" in own.get(f"/items/{late.id}").text
    assert login_as(make.user(Role.HEAD, unit=fin)).get(f"/reports/notices/{notice.id}.docx").status_code == 404
    assert own.get("/reports/notices/99999.docx").status_code == 404
    assert own.post(f"/reports/items/{late.id}/notice", {"reply_by": "2026-03-23"}).status_code == 403


def test_no_notice_is_issued_for_an_item_neither_listed_nor_escalated(login_as, make, db, today):
    item = make.item(deadline=today - D(days=2))
    inspector = login_as(make.user(Role.INSPECTOR))
    response = issue(inspector, item)
    assert response.status_code == 302 and response.location.endswith(f"/items/{item.id}")
    assert db.session.scalar(select(SupervisionNotice)) is None


def test_two_notices_issued_at_once_get_two_numbers(database_url, db, make):
    """The counter is one atomic upsert: a second issuer waits for the first one's commit and takes
    the next number, never the same one."""
    make.unit()  # the schema exists and the test's database is in use
    first, second = create_engine(database_url), create_engine(database_url)
    dialect = first.dialect.name
    taken = []
    try:
        with first.connect() as one:
            taken.append(one.execute(notices.number_statement(dialect, "test", 2026)).scalar_one())

            def other():
                with second.connect() as two:
                    taken.append(two.execute(notices.number_statement(dialect, "test", 2026)).scalar_one())
                    two.commit()
            waiting = threading.Thread(target=other)
            waiting.start()
            waiting.join(timeout=0.5)
            assert waiting.is_alive()  # held back by the first transaction's counter row
            one.commit()
        waiting.join(timeout=10)
        assert taken == [1, 2]
    finally:
        first.dispose()
        second.dispose()


def test_the_progress_report_is_a_draft_with_counts_problems_items_and_what_is_open(login_as, make, county):
    evaluation, *_ = county
    text = text_of(login_as(make.user(Role.ADMIN)).get(f"/reports/evaluations/{evaluation.id}/report.docx"))
    assert "关于新源县人民政府履行教育职责情况自评（2019年度）反馈问题整改情况的报告" in text
    assert "（草稿，截至2026年3月16日）" in text and "县人民政府：" in text
    assert ("共梳理问题2个，制定整改事项4项。截至2026年3月16日，已销号2项（其中已整改1项、持续整改1项），"
            "正在整改2项，其中逾期1项。") in text
    assert "（一）教师结构性短缺依然存在" in text and "（二）特殊教育学校尚未建立" in text
    assert "1. 补充音体美专业教师（牵头单位：县教育局；配合单位：县人社局；整改时限：2026年3月7日；状态：整改中）" in text
    assert "进展情况：完成40%。2026年3月16日报送：已招聘音乐教师2名" in text
    assert "佐证材料：2份：培训签到表.pdf、培训通知.docx" in text
    assert "整改结果：持续整改（2026年3月10日销号）" in text
    assert "尚未交办的草稿" not in text
    assert "1 | 补充音体美专业教师 | 县教育局 | 2026年3月7日 | 逾期9天" in text
    assert "2 | 送教上门全覆盖 | 县财政局 | 2026年4月5日 | 已退回" in text


def test_the_circular_ranks_units_and_lists_overdue_items_reminders_and_returns(login_as, make, county):
    text = text_of(login_as(make.user(Role.LEADER)).get("/reports/circular.docx?start=2026-03-01&end=2026-03-16"))
    assert "关于2026年3月1日至2026年3月16日整改工作进展情况的通报" in text
    assert "本期交办整改事项4项，按期完成2项；截至2026年3月16日逾期未完成1项；共催办2次，升级督办1次，退回整改1次" in text
    assert "1 | 县财政局 | 2 | 1 | 50% | 0 | 0 | 0 | 1" in text
    assert "2 | 县教育局 | 2 | 1 | 50% | 1 | 2 | 1 | 0" in text
    assert "1 | 补充音体美专业教师 | 县教育局 | 2026年3月7日 | 9" in text
    assert "1. 送教上门全覆盖（县财政局，2026年3月16日退回）：佐证材料不足" in text


def test_circular_numbers_are_the_unit_statistics(app, county, today):
    numbers = circular.circular_numbers(today - D(days=15), today, today)
    assert [(u.name, u.rank, u.due, u.on_time, u.overdue, u.reminders, u.escalations, u.returns)
            for u in numbers.units] == [("县财政局", 1, 2, 1, 0, 0, 0, 1), ("县教育局", 2, 2, 1, 1, 2, 1, 0)]
    assert [(o.title, o.days_overdue) for o in numbers.overdue] == [("补充音体美专业教师", 9)]


def test_papers_are_for_readers_of_everything(login_as, make, county):
    evaluation, edu, *_ = county
    head = login_as(make.user(Role.HEAD, unit=edu))
    assert head.get(f"/reports/evaluations/{evaluation.id}/report.docx").status_code == 403
    assert head.get("/reports/circular.docx?start=2026-03-01&end=2026-03-16").status_code == 403
    assert head.get("/reports/papers").status_code == 403
    admin = login_as(make.user(Role.ADMIN))
    assert admin.get("/reports/evaluations/99999/report.docx").status_code == 404
    bad = admin.get("/reports/circular.docx?start=2026-03-16&end=2026-03-01")
    assert bad.status_code == 302 and bad.location.endswith("/reports/papers")


def test_the_papers_page_links_every_paper(login_as, make, county):
    evaluation, *_ = county
    page = login_as(make.user(Role.INSPECTOR)).get("/reports/papers").text.replace("&amp;", "&")
    assert "<h1>公文材料</h1>" in page
    assert f"/reports/evaluations/{evaluation.id}/report.docx" in page
    assert "/reports/ledger.xlsx?overdue=1" in page and f"/reports/ledger.xlsx?evaluation={evaluation.id}" in page
    assert 'name="start"' in page and 'value="2026-03-01"' in page


def test_an_offices_own_template_is_used_when_configured(login_as, make, county, app, tmp_path):
    from docx import Document as NewDocument
    evaluation, *_ = county
    own = NewDocument()
    own.add_paragraph("本县自定格式：{{ evaluation.title }}，问题{{ counts.problems }}个")
    own.save(str(tmp_path / "progress_report.docx"))
    app.config["DOCUMENT_TEMPLATE_DIR"] = str(tmp_path)
    try:
        text = text_of(login_as(make.user(Role.ADMIN)).get(f"/reports/evaluations/{evaluation.id}/report.docx"))
        circular_text = text_of(login_as(make.user(Role.ADMIN)).get("/reports/circular.docx?start=2026-03-01&end=2026-03-16"))
    finally:
        app.config["DOCUMENT_TEMPLATE_DIR"] = None
    assert text == "本县自定格式：新源县人民政府履行教育职责情况自评（2019年度），问题2个"
    assert "通报" in circular_text  # a template the office did not replace: the default


def test_text_that_looks_like_markup_is_written_as_text(login_as, make, county, db):
    _e, _edu, _fin, _hr, late, *_ = county
    late.measures = "第一步 <b>&</b>\n第二步 {{ x }}"
    db.session.commit()
    admin = login_as(make.user(Role.ADMIN))
    issue(admin, late)
    notice = db.session.scalar(select(SupervisionNotice))
    text = text_of(admin.get(f"/reports/notices/{notice.id}.docx"))
    assert "整改措施 | 第一步 <b>&</b>\n第二步 {{ x }}" in text


def test_the_default_templates_can_be_written_out_to_adapt(app, tmp_path):
    """`flask documents templates DIR` gives an office the templates to edit; they match the shipped ones."""
    from tracker.reports.documents import DEFAULT_DIR
    result = app.test_cli_runner().invoke(args=["documents", "templates", str(tmp_path / "own")])
    assert result.exit_code == 0, result.output
    for name in ("supervision_notice.docx", "progress_report.docx", "circular.docx"):
        fresh = "\n".join(p.text for p in Document(str(tmp_path / "own" / name)).paragraphs)
        shipped = "\n".join(p.text for p in Document(str(DEFAULT_DIR / name)).paragraphs)
        assert fresh == shipped and "{{ office }}" in fresh, name
