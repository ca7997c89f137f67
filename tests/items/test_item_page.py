"""The item page at scale: its cost in SQL statements does not grow with what the item has collected,
for any of the roles whose page differs (buttons, forms, withdraw links)."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from tests.helpers import counted
from tracker import clock
from tracker.auth.models import Role
from tracker.evidence.models import EvidenceRequirement
from tracker.inspection.models import ExtensionRequest, ExtensionStatus, Recheck
from tracker.items.models import Milestone, ProgressUpdate, Status
from tracker.journal import JournalEntry


def _grow(db, make, item, head, inspector, rows: int) -> None:
    """`rows` progress updates, each with a file, journal entries, checklist entries and decided extensions."""
    for n in range(rows):
        update = ProgressUpdate(item=item, author_id=head.id, body=f"进展 <b>{n}</b>", percent=n,
                                submission_key=f"grow{item.id}-{n}", created_at=clock.now())
        db.session.add(update)
        db.session.flush()
        evidence = make.evidence(item, uploader=head, name=f"材料{n}.pdf")
        evidence.progress_update_id = update.id
        db.session.add(EvidenceRequirement(item_id=item.id, title=f"清单{n}", created_by_id=inspector.id))
        db.session.add(ExtensionRequest(item_id=item.id, requested_by_id=head.id, current_deadline=item.deadline,
                                        requested_deadline=item.deadline + dt.timedelta(days=n + 1), reason="理由",
                                        status=ExtensionStatus.REFUSED, decided_by_id=inspector.id,
                                        decided_at=clock.now(), comment="不同意"))
        db.session.add(JournalEntry(actor_id=inspector.id, object_type="item", object_id=item.id, item_id=item.id,
                                    action="update", changes={"owner_id": [None, head.id], "title": ["a", "b"]},
                                    note=f"备注{n}"))
    db.session.commit()


def _statements(app, db, make, login_as, role: Role, rows: int) -> int:
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit)
    inspector = make.user(Role.INSPECTOR)
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head)
    _grow(db, make, item, head, inspector, rows)
    viewer = {Role.HEAD: head, Role.INSPECTOR: inspector}.get(role) or make.user(role, unit=unit)
    browser = login_as(viewer)
    browser.get(f"/items/{item.id}")  # warm: first-request work is not per-row work
    with counted(db.engine) as statements:
        response = browser.get(f"/items/{item.id}")
    assert response.status_code == 200
    assert "材料0.pdf" in response.text and "进展 &lt;b&gt;0&lt;/b&gt;" in response.text
    return len(statements)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.HEAD, Role.STAFF, Role.INSPECTOR])
def test_item_page_statements_do_not_grow_with_updates_files_and_journal(app, db, make, login_as, role):
    """An item with four times as many updates, files, journal entries and requests costs the same queries."""
    few = _statements(app, db, make, login_as, role, rows=2)
    many = _statements(app, db, make, login_as, role, rows=8)
    assert many == few
    assert many <= 13, many


# -- the page's forms: ids, CSRF tokens, errors --------------------------------------------------------

class _Page(HTMLParser):
    """The element ids of a page, and each POST form's action with the CSRF tokens inside it."""

    def __init__(self, text: str):
        super().__init__()
        self.ids: list[str] = []
        self.forms: list[tuple[str, list[str]]] = []
        self._open: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "form" and attrs.get("method") == "post":
            self._open = []
            self.forms.append((attrs["action"], self._open))
        elif tag == "input" and attrs.get("name") == "csrf_token" and self._open is not None:
            self._open.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def _item_with_everything(db, make, status):
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit)
    inspector = make.user(Role.INSPECTOR)
    item = make.item(status=status, lead_unit=unit, owner=head)
    _grow(db, make, item, head, inspector, rows=3)
    db.session.add(Milestone(item_id=item.id, title="面试", due_on=clock.today()))
    db.session.add(ExtensionRequest(item_id=item.id, requested_by_id=head.id, current_deadline=item.deadline,
                                    requested_deadline=item.deadline + dt.timedelta(days=30), reason="等批文",
                                    status=ExtensionStatus.PENDING))
    if status == Status.CLOSED:
        db.session.add(Recheck(item_id=item.id, due_on=clock.today(), scheduled_by_id=inspector.id))
    db.session.commit()
    return item, head, inspector


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.SUBMITTED, Status.CLOSED])
@pytest.mark.parametrize("role", [Role.ADMIN, Role.HEAD, Role.INSPECTOR])
def test_every_form_on_the_item_page_has_its_own_ids_and_posts_its_csrf_token(db, make, login_as, status, role):
    """No two elements share an id (a label would point at another form's field), and each of the page's
    forms (progress, files, withdrawals, milestones, actions, extension, checklist, re-checks) sends the
    session's CSRF token, once."""
    item, head, inspector = _item_with_everything(db, make, status)
    viewer = {Role.HEAD: head, Role.INSPECTOR: inspector}.get(role) or make.user(role)
    browser = login_as(viewer)
    page = _Page(browser.get(f"/items/{item.id}").text)
    duplicates = sorted({i for i in page.ids if page.ids.count(i) > 1})
    assert not duplicates, duplicates
    if not (role == Role.HEAD and status == Status.CLOSED):  # nothing left to do there but sign out
        assert len(page.forms) >= 3, page.forms
    token = page.forms[0][1][0]
    assert len(token) > 20
    for action, tokens in page.forms:
        assert tokens == [token], action


def test_a_refused_progress_post_shows_the_error_at_its_field_and_keeps_what_was_typed(db, make, login_as):
    """A percentage of 150 is refused next to the percentage, and the text written stays in its box."""
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit)
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head)
    response = login_as(head).post(f"/items/{item.id}/progress",
                                   {"body": "完成笔试 <b>面试</b>", "percent": "150", "submission_key": "k1"})
    assert response.status_code == 422
    percent = re.search(r'<div class="field has-error">\s*<span class="label-line"><label for="percent">'
                        r'.*?</div>', response.text, re.S).group(0)
    assert 'value="150"' in percent and 'aria-invalid="true"' in percent
    assert re.search(r'<ul class="errors" id="percent-errors"><li>[^<]*100[^<]*</li></ul>', percent)
    assert re.search(r'<textarea [^>]*id="body"[^>]*>\s*完成笔试 &lt;b&gt;面试&lt;/b&gt;</textarea>', response.text)
    assert _Page(response.text).ids.count("percent") == 1


def test_a_text_over_its_limit_is_refused_with_its_length_and_kept_never_cut(db, make, login_as):
    """A 5,640-character paste: the field says its limit (no maxlength that cuts a paste silently),
    the post is refused saying both lengths, and the whole text stays in the box."""
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit)
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head)
    browser = login_as(head)
    form = re.search(r'<textarea [^>]*id="body"[^>]*>', browser.get(f"/items/{item.id}").text).group(0)
    assert "maxlength" not in form and 'data-max-chars="5000"' in form
    pasted = "已完成" * 1880  # 5,640 characters
    response = browser.post(f"/items/{item.id}/progress", {"body": pasted, "percent": "50", "submission_key": "k2"})
    assert response.status_code == 422
    assert "最多 5000 字，这段文字有 5640 字。" in response.text
    assert pasted in response.text and "最多 5000 个字符。" in response.text  # the limit is said up front
    assert db.session.query(ProgressUpdate).count() == 0


def test_a_refused_action_opens_its_box_with_the_error_at_the_reason(db, make, login_as):
    """Returning an item without a reason reopens the Return box with “give a reason” under its field."""
    unit = make.unit()
    item = make.item(status=Status.SUBMITTED, lead_unit=unit, with_evidence=True)
    inspector = login_as(make.user(Role.INSPECTOR))
    response = inspector.post(f"/items/{item.id}/actions/return_item", {"reason": "  "})
    assert response.status_code == 422
    box = re.search(r'<details class="action-box" open>.*?</details>', response.text, re.S).group(0)
    assert 'action="/items/%d/actions/return_item"' % item.id in box
    assert re.search(r'<ul class="errors" id="return_item-reason-errors"><li>[^<]+</li></ul>', box)


def test_file_lists_escape_what_users_wrote_and_offer_withdrawal_only_to_those_who_may(db, make, login_as):
    """A file's name and a withdrawal's reason show as typed, never as markup; withdrawing, on a page of
    its own with its CSRF token and the file named, is offered to the lead unit, not to an inspector."""
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit, name='负责人<i>')
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head)
    update = ProgressUpdate(item=item, author_id=head.id, body="进展", percent=10, submission_key="k1",
                            created_at=clock.now())
    db.session.add(update)
    db.session.flush()
    current = make.evidence(item, uploader=head, name='<img src=x onerror="alert(1)">.pdf')
    current.progress_update_id = update.id
    gone = make.evidence(item, uploader=head, name="旧&文件.pdf")
    gone.withdrawn, gone.withdrawn_by_id, gone.withdraw_reason = True, head.id, '传错了 <script>x</script>'
    gone.withdrawn_at = clock.now()
    db.session.commit()

    browser = login_as(head)
    page = browser.get(f"/items/{item.id}").text
    assert '&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.pdf' in page and "<img src=x" not in page
    assert "旧&amp;文件.pdf" in page and "负责人&lt;i&gt;" in page
    assert "传错了 &lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert f'href="/items/{item.id}/evidence/{current.id}/withdraw"' in page
    assert f'/items/{item.id}/evidence/{gone.id}/withdraw"' not in page  # already withdrawn
    ask = browser.get(f"/items/{item.id}/evidence/{current.id}/withdraw").text
    assert '&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.pdf' in ask and "<img src=x" not in ask
    token = re.search(r'<form method="post" action="[^"]*/withdraw"[^>]*>\s*<input id="csrf_token" '
                      r'name="csrf_token" type="hidden" value="([^"]+)"', ask)
    assert token and token.group(1)

    inspector_page = login_as(make.user(Role.INSPECTOR)).get(f"/items/{item.id}").text
    assert "/withdraw" not in inspector_page and "旧&amp;文件.pdf" in inspector_page


def test_submitting_for_closure_shows_what_is_handed_over_and_asks_to_confirm(db, make, login_as):
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit)
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head, progress=90)
    make.evidence(item, uploader=head, name="验收报告.pdf")
    make.evidence(item, uploader=head, name="现场照片.jpg")
    db.session.add(EvidenceRequirement(item_id=item.id, title="立项批复", created_by_id=head.id))
    db.session.commit()
    page = login_as(head).get(f"/items/{item.id}?lang=en").text
    box = re.search(r'action="/items/\d+/actions/submit_for_closure".*?</form>', page, re.S).group(0)
    text = re.sub(r"<[^>]+>", " ", box)
    assert "90%" in text and "2 files" in text and "验收报告.pdf" in text and "现场照片.jpg" in text
    assert "0 of 1 entries have a file" in text
    assert 'data-confirm="Submit this item for closure? Its evidence is frozen until the inspectors decide."' in box
    assert "Confirm: Submit for closure" in box


def test_the_same_progress_posted_again_from_a_reloaded_form_is_recognised(db, make, login_as):
    """Back after posting reloads the form with a new submission key: the same words and
    percentage from the same person within half an hour are that post again."""
    unit = make.unit()
    head = make.user(Role.HEAD, unit=unit)
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head)
    browser = login_as(head)
    post = {"body": "完成校舍改造", "percent": "80"}
    browser.post(f"/items/{item.id}/progress", {**post, "submission_key": "first"})
    again = browser.post(f"/items/{item.id}/progress", {**post, "submission_key": "after-back"},
                         follow_redirects=True)
    assert "该条整改进展已报送过。" in again.text
    assert db.session.query(ProgressUpdate).count() == 1
    clock.freeze(clock.now() + dt.timedelta(minutes=31))  # the same report, deliberately, later
    browser.post(f"/items/{item.id}/progress", {**post, "submission_key": "next-day"})
    assert db.session.query(ProgressUpdate).count() == 2
