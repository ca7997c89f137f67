"""Every permission question, asked for every kind of person, with the answers written out by hand.

These are the answers the pages, the API and the actions box show: a link, a form or a button is
there exactly when the question says yes (tests/test_access_matrix.py checks the routes)."""
import pytest

from tracker.auth.models import Role
from tracker.items.models import Status

Y, N = True, False

ROLE_QUESTIONS = ("acts_for_unit", "can_administer", "can_read_everything", "can_decide", "can_work_on_items")
ROLE_ANSWERS = {
    #                 unit  admin  read all  decide  work on items
    Role.ADMIN:     (N,    Y,     Y,        Y,      Y),
    Role.INSPECTOR: (N,    N,     Y,        Y,      N),
    Role.LEADER:    (N,    N,     Y,        N,      N),
    Role.HEAD:      (Y,    N,     N,        N,      Y),
    Role.STAFF:     (Y,    N,     N,        N,      Y),
}


@pytest.mark.parametrize("role", list(Role))
def test_what_each_role_may_do_anywhere(role):
    assert {q: getattr(role, q)() for q in ROLE_QUESTIONS} == dict(zip(ROLE_QUESTIONS, ROLE_ANSWERS[role]))


ITEM_QUESTIONS = ("can_view", "can_edit", "can_post_progress", "can_attach_evidence", "can_complete_milestones",
                  "can_request_extension", "can_supervise", "can_recheck")
# Callers: (role, which unit they belong to); "lead" and "partner" are the item's lead and
# cooperating units, "other" a unit with nothing to do with the item.
ITEM_ANSWERS = {
    Status.IN_PROGRESS: {
        #                        view edit post attach milest. extens. superv. recheck
        (Role.ADMIN, None):      (Y,  Y,   Y,   Y,     Y,      Y,      Y,      N),
        (Role.INSPECTOR, None):  (Y,  N,   N,   N,     N,      N,      Y,      N),
        (Role.LEADER, None):     (Y,  N,   N,   N,     N,      N,      N,      N),
        (Role.HEAD, "lead"):     (Y,  N,   Y,   Y,     Y,      Y,      N,      N),
        (Role.STAFF, "lead"):    (Y,  N,   Y,   Y,     Y,      Y,      N,      N),
        (Role.HEAD, "partner"):  (Y,  N,   Y,   Y,     N,      N,      N,      N),
        (Role.STAFF, "partner"): (Y,  N,   Y,   Y,     N,      N,      N,      N),
        (Role.HEAD, "other"):    (N,  N,   N,   N,     N,      N,      N,      N),
        (Role.STAFF, "other"):   (N,  N,   N,   N,     N,      N,      N,      N),
    },
    Status.SUBMITTED: {  # waiting for a decision: no progress, but still open
        (Role.ADMIN, None):      (Y,  Y,   N,   Y,     Y,      Y,      Y,      N),
        (Role.INSPECTOR, None):  (Y,  N,   N,   N,     N,      N,      Y,      N),
        (Role.LEADER, None):     (Y,  N,   N,   N,     N,      N,      N,      N),
        (Role.HEAD, "lead"):     (Y,  N,   N,   Y,     Y,      Y,      N,      N),
        (Role.STAFF, "partner"): (Y,  N,   N,   Y,     N,      N,      N,      N),
        (Role.HEAD, "other"):    (N,  N,   N,   N,     N,      N,      N,      N),
    },
    Status.DRAFT: {  # the coordinator's until handed out: inspectors read it, units and leaders don't see it
        (Role.ADMIN, None):      (Y,  Y,   N,   Y,     Y,      N,      Y,      N),
        (Role.INSPECTOR, None):  (Y,  N,   N,   N,     N,      N,      Y,      N),
        (Role.LEADER, None):     (N,  N,   N,   N,     N,      N,      N,      N),
        (Role.HEAD, "lead"):     (N,  N,   N,   N,     N,      N,      N,      N),
        (Role.STAFF, "partner"): (N,  N,   N,   N,     N,      N,      N,      N),
    },
    Status.CLOSED: {
        (Role.ADMIN, None):      (Y,  N,   N,   N,     N,      N,      N,      Y),
        (Role.INSPECTOR, None):  (Y,  N,   N,   N,     N,      N,      N,      Y),
        (Role.LEADER, None):     (Y,  N,   N,   N,     N,      N,      N,      N),
        (Role.HEAD, "lead"):     (Y,  N,   N,   N,     N,      N,      N,      N),
        (Role.STAFF, "partner"): (Y,  N,   N,   N,     N,      N,      N,      N),
        (Role.HEAD, "other"):    (N,  N,   N,   N,     N,      N,      N,      N),
    },
}
CASES = [(status, role, unit) for status, rows in ITEM_ANSWERS.items() for role, unit in rows]


@pytest.mark.parametrize("status,role,unit", CASES, ids=[f"{s.value}-{r.value}-{u}" for s, r, u in CASES])
def test_what_each_person_may_do_on_an_item(make, status, role, unit):
    units = {"lead": make.unit("县教育局"), "partner": make.unit("县财政局"), "other": make.unit("县残联")}
    item = make.item(status=status, lead_unit=units["lead"], cooperating=[units["partner"]])
    user = make.user(role, unit=units[unit] if unit else None)
    answers = {q: getattr(item, q)(user) for q in ITEM_QUESTIONS}
    assert answers == dict(zip(ITEM_QUESTIONS, ITEM_ANSWERS[status][role, unit]))
