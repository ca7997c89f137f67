"""The `api` fixture: a client that sends a personal token (tests/helpers.py's ApiClient)."""
from __future__ import annotations

import pytest

from tests.helpers import ApiClient


@pytest.fixture
def api(app, db, make):
    """api(user) -> an ApiClient holding a fresh token of that user; api(None) sends no token."""
    def _client(user, expires_on=None):
        if user is None:
            return ApiClient(app, None)
        return ApiClient(app, make.token(user, "test", expires_on))
    return _client
