"""A form sent after the sign-in ended (signed out in another tab, or expired): its text is kept,
shown after signing in again, and sent with one click; another site's post is not kept."""
from __future__ import annotations

import datetime as dt
import re

from tests.conftest import Browser
from tracker import clock
from tracker.auth.kept import KeptPost
from tracker.auth.models import Role
from tracker.items.models import ProgressUpdate, Status

TEXT = "完成教师招聘笔试，面试安排在下周。"


def _setup(make, login_as):
    unit = make.unit("县教育局")
    head = make.user(Role.HEAD, unit=unit, username="head-edu")
    item = make.item(status=Status.IN_PROGRESS, lead_unit=unit, owner=head)
    return head, item, login_as(head)


def _form(item_id, **extra):
    return {"body": TEXT, "percent": "40", "submission_key": "tab-1", **extra}


def test_signed_out_in_another_tab_the_text_is_kept_and_sent_after_signing_in(app, db, make, login_as):
    head, item, tab = _setup(make, login_as)
    page_url = f"http://localhost/items/{item.id}"
    tab.get(f"/items/{item.id}")
    other_tab = Browser(app)
    other_tab.client = tab.client           # the same browser, another tab
    other_tab.logout()
    refused = tab.post(f"/items/{item.id}/progress", _form(item.id), headers={"Referer": page_url})
    assert refused.status_code == 302 and "/login" in refused.location
    login_page = tab.get(refused.location)
    assert "您的登录已失效。请重新登录：您填写的内容已保留" in login_page.text
    assert db.session.query(ProgressUpdate).count() == 0
    tab._token = None
    signed_in = tab.post(refused.location, {"username": "head-edu", "password": "secret-pass"})  # the form keeps ?next=
    tab._token = None
    assert signed_in.headers["Location"] == f"/items/{item.id}"  # back to the form's page
    page = tab.get(f"/items/{item.id}")
    assert TEXT in page.text and "重新提交" in page.text
    token = re.search(r'action="/kept/([^"/]+)/send"', page.text).group(1)
    sent = tab.post(f"/kept/{token}/send", _form(item.id, csrf_token=tab.token()))
    assert sent.status_code == 307 and sent.location.endswith(f"/items/{item.id}/progress")
    again = tab.post(sent.location, _form(item.id))  # what the browser does with a 307
    assert again.status_code == 302
    assert [u.body for u in db.session.query(ProgressUpdate)] == [TEXT]
    assert db.session.query(KeptPost).count() == 0
    assert TEXT not in tab.get(f"/items/{item.id}").text.split("整改进展")[0]  # the box is gone


def test_an_expired_sign_in_keeps_the_text_too(app, db, make, login_as):
    head, item, tab = _setup(make, login_as)
    tab.get(f"/items/{item.id}")
    clock.freeze(clock.now() + app.permanent_session_lifetime + dt.timedelta(minutes=1))
    refused = tab.post(f"/items/{item.id}/progress", _form(item.id),
                       headers={"Referer": f"http://localhost/items/{item.id}"})
    assert refused.status_code == 302 and "/login" in refused.location
    assert db.session.query(KeptPost).one().back_to == f"/items/{item.id}"


def test_another_sites_post_is_refused_and_nothing_is_kept(app, db, make, login_as):
    head, item, tab = _setup(make, login_as)
    tab.logout()
    response = tab.client.post(f"/items/{item.id}/progress", data=_form(item.id),
                               headers={"Origin": "https://evil.example"})
    assert response.status_code in (302, 400)
    assert db.session.query(KeptPost).count() == 0
