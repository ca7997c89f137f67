"""The API gives an item's parts and takes the same steps on them as the item page."""
import datetime as dt

from tests.helpers import ApiClient


def _api(app, make, user):
    return ApiClient(app, make.token(user))


def test_assign_with_lines_then_a_units_head_acknowledges_and_reports_through_the_api(app, make, crew, db):
    finance = crew.units[1]
    earlier = (crew.item.deadline - dt.timedelta(days=10)).isoformat()
    admin = _api(app, make, crew.admin)
    response = admin.post(f"/api/v1/items/{crew.item.id}/actions/assign",
                          json={"parts": {str(finance.id): {"request": "落实资金", "deadline": earlier}}})
    assert response.status_code == 200, response.json
    parts = {p["unit"]["name"]: p for p in response.json["parts"]}
    assert parts["县财政局"]["request"] == "落实资金" and parts["县财政局"]["deadline"] == earlier
    assert parts["县发改委"]["status"] == "pending"

    head = _api(app, make, crew.heads[1])
    seen = head.get(f"/api/v1/items/{crew.item.id}").json["parts"]
    assert [p["unit"]["name"] for p in seen] == ["县财政局"]  # only its own part
    assert seen[0]["actions"] == ["acknowledge"]
    part_id = seen[0]["id"]
    assert head.post(f"/api/v1/items/{crew.item.id}/parts/{part_id}/acknowledge").json["part"]["status"] == "in_progress"
    assert head.post(f"/api/v1/items/{crew.item.id}/parts/{part_id}/progress", json={"text": "资金已下达"}).status_code == 200
    response = head.post(f"/api/v1/items/{crew.item.id}/parts/{part_id}/done", json={"text": "资金已拨付到位"})
    assert response.json["part"]["status"] == "done" and response.json["part"]["statement"] == "资金已拨付到位"

    lead = _api(app, make, crew.lead_head)
    version = response.json["part"]["version"]
    stale = lead.post(f"/api/v1/items/{crew.item.id}/parts/{part_id}/return",
                      json={"text": "请补充拨付凭证", "version": version - 1})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "version_conflict"
    returned = lead.post(f"/api/v1/items/{crew.item.id}/parts/{part_id}/return",
                         json={"text": "请补充拨付凭证", "version": version})
    assert returned.json["part"]["status"] == "returned" and returned.json["part"]["return_reason"] == "请补充拨付凭证"


def test_a_late_line_is_422_and_a_guessed_part_is_404(app, make, crew, db):
    admin = _api(app, make, crew.admin)
    housing = crew.units[2]
    later = (crew.item.deadline + dt.timedelta(days=1)).isoformat()
    response = admin.post(f"/api/v1/items/{crew.item.id}/actions/assign",
                          json={"parts": {str(housing.id): {"deadline": later}}})
    assert response.status_code == 422
    assert "任务时限不得晚于事项的整改时限" in str(response.json["error"]["fields"])
    admin.post(f"/api/v1/items/{crew.item.id}/actions/assign")
    parts = {p["unit"]["name"]: p["id"] for p in admin.get(f"/api/v1/items/{crew.item.id}").json["parts"]}
    finance_head = _api(app, make, crew.heads[1])
    assert finance_head.post(f"/api/v1/items/{crew.item.id}/parts/{parts['县住建局']}/acknowledge").status_code == 404
    submit = _api(app, make, crew.lead_head).post(f"/api/v1/items/{crew.item.id}/actions/submit_for_closure")
    assert submit.status_code == 409 and submit.json["error"]["code"] == "refused"
