"""The item page at scale: its cost in SQL statements does not grow with what the item has collected,
for any of the roles whose page differs (buttons, forms, withdraw links)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.test_performance import counted
from tracker import clock
from tracker.auth.models import Role
from tracker.evidence.models import EvidenceRequirement
from tracker.inspection.models import ExtensionRequest, ExtensionStatus
from tracker.items.models import ProgressUpdate, Status
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


# -- the page's forms are written out in templates/evidence/_macros.html -------------------------------

_FIELDS = ('{% from "_macros.html" import field %}{% from "evidence/_macros.html" import plain_field %}'
           '{{ field(f) }}|{{ plain_field(f, kind) }}')


def _fresh_and_invalid(form_class, data: dict):
    """The form as a GET shows it, and as a POST with `data` shows it after validating."""
    from werkzeug.datastructures import MultiDict
    fresh = form_class(meta={"csrf": False})
    invalid = form_class(formdata=MultiDict(data), meta={"csrf": False})
    invalid.validate()
    return fresh, invalid


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_written_out_fields_are_what_wtforms_would_render(app, lang):
    """Label, required mark, maximum length, bounds, typed value, ARIA ties and errors of every field the
    item page writes out read as WTForms and the shared field macro would give them, fresh and invalid."""
    from tracker.inspection.forms import ExtensionRequestForm, RecheckForm
    from tracker.items.forms import MilestoneForm, ProgressForm
    cases = [(ProgressForm, {"body": '<b>"正文"</b> & \'x\'', "percent": "150"},
              {"body": "textarea", "percent": "number"}),
             (ProgressForm, {"body": "", "percent": "abc"}, {"body": "textarea", "percent": "number"}),
             (MilestoneForm, {"title": "x" * 300, "due_on": "x<y"}, {"title": "text", "due_on": "date"}),
             (ExtensionRequestForm, {"new_deadline": "", "reason": ""}, {"new_deadline": "date", "reason": "textarea"}),
             (RecheckForm, {"due_on": "2026-13-01"}, {"due_on": "date"})]
    with app.test_request_context(f"/items/1?lang={lang}"):
        app.preprocess_request()
        template = app.jinja_env.from_string(_FIELDS)
        for form_class, data, kinds in cases:
            for form in _fresh_and_invalid(form_class, data):
                for name, kind in kinds.items():
                    wtforms_html, written_html = template.render(f=form[name], kind=kind).split("|")
                    assert re.sub(r"\s+", " ", written_html) == re.sub(r"\s+", " ", wtforms_html), (name, form.errors)
            assert form.errors  # the invalid form's errors were among those compared


def test_written_out_file_inputs_buttons_and_hidden_fields_are_what_wtforms_would_render(app):
    """The file pickers keep their limits, hint and ARIA tie; buttons, hidden fields and the CSRF token's
    input read as WTForms gives them."""
    from flask_wtf.csrf import generate_csrf

    from tracker.evidence.forms import AttachForm
    from tracker.items.forms import ProgressForm
    written = app.jinja_env.from_string(
        '{% from "evidence/_macros.html" import file_input, submit %}'
        '{{ file_input(f.files, 50, 200) }}|{{ submit(f.submit, "primary") }}')
    by_wtforms = app.jinja_env.from_string(
        '{{ f.files(multiple=True, class_="file-input", **{"data-max-file": 50 * 1024 * 1024, '
        '"data-max-total": 200 * 1024 * 1024, "data-too-large": _("This file is larger than %(n)d MB:", n=50), '
        '"data-too-much": _("Together the files exceed %(n)d MB.", n=200), '
        '"aria-describedby": f.files.id ~ "-hint"}) }}'
        '|{{ f.submit(class_="primary") }}')
    hidden = app.jinja_env.from_string('{% from "evidence/_macros.html" import hidden %}{{ hidden(f) }}')
    with app.test_request_context("/items/1"):
        app.preprocess_request()
        for form in (ProgressForm(), AttachForm()):
            picker, button = by_wtforms.render(f=form).split("|")
            written_picker, written_button = written.render(f=form).split("|")
            assert picker in written_picker and f'id="{form.files.id}-hint"' in written_picker
            assert written_button == button
            # the templates write the CSRF token's input out as this
            token = generate_csrf()
            assert form.csrf_token() == f'<input id="csrf_token" name="csrf_token" type="hidden" value="{token}">'
        progress = ProgressForm()
        progress.fresh_key()
        assert hidden.render(f=progress.submission_key) == progress.submission_key()


def test_file_lists_escape_what_users_wrote_and_offer_withdrawal_only_to_those_who_may(db, make, login_as):
    """A file's name and a withdrawal's reason show as typed, never as markup; the withdraw form, with its
    CSRF token, is there for the lead unit and not for an inspector."""
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

    page = login_as(head).get(f"/items/{item.id}").text
    assert '&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.pdf' in page and "<img src=x" not in page
    assert "旧&amp;文件.pdf" in page and "负责人&lt;i&gt;" in page
    assert "传错了 &lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert f'action="/items/{item.id}/evidence/{current.id}/withdraw"' in page
    assert f'action="/items/{item.id}/evidence/{gone.id}/withdraw"' not in page  # already withdrawn
    token = re.search(r'<form method="post" action="[^"]*/withdraw"[^>]*>\s*<input type="hidden" '
                      r'name="csrf_token" value="([^"]+)"', page)
    assert token and token.group(1)

    inspector_page = login_as(make.user(Role.INSPECTOR)).get(f"/items/{item.id}").text
    assert "/withdraw" not in inspector_page and "旧&amp;文件.pdf" in inspector_page
