"""An item handed out to a lead unit with three cooperating units, each with a head; the lead
unit has a head and a staff member (all reading English unless a test says otherwise)."""
from types import SimpleNamespace

import pytest

from tracker.auth.models import Role
from tracker.items.models import Status


@pytest.fixture
def crew(make, login_as):
    lead = make.unit("县教育局")
    units = [make.unit(name) for name in ("县发改委", "县财政局", "县住建局")]
    lead_head = make.user(Role.HEAD, unit=lead, language="en", name="Lead Head")
    heads = [make.user(Role.HEAD, unit=u, language="en", name=f"Head of {u.code}") for u in units]
    item = make.item(status=Status.DRAFT, lead_unit=lead, cooperating=units, owner=lead_head,
                     title="建成特殊教育学校")
    admin = make.user(Role.ADMIN, language="en")
    return SimpleNamespace(lead=lead, units=units, lead_head=lead_head, heads=heads, item=item, admin=admin,
                           staff=make.user(Role.STAFF, unit=lead, language="en"),
                           inspector=make.user(Role.INSPECTOR, language="en"), login=login_as)


@pytest.fixture
def handed_out(crew):
    """The crew's item, handed out by the admin with the default lines and deadlines."""
    response = crew.login(crew.admin).post(f"/items/{crew.item.id}/actions/assign")
    assert response.status_code == 302, response.text
    return crew
