"""Inspectors' side: review queue, checklist, extensions, listed supervision, re-checks, re-rating."""
import datetime as dt
import io
import re

import pytest

from tests.evidence import samples
from tracker.auth.models import Role
from tracker.evaluations.models import Indicator, Rating
from tracker.inspection.models import ExtensionRequest, ExtensionStatus, Recheck
from tracker.items.models import Item, Status
from tracker.journal import JournalEntry

D = dt.timedelta


def reload(db, item):
    db.session.expire_all()
    return db.session.get(Item, item.id)


@pytest.fixture
def case(make, login_as):
    lead = make.unit("县教育局")
    head_user = make.user(Role.HEAD, unit=lead)
    return {"lead": lead, "head": login_as(head_user), "head_user": head_user,
            "inspector": login_as(make.user(Role.INSPECTOR)), "admin": login_as(make.user(Role.ADMIN))}


def test_review_queue_lists_submitted_items_oldest_first(case, make, db, today):
    from tracker import clock
    clock.freeze(today - D(days=5))
    older = make.item(status=Status.SUBMITTED, lead_unit=case["lead"], title="较早申请", submitted_at=clock.now())
    clock.freeze(today - D(days=1))
    newer = make.item(status=Status.SUBMITTED, lead_unit=case["lead"], title="较晚申请", submitted_at=clock.now())
    clock.freeze(today)
    make.evidence(older)
    make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"], title="整改中事项")
    page = case["inspector"].get("/review").text
    assert page.index("较早申请") < page.index("较晚申请") and "整改中事项" not in page
    assert "5 天" in page
    assert case["head"].get("/review").status_code == 403
    make.item(status=Status.SUBMITTED, lead_unit=case["lead"], submitted_at=clock.now() - D(days=1))
    assert "<td data-label=\"Waiting\">1 day</td>" in case["inspector"].get("/review?lang=en").text  # not "1 days"


def test_checklist_blocks_submission_until_each_entry_has_a_file(case, make, db):
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"], with_evidence=True)
    case["inspector"].post(f"/items/{item.id}/requirements", {"title": "立项批复"})
    page = case["head"].post(f"/items/{item.id}/actions/submit_for_closure", follow_redirects=True)
    assert "立项批复" in page.text and reload(db, item).status == Status.IN_PROGRESS
    from tracker.evidence.models import EvidenceRequirement
    entry = db.session.query(EvidenceRequirement).one()
    case["head"].post(f"/items/{item.id}/evidence", {"files": [(io.BytesIO(samples.pdf()), "批复.pdf")],
                                                     "requirement_id": str(entry.id)},
                      content_type="multipart/form-data")
    case["head"].post(f"/items/{item.id}/actions/submit_for_closure")
    assert reload(db, item).status == Status.SUBMITTED


def test_a_file_already_attached_with_progress_satisfies_a_checklist_entry(case, make, db):
    """The checklist deadlock: the file came with a progress update, then was uploaded for the entry."""
    from tracker.evidence.models import Evidence, EvidenceRequirement
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"])
    case["inspector"].post(f"/items/{item.id}/requirements", {"title": "立项批复"})
    entry = db.session.query(EvidenceRequirement).one()
    case["head"].post(f"/items/{item.id}/progress", {"body": "已取得批复", "percent": "60", "submission_key": "k1",
                                                     "files": [(io.BytesIO(samples.pdf("批复")), "批复.pdf")]},
                      content_type="multipart/form-data")
    page = case["head"].post(f"/items/{item.id}/evidence", {"files": [(io.BytesIO(samples.pdf("批复")), "批复.pdf")],
                                                            "requirement_id": str(entry.id)},
                             content_type="multipart/form-data", follow_redirects=True)
    assert "已上传 1 个文件。" in page.text and "不会重复保存" not in page.text
    evidence = db.session.query(Evidence).one()  # stored once, now also the entry's file
    assert evidence.requirement_id == entry.id and evidence.progress_update_id is not None
    case["head"].post(f"/items/{item.id}/actions/submit_for_closure")
    assert reload(db, item).status == Status.SUBMITTED
    linked = db.session.query(JournalEntry).filter_by(action="link_evidence").one()
    assert linked.note == "批复.pdf → 立项批复"
    journal = case["inspector"].get(f"/items/{item.id}").text
    assert "将佐证材料对应到清单条目" in journal and "link_evidence" not in journal


def test_a_withdrawn_file_can_be_uploaded_again(case, make, db):
    from tracker.evidence.models import Evidence
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"])
    send = {"files": [(io.BytesIO(samples.pdf("方案")), "方案.pdf")]}
    case["head"].post(f"/items/{item.id}/evidence", send, content_type="multipart/form-data")
    first = db.session.query(Evidence).one()
    case["head"].post(f"/items/{item.id}/evidence/{first.id}/withdraw", {"reason": "版本不对"})
    case["head"].post(f"/items/{item.id}/evidence", {"files": [(io.BytesIO(samples.pdf("方案")), "方案.pdf")]},
                      content_type="multipart/form-data")
    db.session.expire_all()
    rows = db.session.query(Evidence).order_by(Evidence.id).all()
    assert [(e.original_name, e.withdrawn, e.withdraw_reason) for e in rows] == [("方案.pdf", False, None)]
    actions = [e.action for e in db.session.query(JournalEntry).filter_by(item_id=item.id).order_by(JournalEntry.id)]
    assert actions == ["attach_evidence", "withdraw_evidence", "attach_evidence"]


def test_only_deciders_edit_the_checklist(case, make, db):
    item = make.item(lead_unit=case["lead"])
    case["head"].post(f"/items/{item.id}/requirements", {"title": "自己加的"})
    from tracker.evidence.models import EvidenceRequirement
    assert db.session.query(EvidenceRequirement).count() == 0


def test_extension_approved_moves_the_deadline_and_keeps_the_original(case, make, db, today):
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"], deadline=today + D(days=10))
    new = (today + D(days=40)).isoformat()
    case["head"].post(f"/items/{item.id}/extension", {"new_deadline": new, "reason": "资金未到位"})
    again = case["head"].post(f"/items/{item.id}/extension", {"new_deadline": new, "reason": "再申请"},
                              follow_redirects=True)
    assert "已有" in again.text and db.session.query(ExtensionRequest).count() == 1
    request = db.session.query(ExtensionRequest).one()
    assert "资金未到位" in case["inspector"].get("/review").text
    case["inspector"].post(f"/items/{item.id}/extension/{request.id}/approve", {"comment": "同意"})
    item = reload(db, item)
    assert item.deadline == today + D(days=40) and item.original_deadline == today + D(days=10)
    assert db.session.get(ExtensionRequest, request.id).status == ExtensionStatus.APPROVED
    entry = db.session.query(JournalEntry).filter_by(item_id=item.id, action="approve_extension").one()
    assert entry.changes["deadline"] == [(today + D(days=10)).isoformat(), new]


@pytest.mark.parametrize("action, by, status", [("close_item", "inspector", Status.SUBMITTED),
                                                ("cancel", "admin", Status.IN_PROGRESS)])
def test_closing_or_cancelling_settles_a_waiting_extension_request(case, make, db, today, action, by, status):
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"], deadline=today + D(days=10),
                     with_evidence=True)
    asked = (today + D(days=40)).isoformat()
    case["head"].post(f"/items/{item.id}/extension", {"new_deadline": asked, "reason": "资金未到位"})
    if status == Status.SUBMITTED:
        case["head"].post(f"/items/{item.id}/actions/submit_for_closure")
    case[by].post(f"/items/{item.id}/actions/{action}", {"result": "rectified", "reason": "不再需要"})
    assert reload(db, item).status in (Status.CLOSED, Status.CANCELLED)
    request = db.session.query(ExtensionRequest).one()
    assert request.status == ExtensionStatus.WITHDRAWN
    assert "资金未到位" not in case["inspector"].get("/review").text  # it left the queue
    page = case["admin"].get(f"/items/{item.id}").text
    assert "撤销未审批的延期申请" in page and "延期申请: 待审批 → 已撤销" in page.replace("<del>", "").replace(
        "</del>", "").replace("<ins>", "").replace("</ins>", "")
    assert "申请的整改时限" in page  # the request reads as a request, not as a change of the deadline
    assert reload(db, item).deadline == today + D(days=10)


def test_extension_refusal_needs_a_comment_and_keeps_the_deadline(case, make, db, today):
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"], deadline=today + D(days=10))
    case["head"].post(f"/items/{item.id}/extension", {"new_deadline": (today + D(days=30)).isoformat(),
                                                      "reason": "理由"})
    request = db.session.query(ExtensionRequest).one()
    case["inspector"].post(f"/items/{item.id}/extension/{request.id}/refuse", {"comment": ""})
    assert db.session.get(ExtensionRequest, request.id).status == ExtensionStatus.PENDING
    case["inspector"].post(f"/items/{item.id}/extension/{request.id}/refuse", {"comment": "理由不充分"})
    db.session.expire_all()
    assert db.session.get(ExtensionRequest, request.id).status == ExtensionStatus.REFUSED
    assert reload(db, item).deadline == today + D(days=10)


@pytest.mark.parametrize("data,status", [
    ({"new_deadline": "2026-03-01", "reason": "早于现在"}, Status.IN_PROGRESS),
    ({"new_deadline": "2027-01-01", "reason": ""}, Status.IN_PROGRESS),
    ({"new_deadline": "2027-01-01", "reason": "已销号"}, Status.CLOSED),
])
def test_bad_extension_requests_are_refused(case, make, db, data, status):
    item = make.item(status=status, lead_unit=case["lead"])
    page = case["head"].post(f"/items/{item.id}/extension", data, follow_redirects=True)
    assert 'class="flash flash-error"' in page.text
    assert db.session.query(ExtensionRequest).count() == 0


def test_head_cannot_decide_extensions(case, make, db, today):
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"])
    case["head"].post(f"/items/{item.id}/extension", {"new_deadline": (today + D(days=300)).isoformat(),
                                                      "reason": "理由"})
    request = db.session.query(ExtensionRequest).one()
    case["head"].post(f"/items/{item.id}/extension/{request.id}/approve", {"comment": "自己批"})
    db.session.expire_all()
    assert db.session.get(ExtensionRequest, request.id).status == ExtensionStatus.PENDING


def test_listed_supervision_set_and_cleared_by_inspector_only(case, make, db):
    item = make.item(lead_unit=case["lead"])
    case["head"].post(f"/items/{item.id}/listed/on")
    assert not reload(db, item).listed_supervision
    case["inspector"].post(f"/items/{item.id}/listed/on")
    assert reload(db, item).listed_supervision
    assert "挂牌督办" in case["admin"].get("/items").text
    case["admin"].post(f"/items/{item.id}/listed/off")
    assert not reload(db, item).listed_supervision


def test_recheck_that_finds_the_problem_back_reopens_the_item(case, make, db, today):
    item = make.item(status=Status.CLOSED, lead_unit=case["lead"])
    case["inspector"].post(f"/items/{item.id}/rechecks", {"due_on": (today + D(days=30)).isoformat()})
    recheck = db.session.query(Recheck).one()
    assert "回头看" in case["inspector"].get("/review").text or recheck.due_on == today + D(days=30)
    case["inspector"].post(f"/items/{item.id}/rechecks/{recheck.id}",
                           {"outcome": "problem_back", "finding": "大班额反弹"})
    item = reload(db, item)
    assert item.status == Status.IN_PROGRESS and item.closed_at is None
    assert db.session.get(Recheck, recheck.id).finding == "大班额反弹"
    actions = {e.action for e in db.session.query(JournalEntry).filter_by(item_id=item.id)}
    assert {"schedule_recheck", "record_recheck", "reopen_after_recheck"} <= actions


def test_recheck_that_holds_keeps_the_item_closed(case, make, db, today):
    item = make.item(status=Status.CLOSED, lead_unit=case["lead"])
    case["inspector"].post(f"/items/{item.id}/rechecks", {"due_on": today.isoformat()})
    recheck = db.session.query(Recheck).one()
    case["inspector"].post(f"/items/{item.id}/rechecks/{recheck.id}", {"outcome": "holds"})
    assert reload(db, item).status == Status.CLOSED
    db.session.expire_all()
    assert db.session.get(Recheck, recheck.id).done_at is not None


def test_recheck_only_on_closed_items(case, make, db, today):
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"])
    case["inspector"].post(f"/items/{item.id}/rechecks", {"due_on": today.isoformat()})
    assert db.session.query(Recheck).count() == 0


def test_indicator_rerating_suggested_when_its_last_item_closes(case, make, db):
    from tracker.evaluations.models import Evaluation, Finding
    evaluation = Evaluation(title="2019自评", year=2019, issuing_body="县政府")
    indicator = Indicator(evaluation=evaluation, code="6.2.2", sort_key="0006.0002.0002", name="乡村教师补充",
                          level=3, self_rating=Rating.BASICALLY)
    finding = Finding(evaluation=evaluation, indicator=indicator, text="教师短缺", category="教师")
    db.session.add(finding)
    db.session.commit()
    item = make.item(status=Status.SUBMITTED, lead_unit=case["lead"], finding=finding, with_evidence=True)
    page = case["inspector"].get(f"/evaluations/{evaluation.id}").text
    assert "建议重新评定" not in page
    case["inspector"].post(f"/items/{item.id}/actions/close_item", {"result": "rectified"})
    page = case["inspector"].get(f"/evaluations/{evaluation.id}").text
    assert "建议重新评定" in page
    case["inspector"].post(f"/evaluations/{evaluation.id}/indicators/{indicator.id}/rating", {"rating": "fully"})
    db.session.expire_all()
    assert db.session.get(Indicator, indicator.id).rating_after == Rating.FULLY
    page = case["inspector"].get(f"/evaluations/{evaluation.id}").text
    assert "基本落实" in page and "完全落实" in page and "建议重新评定" not in page


def test_inspectors_are_reminded_of_a_due_recheck_once(case, make, db, today):
    from tracker.inspection.jobs import remind_due_rechecks
    from tracker.notifications.models import OutboxMessage
    item = make.item(status=Status.CLOSED, lead_unit=case["lead"], title="消除大班额")
    case["inspector"].post(f"/items/{item.id}/rechecks", {"due_on": (today + D(days=2)).isoformat()})
    assert remind_due_rechecks(today)["recheck_mails"] == 0
    from tracker.auth.models import User
    inspectors = db.session.query(User).filter_by(role=Role.INSPECTOR).count()
    assert remind_due_rechecks(today + D(days=2))["recheck_mails"] == inspectors
    assert remind_due_rechecks(today + D(days=3))["recheck_mails"] == 0   # already announced
    messages = db.session.query(OutboxMessage).filter_by(kind="recheck").all()
    assert len(messages) == inspectors
    assert all("消除大班额" in m.body_text and m.recipient.role == Role.INSPECTOR for m in messages)


def test_the_history_tells_each_inspection_step_in_words(case, make, db, today):
    """The item's history named inspection steps by their keys (`request_extension`, `sha256:`,
    `extension: pending → approved`); it reads as sentences, in both languages."""
    from werkzeug.datastructures import FileStorage

    from tracker.evidence import services as evidence
    from tracker.inspection import services as inspection
    inspector = make.user(Role.INSPECTOR)
    item = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"], deadline=today + D(days=30))
    evidence.attach(case["head_user"], item, [FileStorage(io.BytesIO(samples.pdf()), "批复.pdf")])
    request = inspection.request_extension(case["head_user"], item, today + D(days=60), "场地改造")
    inspection.decide_extension(inspector, item, request.id, True, "同意")
    inspection.set_listed_supervision(inspector, item, True)
    inspection.add_requirement(inspector, item, "立项批复")
    db.session.commit()  # the services flush; the caller (here the test) commits
    english = case["admin"].get(f"/items/{item.id}?lang=en").text
    for words in ("asked for more time", "granted more time", "changed listed supervision",
                  "added a required-evidence entry", "SHA-256:",
                  "Extension request: <del>waiting for a decision</del> → <ins>granted</ins>"):
        assert words in english, words
    chinese = case["admin"].get(f"/items/{item.id}?lang=zh_CN").text
    for words in ("申请延期", "批准延期", "调整挂牌督办", "添加应交佐证材料条目", "延期申请: <del>待审批</del> → <ins>已批准</ins>"):
        assert words in chinese, words
    assert not {"request_extension", "approve_extension", "list_item", "add_requirement", "sha256"} & set(
        re.findall(r"\b[a-z_0-9]+\b", english + chinese))


def test_the_history_tells_a_recheck_and_its_outcome(case, make, db, today):
    """A re-check scheduled, announced to the inspectors and recorded reads as three steps and a result."""
    from tracker.inspection import jobs, services as inspection
    inspector = make.user(Role.INSPECTOR)
    item = make.item(status=Status.CLOSED, lead_unit=case["lead"])
    recheck = inspection.schedule_recheck(inspector, item, today)
    jobs.remind_due_rechecks(today)
    inspection.record_recheck(inspector, item, recheck.id, False, "")
    db.session.commit()
    english = case["admin"].get(f"/items/{item.id}?lang=en").text
    for words in ("scheduled a re-check", "was reminded of a re-check", "recorded a re-check",
                  "Outcome: holds"):
        assert words in english, words
