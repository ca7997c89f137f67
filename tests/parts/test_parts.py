"""Each cooperating unit's part: handed out with the item, acknowledged, worked on, reported done,
returned by the lead unit; what happens when units change; who may act on a part."""
import datetime as dt
import io

from sqlalchemy import select

from tests.evidence.samples import pdf
from tests.helpers import table
from tracker.evidence.models import Evidence
from tracker.items.models import Item, Status
from tracker.journal import JournalEntry
from tracker.parts.models import Part, PartStatus, PartUpdate


def _parts(db, item_id):
    db.session.expire_all()
    return {p.unit.name: p for p in db.session.scalars(select(Part).where(Part.item_id == item_id))}


def _step(browser, part, step, text="", version=None):
    data = {"text": text}
    if version is not None:
        data["version"] = str(version)
    return browser.post(f"/items/{part.item_id}/parts/{part.id}/steps/{step}", data)


def test_handing_out_gives_each_cooperating_unit_its_part_with_its_own_line_and_deadline(crew, db):
    """The admin writes a line for 财政局 and an earlier deadline; the others get the item's."""
    finance = crew.units[1]
    earlier = crew.item.deadline - dt.timedelta(days=20)
    response = crew.login(crew.admin).post(f"/items/{crew.item.id}/actions/assign", {
        f"part_request_{finance.id}": "落实项目建设资金1200万元", f"part_deadline_{finance.id}": earlier.isoformat()})
    assert response.status_code == 302
    parts = _parts(db, crew.item.id)
    assert set(parts) == {"县发改委", "县财政局", "县住建局"}
    assert parts["县财政局"].request == "落实项目建设资金1200万元" and parts["县财政局"].deadline == earlier
    assert parts["县发改委"].request == "措施" and parts["县发改委"].deadline == crew.item.deadline
    assert {p.status for p in parts.values()} == {PartStatus.PENDING}
    page = crew.login(crew.lead_head).get(f"/items/{crew.item.id}")
    rows = table(page, "parts-table")
    assert sorted(r[0] for r in rows) == sorted(parts)
    assert all("Waiting for acknowledgement" in r[2] for r in rows)
    assert sorted(r[1] for r in rows) == sorted([earlier.strftime("%b %-d, %Y")] + 2 * [crew.item.deadline.strftime("%b %-d, %Y")])


def test_a_part_deadline_after_the_items_is_refused_and_nothing_is_handed_out(crew, db):
    housing = crew.units[2]
    later = crew.item.deadline + dt.timedelta(days=1)
    response = crew.login(crew.admin).post(f"/items/{crew.item.id}/actions/assign",
                                          {f"part_deadline_{housing.id}": later.isoformat()})
    assert response.status_code == 422
    assert "县住建局: a part&#39;s deadline cannot be later than the item&#39;s deadline" in response.text
    assert crew.item.deadline.isoformat() in response.text
    db.session.expire_all()
    assert db.session.get(Item, crew.item.id).status == Status.DRAFT
    assert _parts(db, crew.item.id) == {}


def test_the_life_of_a_part_acknowledged_worked_on_reported_returned_and_reported_again(handed_out, db):
    crew = handed_out
    part = _parts(db, crew.item.id)["县发改委"]
    head = crew.login(crew.heads[0])
    page = head.get(f"/items/{crew.item.id}")
    assert "Acknowledge the part" in page.text
    assert _step(head, part, "acknowledge").status_code == 302
    response = head.post(f"/items/{crew.item.id}/parts/{part.id}/progress",
                         {"body": "项目已批复立项", "files": (io.BytesIO(pdf("立项批复")), "立项批复.pdf")})
    assert response.status_code == 302
    _step(head, part, "done", "已完成立项批复，文件已上传。")
    part = _parts(db, crew.item.id)["县发改委"]
    assert part.status == PartStatus.DONE and part.statement == "已完成立项批复，文件已上传。"
    file = db.session.scalar(select(Evidence).where(Evidence.part_id == part.id))
    assert file.original_name == "立项批复.pdf" and file.item_id == crew.item.id

    sibling = crew.login(crew.heads[1]).get(f"/items/{crew.item.id}")  # another cooperating unit
    assert [row[0] for row in table(sibling, "parts-table")] == ["县财政局"]
    assert f'id="part-{part.id}-details"' not in sibling.text

    lead = crew.login(crew.lead_head)
    page = lead.get(f"/items/{crew.item.id}")
    assert "Reported done" in page.text and "项目已批复立项" in page.text and "立项批复.pdf" in page.text
    assert "Return the part" in page.text
    _step(lead, part, "return", "请补充用地预审意见")
    page = head.get(f"/items/{crew.item.id}")
    assert "Returned for more" in page.text and "请补充用地预审意见" in page.text
    _step(head, part, "done", "已补充用地预审意见。")
    part = _parts(db, crew.item.id)["县发改委"]
    assert part.status == PartStatus.DONE
    actions = db.session.scalars(select(JournalEntry.action).where(JournalEntry.object_type == "parts",
                                                                   JournalEntry.object_id == part.id)
                                 .order_by(JournalEntry.id)).all()
    assert actions == ["add_part", "acknowledge_part", "report_part_done", "return_part", "report_part_done"]


def test_progress_on_a_part_waits_for_its_acknowledgement(handed_out, db):
    crew = handed_out
    part = _parts(db, crew.item.id)["县财政局"]
    head = crew.login(crew.heads[1])
    response = head.post(f"/items/{crew.item.id}/parts/{part.id}/progress", {"body": "资金已落实"},
                         follow_redirects=True)
    assert "Acknowledge the part (签收) before posting progress on it." in response.text
    assert db.session.scalar(select(PartUpdate)) is None


def test_reporting_done_needs_a_statement(handed_out, db):
    crew = handed_out
    part = _parts(db, crew.item.id)["县财政局"]
    head = crew.login(crew.heads[1])
    _step(head, part, "acknowledge")
    response = _step(head, part, "done", "   ")
    assert response.status_code == 302
    assert _parts(db, crew.item.id)["县财政局"].status == PartStatus.IN_PROGRESS


def test_staff_of_the_lead_unit_cannot_return_a_part(handed_out, db):
    crew = handed_out
    part = _parts(db, crew.item.id)["县财政局"]
    head = crew.login(crew.heads[1])
    _step(head, part, "acknowledge")
    _step(head, part, "done", "资金已拨付")
    response = _step(crew.login(crew.staff), part, "return", "不够")
    assert response.status_code == 302
    page = crew.login(crew.staff).get(f"/items/{crew.item.id}")
    assert "Return the part" not in page.text
    assert _parts(db, crew.item.id)["县财政局"].status == PartStatus.DONE


def test_a_unit_head_guessing_another_units_part_gets_404(handed_out, make, db):
    crew = handed_out
    parts = _parts(db, crew.item.id)
    finance_head = crew.login(crew.heads[1])
    # Another cooperating unit's part of the same item.
    assert _step(finance_head, parts["县发改委"], "acknowledge").status_code == 404
    assert finance_head.post(f"/items/{crew.item.id}/parts/{parts['县发改委'].id}/progress",
                             {"body": "x"}).status_code == 404
    # A part id under another item the head can see.
    other = make.item(status=Status.IN_PROGRESS, cooperating=[crew.units[1]])
    assert finance_head.post(f"/items/{other.id}/parts/{parts['县财政局'].id}/steps/acknowledge").status_code == 404
    # The page lists the head's own part only.
    page = finance_head.get(f"/items/{crew.item.id}")
    assert [row[0] for row in table(page, "parts-table")] == ["县财政局"]
    # A unit with no part in the item at all.
    stranger = crew.login(make.user("head"))
    assert _step(stranger, parts["县财政局"], "acknowledge").status_code == 404
    assert _parts(db, crew.item.id)["县发改委"].status == PartStatus.PENDING


def test_returning_and_reporting_the_same_part_at_once_one_wins_the_other_is_told(handed_out, db):
    """The lead head opened the page while the part was under way; the unit reported it done first."""
    crew = handed_out
    part = _parts(db, crew.item.id)["县住建局"]
    head, lead = crew.login(crew.heads[2]), crew.login(crew.lead_head)
    _step(head, part, "acknowledge")
    seen = _parts(db, crew.item.id)["县住建局"].version
    assert _step(head, part, "done", "施工许可已办结", version=seen).status_code == 302
    response = _step(lead, part, "return", "请加快进度", version=seen)
    assert response.status_code == 409
    assert "Someone else answered this part since you opened the page" in response.text
    assert "施工许可已办结" in response.text  # the latest changes, shown to the loser
    assert _parts(db, crew.item.id)["县住建局"].status == PartStatus.DONE
    # And the other way round: returned first, the unit's stale report is refused.
    seen = _parts(db, crew.item.id)["县住建局"].version
    assert _step(lead, part, "return", "请补充竣工资料", version=seen).status_code == 302
    assert _step(head, part, "done", "已补充", version=seen).status_code == 409
    assert _parts(db, crew.item.id)["县住建局"].status == PartStatus.RETURNED


def test_a_real_race_on_the_part_row_is_a_conflict_not_an_error(handed_out, db):
    """Two transactions read the same version; the second to write loses with a Conflict."""
    import pytest
    from sqlalchemy import update

    from tracker.errors import Conflict
    from tracker.parts import services
    crew = handed_out
    part = _parts(db, crew.item.id)["县住建局"]
    db.session.execute(update(Part).where(Part.id == part.id).values(version=Part.version + 1)
                       .execution_options(synchronize_session=False))  # someone else's committed write
    with pytest.raises(Conflict):
        services.acknowledge(crew.heads[2], part)
    assert _parts(db, crew.item.id)["县住建局"].status == PartStatus.PENDING


def test_removing_a_cooperating_unit_whose_part_has_evidence_cancels_the_part_and_keeps_the_files(handed_out, db):
    crew = handed_out
    part = _parts(db, crew.item.id)["县发改委"]
    head = crew.login(crew.heads[0])
    _step(head, part, "acknowledge")
    head.post(f"/items/{crew.item.id}/parts/{part.id}/progress",
              {"body": "立项批复", "files": (io.BytesIO(pdf("批复")), "批复.pdf")})
    admin = crew.login(crew.admin)
    form = admin.get(f"/items/{crew.item.id}/edit")
    item = db.session.get(Item, crew.item.id)
    keep = [u.id for u in crew.units[1:]]
    data = {"finding_id": item.finding_id, "title": item.title, "measures": item.measures, "target": item.target,
            "kind": item.kind.value, "lead_unit_id": item.lead_unit_id, "cooperating_unit_ids": keep,
            "owner_id": item.owner_id, "responsible_leader": "", "deadline": item.deadline.isoformat(),
            "version": str(item.version), "seen_entry": "0"}
    assert form.status_code == 200
    assert admin.post(f"/items/{crew.item.id}/edit", data).status_code == 302
    part = _parts(db, crew.item.id)["县发改委"]
    assert part.status == PartStatus.CANCELLED
    file = db.session.scalar(select(Evidence).where(Evidence.part_id == part.id))
    assert file is not None and not file.withdrawn
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.action == "cancel_part"))
    assert "县发改委" in entry.note and "1 evidence file(s) stay with the item" in entry.note
    page = admin.get(f"/items/{crew.item.id}")
    assert "批复.pdf" in page.text  # still the item's evidence
    # Added back: the same part is open again, waiting for acknowledgement.
    data.update(cooperating_unit_ids=[u.id for u in crew.units], version=str(db.session.get(Item, crew.item.id).version))
    assert admin.post(f"/items/{crew.item.id}/edit", data).status_code == 302
    assert _parts(db, crew.item.id)["县发改委"].status == PartStatus.PENDING


def test_editing_a_part_cannot_move_its_deadline_past_the_items(handed_out, db):
    crew = handed_out
    part = _parts(db, crew.item.id)["县财政局"]
    admin = crew.login(crew.admin)
    response = admin.post(f"/items/{crew.item.id}/parts/{part.id}/edit", {
        "request": "拨付资金", "deadline": (crew.item.deadline + dt.timedelta(days=3)).isoformat(),
        "version": str(part.version)}, follow_redirects=True)
    assert "县财政局: a part&#39;s deadline cannot be later than the item&#39;s deadline" in response.text
    assert _parts(db, crew.item.id)["县财政局"].deadline == crew.item.deadline


def test_the_parts_table_reads_in_chinese(handed_out, make, db):
    crew = handed_out
    page = crew.login(make.user("head", unit=crew.lead)).get(f"/items/{crew.item.id}")
    rows = table(page, "parts-table")
    assert len(rows) == 3 and all("待签收" in r[2] for r in rows)
    assert "配合单位任务" in page.text


def test_my_items_lists_first_the_items_where_my_unit_has_a_part_to_acknowledge_and_says_so(
        handed_out, make, db):
    """县财政局's head: its own item waiting for 签收 would come first, but the part of 建成特殊教育学校
    waiting for the unit's 签收 comes before it, and the page says why; once acknowledged, not."""
    import re

    from tracker import clock
    crew = handed_out
    finance, head = crew.units[1], crew.heads[1]
    make.item(status=Status.ASSIGNED, lead_unit=finance, owner=head, title="财政局自己的事项",
              deadline=clock.today() - dt.timedelta(days=3))
    browser = crew.login(head)
    page = browser.get("/my").text
    assert "1 item has a part of your unit waiting for acknowledgement (签收): it is listed first." in page
    titles = re.findall(r'<td class="title-cell"><a [^>]*>([^<]+)</a>', page)
    assert titles[:2] == ["建成特殊教育学校", "财政局自己的事项"]

    part = db.session.scalar(select(Part).where(Part.item_id == crew.item.id, Part.unit_id == finance.id))
    browser.post(f"/items/{crew.item.id}/parts/{part.id}/steps/acknowledge")
    page = browser.get("/my").text
    assert "waiting for acknowledgement (签收)" not in page
    titles = re.findall(r'<td class="title-cell"><a [^>]*>([^<]+)</a>', page)
    assert titles[0] == "财政局自己的事项"
