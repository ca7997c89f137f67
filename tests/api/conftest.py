"""An API client that sends a personal token, each request in its own thread like a real one."""
from __future__ import annotations

import pytest

from tests.conftest import Browser


class ApiClient:
    def __init__(self, app, secret: str | None):
        self.client = app.test_client()
        self.secret = secret

    def _headers(self, kw) -> dict:
        headers = dict(kw.pop("headers", None) or {})
        if self.secret is not None:
            headers.setdefault("Authorization", f"Bearer {self.secret}")
        return headers

    def get(self, url, **kw):
        return Browser._isolated(self.client.get, url, headers=self._headers(kw), **kw)

    def post(self, url, **kw):
        return Browser._isolated(self.client.post, url, headers=self._headers(kw), **kw)


@pytest.fixture
def api(app, db, make):
    """api(user) -> an ApiClient holding a fresh token of that user; api(None) sends no token."""
    def _client(user, expires_on=None):
        if user is None:
            return ApiClient(app, None)
        return ApiClient(app, make.token(user, "test", expires_on))
    return _client
