"""Page numbers nobody types on purpose (30 digits, negative, words) show a page, never a 500."""
from __future__ import annotations

import pytest

from tracker.auth.models import Role

HUGE = "9" * 30


@pytest.mark.parametrize("url, shows", [
    ("/notifications", "Notifications"),
    ("/reminders/units/{unit}", "{unit_name}"),
    ("/admin/outbox", "Outbox"),
    ("/reports/", "Dashboard"),
])
@pytest.mark.parametrize("page", [HUGE, "-" + HUGE, "0", "abc"])
def test_a_page_number_past_any_integer_shows_a_page(login_as, make, url, shows, page):
    unit = make.unit("县教育局")
    admin = make.user(Role.ADMIN)
    url = url.format(unit=unit.id)
    response = login_as(admin).get(f"{url}?page={page}&lang=en")
    assert response.status_code == 200
    assert shows.format(unit_name=unit.name) in response.text
