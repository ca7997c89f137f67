"""Fuzzing the API from its own OpenAPI document (schemathesis): no server error, and every answer
has a status, content type and body that the document describes."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from tracker.auth.models import Role
from tracker.items.models import Status

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 15  # per operation and role: the whole run stays in seconds


@pytest.fixture
def secrets_by_role(make, db):
    """Tokens of an admin and of a head, with items in several states to find and change."""
    unit = make.unit(name="县教育局")
    head = make.user(Role.HEAD, unit=unit)
    for status in (Status.DRAFT, Status.ASSIGNED, Status.IN_PROGRESS, Status.SUBMITTED, Status.CLOSED):
        make.item(status=status, lead_unit=unit, owner=head, with_evidence=status == Status.SUBMITTED)
    make.item(status=Status.IN_PROGRESS)  # another unit's
    return {role: make.token(user, "fuzz") for role, user in (("admin", make.user(Role.ADMIN)), ("head", head))}


def test_the_document_is_served_and_valid_openapi(app, db):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /api/v1/items", "POST /api/v1/items/{item_id}/progress",
                                               "POST /api/v1/items/{item_id}/actions/{action}"}


@pytest.mark.parametrize("role", ["admin", "head"])
def test_fuzzed_requests_get_documented_answers(app, secrets_by_role, role):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {secrets_by_role[role]}"}
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        call()
