"""The JSON API: what another system sees and may do, with the same rules as the pages."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from tests.evidence import samples
from tracker import clock
from tracker.auth.models import Role
from tracker.items.models import Item, Status
from tracker.journal import JournalEntry


@pytest.fixture
def world(make):
    own, other = make.unit(name="县教育局"), make.unit(name="县财政局")
    head = make.user(Role.HEAD, unit=own)
    return {
        "own": own, "other": other, "head": head, "stranger": make.user(Role.HEAD, unit=other),
        "admin": make.user(Role.ADMIN), "inspector": make.user(Role.INSPECTOR),
        "item": make.item(status=Status.IN_PROGRESS, lead_unit=own, owner=head, title="大班额问题"),
        "foreign": make.item(status=Status.IN_PROGRESS, lead_unit=other, title="财政投入不足"),
    }


def error_of(response) -> dict:
    assert response.is_json, response.data[:200]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) - {"changes"} == {"code", "message", "fields"}
    return body["error"]


def test_a_head_lists_only_the_units_items_like_the_ledger(api, world, make):
    make.item(status=Status.CLOSED, lead_unit=world["own"], title="已销号事项")
    response = api(world["head"]).get("/api/v1/items?sort=title")
    assert response.status_code == 200
    body = response.get_json()
    assert [i["title"] for i in body["items"]] == sorted(["大班额问题", "已销号事项"])
    assert body["total"] == 2 and body["page"] == 1
    closed = api(world["head"]).get("/api/v1/items?status=closed").get_json()
    assert [i["title"] for i in closed["items"]] == ["已销号事项"]
    still_open = api(world["head"]).get("/api/v1/items?open=1").get_json()
    assert [i["title"] for i in still_open["items"]] == ["大班额问题"]


def test_admin_lists_everything_with_pagination(api, world):
    client = api(world["admin"])
    first = client.get("/api/v1/items?per_page=1&sort=id").get_json()
    second = client.get("/api/v1/items?per_page=1&sort=id&page=2").get_json()
    assert first["pages"] == 2 and first["total"] == 2
    assert first["items"][0]["id"] < second["items"][0]["id"]


@pytest.mark.parametrize("q", ["' OR 1=1 --", "<script>alert(1)</script>", "%", "_", "\\", "大班额\x00"])
def test_hostile_filter_text_is_matched_literally(api, world, q):
    response = api(world["head"]).get("/api/v1/items", query_string={"q": q, "sort": "'; DROP TABLE items;--"})
    assert response.status_code == 200
    assert response.get_json()["total"] == 0 or q.startswith("大班额")


def test_an_item_comes_with_milestones_progress_and_evidence(api, world, make, db):
    item = world["item"]
    make.evidence(item, uploader=world["head"], name="会议纪要.pdf")
    body = api(world["head"]).get(f"/api/v1/items/{item.id}").get_json()
    assert body["title"] == "大班额问题" and body["lead_unit"]["name"] == "县教育局"
    assert body["evidence"][0]["name"] == "会议纪要.pdf" and "download_url" in body["evidence"][0]
    assert body["milestones"] == [] and body["progress"] == []
    assert {a["action"] for a in body["actions"]} == {"submit_for_closure"}


def test_another_units_item_is_404_exactly_like_a_missing_one(api, world):
    client = api(world["head"])
    hidden, missing = client.get(f"/api/v1/items/{world['foreign'].id}"), client.get("/api/v1/items/999999")
    assert hidden.status_code == missing.status_code == 404
    assert error_of(hidden) == error_of(missing)
    assert error_of(hidden)["code"] == "not_found"


def test_posting_progress_as_json_updates_the_item_and_the_journal(api, world, db):
    item = world["item"]
    response = api(world["head"]).post(f"/api/v1/items/{item.id}/progress",
                                       json={"body": "已新增教师20名", "percent": 40, "submission_key": "k1"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["item"]["progress_percent"] == 40
    again = api(world["head"]).post(f"/api/v1/items/{item.id}/progress",
                                    json={"body": "已新增教师20名", "percent": 40, "submission_key": "k1"})
    assert again.status_code == 200 and again.get_json()["created"] is False
    db.session.expire_all()
    assert db.session.get(Item, item.id).progress_percent == 40
    assert db.session.query(JournalEntry).filter_by(item_id=item.id, action="progress").count() == 1


@pytest.mark.parametrize("payload, field", [
    ({"body": "", "percent": 10}, "body"), ({"body": "x", "percent": 101}, "percent"),
    ({"body": "x", "percent": "50"}, "percent"), ({"body": "x", "percent": True}, "percent"),
    ({"body": ["x"], "percent": 5}, "body"), ({"body": "a\x00b", "percent": 5}, "body"),
    ({"body": "x" * 5001, "percent": 5}, "body"), ({"body": "x", "percent": 5, "submission_key": "k" * 65},
                                                   "submission_key"),
])
def test_invalid_progress_is_422_with_the_field(api, world, payload, field):
    response = api(world["head"]).post(f"/api/v1/items/{world['item'].id}/progress", json=payload)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_malformed_wrong_type_and_oversized_bodies(app, api, world):
    client, url = api(world["head"]), f"/api/v1/items/{world['item'].id}/progress"
    bad = client.post(url, data="{not json", content_type="application/json")
    assert bad.status_code == 400 and error_of(bad)["code"] == "bad_request"
    listed = client.post(url, data="[1, 2]", content_type="application/json")
    assert listed.status_code == 400
    text = client.post(url, data="body=x", content_type="text/plain")
    assert text.status_code == 415 and error_of(text)["code"] == "unsupported_media_type"
    huge = json.dumps({"body": "x" * (app.config["API_MAX_JSON_KB"] * 1024), "percent": 5})
    too_big = client.post(url, data=huge, content_type="application/json")
    assert too_big.status_code == 413 and error_of(too_big)["code"] == "too_large"


def test_roles_and_states_that_may_not_post_progress(api, world, make):
    inspector = api(world["inspector"]).post(f"/api/v1/items/{world['item'].id}/progress",
                                             json={"body": "x", "percent": 5})
    assert inspector.status_code == 403 and error_of(inspector)["code"] == "forbidden"
    assigned = make.item(status=Status.ASSIGNED, lead_unit=world["own"])
    refused = api(world["head"]).post(f"/api/v1/items/{assigned.id}/progress", json={"body": "x", "percent": 5})
    assert refused.status_code == 409 and error_of(refused)["code"] == "refused"
    assert "签收" in error_of(refused)["message"]  # the service's own message, in the user's language


def test_a_stale_version_is_a_409_conflict_but_progress_is_appended(api, world, db):
    """An action taken on an outdated read is refused with the item's latest changes; a progress post
    carrying an outdated version is still kept (posts never conflict with each other)."""
    item, client = world["item"], api(world["head"])
    posted = client.post(f"/api/v1/items/{item.id}/progress", json={"body": "第一次进展", "percent": 5})
    assert posted.status_code == 201
    stale = client.post(f"/api/v1/items/{item.id}/progress",
                        json={"body": "第二次进展", "percent": 10, "version": item.version + 1})
    assert stale.status_code == 201
    response = api(world["admin"]).post(f"/api/v1/items/{item.id}/actions/cancel",
                                        json={"reason": "重复", "version": item.version + 5})
    assert response.status_code == 409 and error_of(response)["code"] == "version_conflict"
    assert [c["changes"]["progress_percent"] for c in error_of(response)["changes"][:2]] == [[5, 10], [0, 5]]


def test_progress_with_files_as_multipart_and_download(api, world):
    item, client = world["item"], api(world["head"])
    response = client.post(f"/api/v1/items/{item.id}/progress", data={
        "body": "附会议纪要", "percent": "30", "files": [(io.BytesIO(samples.pdf()), "纪要.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    files = client.get(f"/api/v1/items/{item.id}").get_json()["evidence"]
    assert [f["name"] for f in files] == ["纪要.pdf"] and files[0]["content_type"] == "application/pdf"
    download = client.get(files[0]["download_url"])
    assert download.status_code == 200 and download.data == samples.pdf()
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    stranger = api(world["stranger"]).get(files[0]["download_url"])
    assert stranger.status_code == 404


def test_uploading_evidence_refuses_disguised_html(api, world):
    client, url = api(world["head"]), f"/api/v1/items/{world['item'].id}/evidence"
    ok = client.post(url, data={"files": [(io.BytesIO(samples.png()), "照片.png")]},
                     content_type="multipart/form-data")
    assert ok.status_code == 201 and ok.get_json()["evidence"][0]["content_type"] == "image/png"
    html = client.post(url, data={"files": [(io.BytesIO(b"<html><script>alert(1)</script>"), "a.pdf")]},
                       content_type="multipart/form-data")
    assert html.status_code == 422 and "files" in error_of(html)["fields"]
    as_json = client.post(url, json={"files": []})
    assert as_json.status_code == 415


def test_workflow_actions_follow_the_table(api, world, make):
    assigned = make.item(status=Status.ASSIGNED, lead_unit=world["own"], cooperating=[world["other"]])
    assert api(world["inspector"]).post(f"/api/v1/items/{assigned.id}/actions/acknowledge").status_code == 403
    cooperating = api(world["stranger"]).post(f"/api/v1/items/{assigned.id}/actions/acknowledge")
    assert cooperating.status_code == 409 and error_of(cooperating)["code"] == "refused"
    done = api(world["head"]).post(f"/api/v1/items/{assigned.id}/actions/acknowledge")
    assert done.status_code == 200 and done.get_json()["status"] == "in_progress"
    again = api(world["head"]).post(f"/api/v1/items/{assigned.id}/actions/acknowledge")
    assert again.status_code == 409
    assert api(world["head"]).post(f"/api/v1/items/{assigned.id}/actions/explode").status_code == 404


def test_closing_needs_a_result_and_an_inspector(api, world, make):
    submitted = make.item(status=Status.SUBMITTED, lead_unit=world["own"], with_evidence=True,
                          submitted_at=clock.now())
    url = f"/api/v1/items/{submitted.id}/actions/close_item"
    missing = api(world["inspector"]).post(url, json={})
    assert missing.status_code == 422 and "result" in error_of(missing)["fields"]
    assert api(world["head"]).post(url, json={"result": "rectified"}).status_code == 403
    closed = api(world["inspector"]).post(url, json={"result": "rectified"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"


def test_units_and_evaluations_are_listed(api, world, make):
    make.finding()
    client = api(world["head"])
    assert {u["name"] for u in client.get("/api/v1/units").get_json()["units"]} == {"县教育局", "县财政局"}
    assert client.get("/api/v1/evaluations").get_json()["evaluations"][0]["year"] == 2019
    assert client.get("/api/v1/me").get_json()["unit"]["name"] == "县教育局"


# -- who may call -----------------------------------------------------------------

def test_without_a_token_the_api_answers_401(api, world):
    response = api(None).get("/api/v1/items")
    assert response.status_code == 401 and error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer", "Bearer rct_nonsense", "Basic YWRtaW46cGFzcw==", "Bearer " + "x" * 5000):
        assert api(None).get("/api/v1/items", headers={"Authorization": header}).status_code == 401


def test_a_browser_session_is_not_enough_for_the_api(login_as, world):
    browser = login_as(world["admin"])
    assert browser.get("/api/v1/items").status_code == 401


def test_revoked_expired_and_deactivated_tokens_stop_working(api, world, db):
    from tracker.api import tokens
    client = api(world["head"])
    assert client.get("/api/v1/me").status_code == 200
    token = tokens.tokens_of(world["head"])[0]
    tokens.revoke_token(world["head"], token.id)
    db.session.commit()
    assert client.get("/api/v1/me").status_code == 401

    expiring = api(world["head"], expires_on=clock.today() + dt.timedelta(days=1))
    assert expiring.get("/api/v1/me").status_code == 200
    clock.freeze(clock.today() + dt.timedelta(days=2))
    assert expiring.get("/api/v1/me").status_code == 401
    clock.freeze(clock.today() - dt.timedelta(days=2))

    fresh = api(world["head"])
    world["head"].active = False
    db.session.commit()
    assert fresh.get("/api/v1/me").status_code == 401


def test_api_responses_are_not_cached_and_carry_security_headers(api, world):
    response = api(world["head"]).get("/api/v1/items")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers


def test_the_list_reads_plain_rows_that_say_exactly_what_item_summary_says(db, make, today):
    """The list endpoint builds its summaries from plain columns; the item endpoints from the ORM.
    Both must agree on every key for every kind of item."""
    import datetime as dt

    from tracker.api import representations as rep
    from tracker.items.models import Item
    lead, partner, other = make.unit("县教育局"), make.unit("县财政局"), make.unit("县人社局")
    items = [make.item(lead_unit=lead, cooperating=[partner, other], owner=make.user(Role.HEAD, unit=lead),
                       listed_supervision=True),
             make.item(lead_unit=lead, deadline=today - dt.timedelta(days=3)),            # overdue, no owner
             make.item(status=Status.CLOSED, lead_unit=partner),
             make.item(status=Status.DRAFT, lead_unit=other)]
    ids = [items[2].id, items[0].id, items[3].id, items[1].id, 999999]               # order kept, unknown dropped
    expected = [rep.item_summary(db.session.get(Item, i), today) for i in ids[:-1]]
    assert rep.item_summaries(ids, today) == expected
    assert rep.item_summaries([], today) == []


def test_json_nested_thousands_deep_is_a_bad_request(api, make):
    item = make.item()
    admin = make.user(Role.ADMIN)
    body = "[" * 5000 + "]" * 5000
    response = api(admin).post(f"/api/v1/items/{item.id}/progress", data='{"note": ' + body + "}",
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
